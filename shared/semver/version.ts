import { metadataProblem, prereleaseProblem } from './identifiers.ts';

/**
 * A semantic version as Masterminds/semver v3 holds it. The numbers are unsigned 64-bit in Go,
 * so they are bigints here: comparisons stay exact past 2^53.
 */
export interface Version {
  major: bigint;
  minor: bigint;
  patch: bigint;
  /** Pre-release identifiers joined by dots; `''` for a release. */
  prerelease: string;
  /** Build metadata; ignored for precedence. */
  metadata: string;
  /** The text as given, `v` included: what a caller reports back (a tag as the registry lists it). */
  original: string;
}

export const MAX_UINT64 = (1n << 64n) - 1n;

const DIGITS = /^[0-9]*$/;

/**
 * A tag read as Flux reads tags (fluxcd/pkg/version.ParseVersion, used by image-reflector-
 * controller and source-controller): one leading lowercase `v` dropped, then Masterminds'
 * StrictNewVersion. So `1.2.3`, `v1.2.3-rc.1+b.5` are versions; `1.2`, `V1.2.3`, `01.2.3`,
 * `1.2.3-01`, `latest` are not, and are skipped by the callers rather than reported.
 */
export function parseTagVersion(tag: string): Version | undefined {
  const version = parseStrictVersion(tag.startsWith('v') ? tag.slice(1) : tag);
  return version && { ...version, original: tag };
}

/**
 * Masterminds' StrictNewVersion: `X.Y.Z` without leading zeros, then an optional `-pre` and
 * `+metadata`. Like Go's `strings.SplitN(v, ".", 3)`, the third part holds the rest, so the
 * metadata is split off before the pre-release.
 */
export function parseStrictVersion(text: string): Version | undefined {
  const first = text.indexOf('.');
  const second = first < 0 ? -1 : text.indexOf('.', first + 1);
  if (second < 0) return undefined;
  let patchPart = text.slice(second + 1);
  let metadata = '';
  const plus = patchPart.indexOf('+');
  if (plus >= 0) {
    metadata = patchPart.slice(plus + 1);
    patchPart = patchPart.slice(0, plus);
    if (metadataProblem(metadata) !== undefined) return undefined;
  }
  let prerelease = '';
  const dash = patchPart.indexOf('-');
  if (dash >= 0) {
    prerelease = patchPart.slice(dash + 1);
    patchPart = patchPart.slice(0, dash);
    if (prereleaseProblem(prerelease) !== undefined) return undefined;
  }
  const numbers: bigint[] = [];
  for (const part of [text.slice(0, first), text.slice(first + 1, second), patchPart]) {
    if (!DIGITS.test(part) || (part.length > 1 && part.startsWith('0'))) return undefined;
    const value = uint64(part);
    if (value === undefined) return undefined;
    numbers.push(value);
  }
  const [major, minor, patch] = numbers as [bigint, bigint, bigint];
  return { major, minor, patch, prerelease, metadata, original: text };
}

// Masterminds' looseSemVerRegex. Linear in JavaScript too: the groups cannot trade characters
// (dots and the - and + that open a part are the only boundaries).
const LOOSE =
  /^v?([0-9]+)(?:\.([0-9]+))?(?:\.([0-9]+))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

/**
 * Masterminds' NewVersion (with CoerceNewVersion, the v3.4 default): partial versions (`1`,
 * `1.2`), leading zeros and a `v` are accepted. This is how the versions inside a range are
 * read; tags are not read this way in Flux (use parseTagVersion).
 */
export function parseVersion(text: string): Version | undefined {
  const m = LOOSE.exec(text);
  if (!m) return undefined;
  const major = uint64(m[1] ?? '');
  const minor = m[2] === undefined ? 0n : uint64(m[2]);
  const patch = m[3] === undefined ? 0n : uint64(m[3]);
  if (major === undefined || minor === undefined || patch === undefined) return undefined;
  const prerelease = m[4] ?? '';
  if (prerelease !== '' && prereleaseProblem(prerelease) !== undefined) return undefined;
  return { major, minor, patch, prerelease, metadata: m[5] ?? '', original: text };
}

/** Go's strconv.ParseUint(text, 10, 64): digits only, at most 2^64 - 1. */
export function uint64(text: string): bigint | undefined {
  if (text === '' || !DIGITS.test(text)) return undefined;
  const value = BigInt(text);
  return value > MAX_UINT64 ? undefined : value;
}
