/**
 * Semantic versions as Flux reads image tags: Masterminds/semver v3 `StrictNewVersion` after
 * dropping one leading `v`. So a tag must be a full `X.Y.Z` (`1.2` and `1` are not versions,
 * `V1.2.3` is not either), without leading zeros in the numbers, with an optional
 * `-pre.release` and `+build` whose dot-separated identifiers are non-empty `[0-9A-Za-z-]`.
 * Numbers are unsigned 64-bit; they are kept as bigint so comparisons stay exact.
 */
export interface Version {
  major: bigint;
  minor: bigint;
  patch: bigint;
  /** Pre-release identifiers joined by dots, `''` for a release. */
  pre: string;
  /** Build metadata; ignored for ordering. */
  metadata: string;
  original: string;
}

export const MAX_UINT64 = (1n << 64n) - 1n;
/** Masterminds refuses longer version strings. */
const MAX_VERSION_LENGTH = 256;

const DIGITS = /^[0-9]*$/;
const IDENTIFIER = /^[0-9A-Za-z-]+$/;

export function parseTagVersion(tag: string): Version | undefined {
  if (tag.length > MAX_VERSION_LENGTH) return undefined;
  const text = tag.startsWith('v') ? tag.slice(1) : tag;
  if (text === '') return undefined;

  const first = text.indexOf('.');
  if (first < 0) return undefined;
  const second = text.indexOf('.', first + 1);
  if (second < 0) return undefined;
  const parts = [text.slice(0, first), text.slice(first + 1, second), text.slice(second + 1)] as [string, string, string];

  let metadata = '';
  const plus = parts[2].indexOf('+');
  if (plus >= 0) {
    metadata = parts[2].slice(plus + 1);
    parts[2] = parts[2].slice(0, plus);
    if (!validIdentifiers(metadata)) return undefined;
  }
  let pre = '';
  const dash = parts[2].indexOf('-');
  if (dash >= 0) {
    pre = parts[2].slice(dash + 1);
    parts[2] = parts[2].slice(0, dash);
    if (!validPrerelease(pre)) return undefined;
  }

  const numbers: bigint[] = [];
  for (const part of parts) {
    if (part === '' || !DIGITS.test(part) || (part.length > 1 && part[0] === '0')) return undefined;
    const value = BigInt(part);
    if (value > MAX_UINT64) return undefined;
    numbers.push(value);
  }
  const [major, minor, patch] = numbers as [bigint, bigint, bigint];
  return { major, minor, patch, pre, metadata, original: tag };
}

export function validIdentifiers(text: string): boolean {
  return text.split('.').every((part) => IDENTIFIER.test(part));
}

/** Identifiers as for metadata, and numeric ones without leading zeros. */
export function validPrerelease(text: string): boolean {
  return validIdentifiers(text) && text.split('.').every((part) => !(part.length > 1 && part[0] === '0' && DIGITS.test(part)));
}

/** Precedence: numbers, then a release above its pre-releases, then pre-release identifiers. */
export function compareVersions(a: Version, b: Version): number {
  for (const key of ['major', 'minor', 'patch'] as const) {
    if (a[key] !== b[key]) return a[key] < b[key] ? -1 : 1;
  }
  if (a.pre === b.pre) return 0;
  if (a.pre === '') return 1;
  if (b.pre === '') return -1;
  return comparePrerelease(a.pre, b.pre);
}

export function comparePrerelease(a: string, b: string): number {
  const left = a.split('.');
  const right = b.split('.');
  const n = Math.max(left.length, right.length);
  for (let i = 0; i < n; i++) {
    const order = compareIdentifier(left[i] ?? '', right[i] ?? '');
    if (order !== 0) return order;
  }
  return 0;
}

/**
 * A missing identifier ranks lowest (`1.0.0-rc` < `1.0.0-rc.1`); numbers rank below words and
 * compare by value; words compare by bytes. As in Masterminds, a digit string too large for 64
 * bits counts as a word.
 */
function compareIdentifier(a: string, b: string): number {
  if (a === b) return 0;
  if (a === '') return -1;
  if (b === '') return 1;
  const x = numericIdentifier(a);
  const y = numericIdentifier(b);
  if (x === undefined && y === undefined) return a < b ? -1 : 1;
  if (x === undefined) return 1;
  if (y === undefined) return -1;
  return x < y ? -1 : x > y ? 1 : 0;
}

function numericIdentifier(text: string): bigint | undefined {
  if (!/^[0-9]+$/.test(text)) return undefined;
  const value = BigInt(text);
  return value > MAX_UINT64 ? undefined : value;
}
