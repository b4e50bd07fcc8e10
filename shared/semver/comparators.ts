import { comparePrerelease, compareVersions } from './compare.ts';
import type { Version } from './version.ts';

export type Operator = '' | '=' | '!=' | '>' | '<' | '>=' | '=>' | '<=' | '=<' | '~' | '~>' | '^';

export const OPERATORS: ReadonlySet<string> = new Set<Operator>(['', '=', '!=', '>', '<', '>=', '=>', '<=', '=<', '~', '~>', '^']);

/** One comparator of a range, as Masterminds' parseConstraint leaves it. */
export interface Comparator {
  operator: Operator;
  /** The operator and version as written, for messages. */
  written: string;
  /** The version with wildcards and missing parts as 0 (`1.x` → 1.0.0). */
  version: Version;
  /** Some part is a wildcard or missing. */
  dirty: boolean;
  /** The minor part is a wildcard or missing (`1`, `1.x`). */
  minorDirty: boolean;
  /** The patch part is a wildcard or missing (`1.2`, `1.2.x`). */
  patchDirty: boolean;
}

/**
 * Masterminds v3.4's constraint functions. `includePrerelease` is decided per `||` group (some
 * comparator of the group names a pre-release): without it no pre-release version passes any
 * comparator. Partial versions keep Masterminds' meaning: `<=1.2` admits every 1.2.x, `>1.2`
 * starts at 1.3.0, `=1.2` is `~1.2`, `^0.0` is below 0.1.0, `~0.0.0` is anything.
 */
export function admits(c: Comparator, v: Version, includePrerelease: boolean): boolean {
  if (v.prerelease !== '' && !includePrerelease) return false;
  switch (c.operator) {
    case '':
    case '=':
      return c.dirty ? tilde(c, v) : compareVersions(v, c.version) === 0;
    case '!=':
      return notEqual(c, v);
    case '>':
      return greaterThan(c, v);
    case '<':
      return compareVersions(v, c.version) < 0;
    case '>=':
    case '=>':
      return compareVersions(v, c.version) >= 0;
    case '<=':
    case '=<':
      return lessThanOrEqual(c, v);
    case '~':
    case '~>':
      return tilde(c, v);
    case '^':
      return caret(c, v);
  }
}

function notEqual(c: Comparator, v: Version): boolean {
  const con = c.version;
  if (c.dirty) {
    if (con.major !== v.major) return true;
    if (c.minorDirty) return false;
    if (con.minor !== v.minor) return true;
    if (!c.patchDirty && con.patch !== v.patch) return true;
    if (c.patchDirty) {
      // Same major.minor: the versions differ only through their pre-releases.
      return (v.prerelease !== '' || con.prerelease !== '') && comparePrerelease(v.prerelease, con.prerelease) !== 0;
    }
  }
  return compareVersions(v, con) !== 0;
}

function greaterThan(c: Comparator, v: Version): boolean {
  const con = c.version;
  if (!c.dirty) return compareVersions(v, con) > 0;
  if (v.major !== con.major) return v.major > con.major;
  // `>11` needs 12 or higher; `>11.1` needs 11.2 or higher.
  if (c.minorDirty) return false;
  if (c.patchDirty) return v.minor > con.minor;
  return compareVersions(v, con) > 0;
}

function lessThanOrEqual(c: Comparator, v: Version): boolean {
  const con = c.version;
  if (!c.dirty) return compareVersions(v, con) <= 0;
  if (v.major > con.major) return false;
  return !(v.major === con.major && v.minor > con.minor && !c.minorDirty);
}

function tilde(c: Comparator, v: Version): boolean {
  const con = c.version;
  if (compareVersions(v, con) < 0) return false;
  // ~0.0.0 (written in full) admits everything at or above it.
  if (con.major === 0n && con.minor === 0n && con.patch === 0n && !c.minorDirty && !c.patchDirty) return true;
  if (v.major !== con.major) return false;
  return v.minor === con.minor || c.minorDirty;
}

function caret(c: Comparator, v: Version): boolean {
  const con = c.version;
  if (compareVersions(v, con) < 0) return false;
  if (con.major > 0n || c.minorDirty) return v.major === con.major;
  if (v.major > 0n) return false;
  if (con.minor > 0n || c.patchDirty) return v.minor === con.minor;
  if (v.minor > 0n) return false;
  return v.patch === con.patch;
}
