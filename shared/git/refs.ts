import semver from 'semver';
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

const PART = '(?:0|[1-9]\\d*|[xX*])';
const RANGE_TOKEN = new RegExp(`^(?:\\^|~>?|[<>]=?|=)?[vV]?${PART}(?:\\.${PART}){0,2}(?:-[0-9A-Za-z.-]+)?(?:\\+[0-9A-Za-z.-]+)?$`);

/**
 * Compiles a version range once, as a list of `||` groups. npm's `semver` is used for parsing, but
 * pre-releases follow Masterminds' rule (what Flux users expect): a group admits pre-releases when
 * any of its comparators names one, so `>=1.0.0-0` matches `1.1.0-rc.1`.
 */
export function compileSemverRange(written: string): (version: semver.SemVer) => boolean {
  // Masterminds reads a comma as AND, which npm does not know.
  const range = written.replace(/,/g, ' ').replace(/\|\|/g, ' || ').trim();
  const invalid = () =>
    invalidSpec(`invalid semver range ${JSON.stringify(written)}`, 'use a range such as ">=1.0.0 <2.0.0", "^1.2" or "1.x"');
  // npm's parser drops what it does not understand (`>=1 <<2` parses as `>=1`): check tokens first.
  const tokens = range
    .replace(/([<>=~^]+)\s+/g, '$1')
    .split(/\s+/)
    .filter(Boolean);
  if (tokens.length === 0 || !tokens.every((t) => t === '||' || t === '-' || RANGE_TOKEN.test(t))) throw invalid();
  if (semver.validRange(range, { loose: true }) === null) throw invalid();
  // Decided on the text as written: npm rewrites `<2` to `<2.0.0-0`, which must not count.
  const groups = range.split('||').map((text) => {
    const includePrerelease = /\d-[0-9A-Za-z]/.test(text);
    try {
      return new semver.Range(text.trim() || '*', { loose: true, includePrerelease });
    } catch {
      throw invalid();
    }
  });
  return (version) => groups.some((g) => g.test(version));
}

/**
 * The newest tag whose name is a version inside the range. Tags that are not versions are ignored;
 * an optional `v` prefix is accepted. Ties (`v1.2.0` and `1.2.0`) go to the name that sorts last,
 * so the pick is deterministic.
 */
export function pickSemverTag(tags: readonly string[], range: string): string | undefined {
  const matches = compileSemverRange(range);
  let best: { tag: string; version: semver.SemVer } | undefined;
  for (const tag of tags) {
    const version = parseTagVersion(tag);
    if (!version || !matches(version)) continue;
    if (!best) {
      best = { tag, version };
      continue;
    }
    const order = version.compare(best.version) || version.compareBuild(best.version);
    if (order > 0 || (order === 0 && tag > best.tag)) best = { tag, version };
  }
  return best?.tag;
}

/** A full `X.Y.Z` version with an optional `v`; `1.2` is not a version (as in Flux). */
export function parseTagVersion(tag: string): semver.SemVer | undefined {
  const text = tag.startsWith('v') || tag.startsWith('V') ? tag.slice(1) : tag;
  if (!/^\d+\.\d+\.\d+/.test(text)) return undefined;
  const valid = semver.valid(text);
  return valid === null ? undefined : new semver.SemVer(text);
}
