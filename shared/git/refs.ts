import { isTidemarkError } from '../errors/index.ts';
import { compareVersions, parseRange, parseTagVersion, satisfies, type SemverRange, type Version } from '../semver/index.ts';
import { GitErrorCode, gitError, invalidSpec } from './errors.ts';

export interface RemoteRef {
  name: string;
  sha: string;
}

export interface RemoteRefs {
  /** Ref name → sha as advertised (an annotated tag's own object). */
  refs: Map<string, string>;
  /** Tag ref name → the commit it peels to, when the server listed `^{}`. */
  peeled: Map<string, string>;
  /** What HEAD points at, when asked for with --symref. */
  headTarget?: string;
}

const LINE = /^([0-9a-f]{40}|[0-9a-f]{64})\t(\S+)$/;
const SYMREF = /^ref: (\S+)\t(\S+)$/;

/** Parses `git ls-remote [--symref]` output; unrecognised lines are ignored, not trusted. */
export function parseLsRemote(stdout: string): RemoteRefs {
  const refs = new Map<string, string>();
  const peeled = new Map<string, string>();
  let headTarget: string | undefined;
  for (const raw of stdout.split('\n')) {
    const line = raw.trimEnd();
    const sym = SYMREF.exec(line);
    if (sym) {
      if (sym[2] === 'HEAD') headTarget = sym[1];
      continue;
    }
    const m = LINE.exec(line);
    if (!m) continue;
    const sha = m[1] as string;
    const name = m[2] as string;
    if (name.endsWith('^{}')) peeled.set(name.slice(0, -3), sha);
    else refs.set(name, sha);
  }
  return headTarget === undefined ? { refs, peeled } : { refs, peeled, headTarget };
}

/** The commit a ref points at; annotated tags resolve to their peeled commit. */
export function commitOf(remote: RemoteRefs, refName: string): string | undefined {
  return remote.peeled.get(refName) ?? remote.refs.get(refName);
}

export function requireRef(remote: RemoteRefs, refName: string, what: string): string {
  const sha = commitOf(remote, refName);
  if (!sha) throw gitError(GitErrorCode.RefNotFound, `${what} not found in the repository`, 'check the branch or tag name');
  return sha;
}

export function tagNames(remote: RemoteRefs): string[] {
  const names: string[] = [];
  for (const name of remote.refs.keys()) if (name.startsWith('refs/tags/')) names.push(name.slice('refs/tags/'.length));
  return names;
}

/**
 * Compiles `spec.git.semver` with Flux's meaning (shared/semver: Masterminds/semver, as
 * source-controller reads GitRepository `ref.semver`). A range that does not parse is a
 * GitInvalidSpec error that names the field and what is wrong with it.
 */
export function compileSemverRange(written: string): SemverRange {
  try {
    return parseRange(written, 'spec.git.semver');
  } catch (err) {
    if (isTidemarkError(err) && err.code === 'InvalidSemverRange') throw invalidSpec(err.message, err.hint);
    throw err;
  }
}

/**
 * The newest tag whose name is a version inside the range. Names are read as Flux reads tags
 * (a full `X.Y.Z` with one optional lowercase `v`); other tags are ignored. Ties (`v1.2.0` and
 * `1.2.0`, or builds differing only in metadata) go to the name that sorts last, so the pick does
 * not depend on the order the server listed them in; such names are ASCII, where JavaScript's
 * string order is byte order.
 */
export function pickSemverTag(tags: readonly string[], range: string): string | undefined {
  const compiled = compileSemverRange(range);
  let best: Version | undefined;
  for (const tag of tags) {
    const version = parseTagVersion(tag);
    if (!version || !satisfies(compiled, version)) continue;
    const order = best ? compareVersions(version, best) : 1;
    if (order > 0 || (order === 0 && best && tag > best.original)) best = version;
  }
  return best?.original;
}
