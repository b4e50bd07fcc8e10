import { uint64, type Version } from './version.ts';

/**
 * Masterminds' Version.Compare: major, minor, patch, then a release above its pre-releases, then
 * the pre-release identifiers. Build metadata and the `v` do not count, so `v1.0.0` and
 * `1.0.0+b.7` are equal.
 */
export function compareVersions(a: Version, b: Version): -1 | 0 | 1 {
  for (const key of ['major', 'minor', 'patch'] as const) {
    if (a[key] !== b[key]) return a[key] < b[key] ? -1 : 1;
  }
  if (a.prerelease === '' && b.prerelease === '') return 0;
  if (a.prerelease === '') return 1;
  if (b.prerelease === '') return -1;
  return comparePrerelease(a.prerelease, b.prerelease);
}

/** Identifier by identifier; a missing one ranks lowest (`rc` < `rc.1`). */
export function comparePrerelease(a: string, b: string): -1 | 0 | 1 {
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
 * Numbers rank below words and compare by value; words compare by bytes (identifiers are ASCII,
 * where JavaScript's order is byte order). A digit string too large for 64 bits is a word, as
 * in Masterminds (it asks strconv.ParseUint).
 */
function compareIdentifier(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  if (a === '') return -1;
  if (b === '') return 1;
  const x = uint64(a);
  const y = uint64(b);
  if (x === undefined && y === undefined) return a > b ? 1 : -1;
  if (x === undefined) return 1;
  if (y === undefined) return -1;
  return x > y ? 1 : -1;
}
