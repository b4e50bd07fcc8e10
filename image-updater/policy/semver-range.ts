import { terminal } from '../../shared/errors/index.ts';
import { comparePrerelease, compareVersions, MAX_UINT64, validPrerelease, type Version } from './semver-version.ts';

/**
 * Semver ranges with the meaning Masterminds/semver v3 (v3.4+) gives them, which is what Flux
 * users write. npm `semver` reads several of them differently, so the range is parsed and
 * evaluated here rather than handed to it:
 *
 * - `||` separates alternatives; inside one, comparators are separated by whitespace and/or a
 *   comma (both mean AND); whitespace may follow an operator (`>= 1.0, < 2.0`).
 * - Operators: `=` (or none), `!=`, `>`, `<`, `>=` (`=>`), `<=` (`=<`), `~` (`~>`), `^`.
 * - Partial versions and wildcards: `1`, `1.2`, `1.x`, `1.2.*`, `*`, `x`; `v` prefixes.
 * - Hyphen ranges `1.2 - 1.4.5` (spaces around the hyphen) mean `>= 1.2, <= 1.4.5`.
 * - Pre-releases: a pre-release version satisfies an alternative only if some comparator of
 *   that same alternative carries a pre-release (`>=1.0.0-0 <2.0.0` admits `1.1.0-rc.1`; npm
 *   would not). Then it is compared by plain precedence.
 * - Partial versions keep Masterminds' quirks: `<=1.2` admits every 1.2.x, `>1.2` means 1.3.0 or
 *   later, `<1.2` means below 1.2.0, `^0.0` means `<0.1.0`, and leading zeros are tolerated.
 */
export interface SemverRange {
  source: string;
  alternatives: Alternative[];
}

interface Alternative {
  comparators: Comparator[];
  /** Some comparator names a pre-release, so pre-release versions are considered. */
  includePrerelease: boolean;
}

type Operator = '' | '=' | '!=' | '>' | '<' | '>=' | '=>' | '<=' | '=<' | '~' | '~>' | '^';

interface Comparator {
  operator: Operator;
  written: string;
  version: Version;
  /** Some part is missing or a wildcard. */
  dirty: boolean;
  /** The minor part is missing or a wildcard (`1`, `1.x`). */
  minorDirty: boolean;
  /** The patch part is missing or a wildcard (`1.2`, `1.2.x`). */
  patchDirty: boolean;
}

const MAX_RANGE_LENGTH = 512;
const MAX_ALTERNATIVES = 32;
const MAX_VERSION_LENGTH = 256;

const TWO_CHAR_OPERATORS = new Set(['!=', '>=', '=>', '<=', '=<', '~>']);
const ONE_CHAR_OPERATORS = new Set(['=', '>', '<', '~', '^']);
/** Characters of a version part in a range; `|` is Masterminds' own quirk and fails later. */
const PART_CHAR = /[0-9xX*|]/;
const IDENTIFIER_CHAR = /[0-9A-Za-z-]/;
/** Go's `\s`: no vertical tab, no Unicode spaces. */
const SPACE = /[\t\n\f\r ]/;

const SPACES = '[\\t\\n\\f\\r ]';
const RANGE_VERSION =
  'v?([0-9|x|X|\\*]+)(\\.[0-9|x|X|\\*]+)?(\\.[0-9|x|X|\\*]+)?' +
  '(-([0-9A-Za-z\\-]+(\\.[0-9A-Za-z\\-]+)*))?' +
  '(\\+([0-9A-Za-z\\-]+(\\.[0-9A-Za-z\\-]+)*))?';
const HYPHEN_RANGE = new RegExp(`${SPACES}*(${RANGE_VERSION})${SPACES}+-${SPACES}+(${RANGE_VERSION})${SPACES}*`, 'g');

class RangeSyntaxError extends Error {}

/** Throws a terminal InvalidSemverRange error naming the part that does not parse. */
export function parseSemverRange(source: string): SemverRange {
  try {
    return { source, alternatives: parseAlternatives(source) };
  } catch (err) {
    if (!(err instanceof RangeSyntaxError)) throw err;
    throw terminal(
      'InvalidSemverRange',
      `policy.semver.range ${JSON.stringify(source)} is not a valid range: ${err.message}`,
      'write ranges as for Flux (Masterminds/semver): ">=1.0.0 <2.0.0", ">= 1.0, < 2.0", "^1.2", "~1.2.3", "1.x", "*", "1.2 - 1.4.5", "!=1.3.0", alternatives joined by ||',
    );
  }
}

export function satisfies(range: SemverRange, version: Version): boolean {
  return range.alternatives.some((alternative) =>
    alternative.comparators.every((comparator) => check(comparator, version, alternative.includePrerelease)),
  );
}

function parseAlternatives(source: string): Alternative[] {
  if (source.length > MAX_RANGE_LENGTH) throw new RangeSyntaxError(`longer than ${MAX_RANGE_LENGTH} characters`);
  const groups = rewriteHyphenRanges(source).split('||');
  if (groups.length > MAX_ALTERNATIVES) throw new RangeSyntaxError(`more than ${MAX_ALTERNATIVES} alternatives`);
  return groups.map((group) => {
    const comparators = parseGroup(group);
    return { comparators, includePrerelease: comparators.some((c) => c.version.pre !== '') };
  });
}

/** `1.2 - 1.4.5` → `>= 1.2, <= 1.4.5 `, replacing each matched text once, as Masterminds does. */
export function rewriteHyphenRanges(source: string): string {
  if (!source.includes('-')) return source;
  let out = source;
  for (const match of source.matchAll(HYPHEN_RANGE)) {
    const replacement = `>= ${match[1]}, <= ${match[11]} `;
    const at = out.indexOf(match[0]);
    if (at >= 0) out = out.slice(0, at) + replacement + out.slice(at + match[0].length);
  }
  return out;
}

function parseGroup(group: string): Comparator[] {
  let rest = skipSpace(group);
  if (rest === '') throw new RangeSyntaxError(group === '' ? 'empty alternative' : `empty alternative ${JSON.stringify(group)}`);
  const comparators: Comparator[] = [];
  for (;;) {
    const { comparator, after } = scanComparator(rest);
    comparators.push(comparator);
    let next = skipSpace(after);
    if (next === '') return comparators;
    if (next.startsWith(',')) {
      next = skipSpace(next.slice(1));
      if (next === '') throw new RangeSyntaxError(`trailing comma after ${JSON.stringify(comparator.written)}`);
    } else if (next.length === after.length) {
      throw new RangeSyntaxError(
        `unexpected ${JSON.stringify(next)} after ${JSON.stringify(comparator.written)} (separate comparators with a space or a comma)`,
      );
    }
    rest = next;
  }
}

function scanComparator(text: string): { comparator: Comparator; after: string } {
  const operator = (
    TWO_CHAR_OPERATORS.has(text.slice(0, 2)) ? text.slice(0, 2) : ONE_CHAR_OPERATORS.has(text.slice(0, 1)) ? text.slice(0, 1) : ''
  ) as Operator;
  const rest = skipSpace(text.slice(operator.length));

  let i = rest.startsWith('v') ? 1 : 0;
  const parts: string[] = [];
  for (;;) {
    const start = i;
    while (i < rest.length && PART_CHAR.test(rest[i] as string)) i++;
    if (i === start) {
      throw new RangeSyntaxError(`expected a version in ${JSON.stringify(text.split(/[\t\n\f\r ,]/)[0] || text)}`);
    }
    parts.push(rest.slice(start, i));
    if (parts.length === 3 || rest[i] !== '.' || !PART_CHAR.test(rest[i + 1] ?? '')) break;
    i++;
  }
  let pre = '';
  if (rest[i] === '-') {
    const end = scanIdentifiers(rest, i + 1);
    if (end > i + 1) {
      pre = rest.slice(i + 1, end);
      i = end;
    }
  }
  let metadata = '';
  if (rest[i] === '+') {
    const end = scanIdentifiers(rest, i + 1);
    if (end > i + 1) {
      metadata = rest.slice(i + 1, end);
      i = end;
    }
  }
  const written = rest.slice(0, i);
  return { comparator: buildComparator(operator, written, parts, pre, metadata), after: rest.slice(i) };
}

function scanIdentifiers(text: string, from: number): number {
  let end = from;
  for (;;) {
    const start = end;
    while (end < text.length && IDENTIFIER_CHAR.test(text[end] as string)) end++;
    if (end === start) return start;
    if (text[end] === '.' && IDENTIFIER_CHAR.test(text[end + 1] ?? '')) {
      end++;
      continue;
    }
    return end;
  }
}

function buildComparator(operator: Operator, written: string, parts: string[], pre: string, metadata: string): Comparator {
  const version: Version = { major: 0n, minor: 0n, patch: 0n, pre, metadata: '', original: written };
  const comparator: Comparator = {
    operator,
    written: `${operator}${written}`,
    version,
    dirty: false,
    minorDirty: false,
    patchDirty: false,
  };
  let length = 5 + (pre === '' ? 0 : pre.length + 1);
  const [major = '', minor = '', patch = ''] = parts;
  if (isWildcard(major)) {
    comparator.dirty = true;
  } else if (parts.length < 2 || isWildcard(minor)) {
    comparator.dirty = comparator.minorDirty = true;
    length += major.length - 1;
    version.major = number(major, comparator);
  } else if (parts.length < 3 || isWildcard(patch)) {
    comparator.dirty = comparator.patchDirty = true;
    length += major.length + minor.length - 2;
    version.major = number(major, comparator);
    version.minor = number(minor, comparator);
  } else {
    version.metadata = metadata;
    length = written.length;
    version.major = number(major, comparator);
    version.minor = number(minor, comparator);
    version.patch = number(patch, comparator);
  }
  if (length > MAX_VERSION_LENGTH) throw new RangeSyntaxError(`version in ${JSON.stringify(comparator.written)} is too long`);
  if (pre !== '' && !validPrerelease(pre)) {
    throw new RangeSyntaxError(
      `pre-release ${JSON.stringify(pre)} in ${JSON.stringify(comparator.written)} has a numeric identifier with a leading zero`,
    );
  }
  return comparator;
}

function isWildcard(part: string): boolean {
  return part === 'x' || part === 'X' || part === '*';
}

/** Leading zeros are tolerated in ranges (Masterminds coerces them); the value must fit 64 bits. */
function number(part: string, comparator: Comparator): bigint {
  if (!/^[0-9]+$/.test(part)) {
    throw new RangeSyntaxError(
      `${JSON.stringify(part)} in ${JSON.stringify(comparator.written)} is neither a number nor a wildcard (x, X, *)`,
    );
  }
  const value = BigInt(part);
  if (value > MAX_UINT64) throw new RangeSyntaxError(`${part} in ${JSON.stringify(comparator.written)} does not fit 64 bits`);
  return value;
}

function skipSpace(text: string): string {
  let i = 0;
  while (i < text.length && SPACE.test(text[i] as string)) i++;
  return text.slice(i);
}

function check(c: Comparator, v: Version, includePrerelease: boolean): boolean {
  if (v.pre !== '' && !includePrerelease) return false;
  const con = c.version;
  switch (c.operator) {
    case '':
    case '=':
      return c.dirty ? tilde(c, v) : compareVersions(v, con) === 0;
    case '!=':
      return notEqual(c, v);
    case '>':
      return greaterThan(c, v);
    case '<':
      return compareVersions(v, con) < 0;
    case '>=':
    case '=>':
      return compareVersions(v, con) >= 0;
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
    if (con.minor !== v.minor && !c.minorDirty) return true;
    if (c.minorDirty) return false;
    if (con.patch !== v.patch && !c.patchDirty) return true;
    if (c.patchDirty) {
      // Same major.minor: differ only if the pre-releases differ.
      return (v.pre !== '' || con.pre !== '') && comparePrerelease(v.pre, con.pre) !== 0;
    }
  }
  return compareVersions(v, con) !== 0;
}

function greaterThan(c: Comparator, v: Version): boolean {
  const con = c.version;
  if (!c.dirty) return compareVersions(v, con) > 0;
  if (v.major > con.major) return true;
  if (v.major < con.major) return false;
  if (c.minorDirty) return false;
  if (c.patchDirty) return v.minor > con.minor;
  return compareVersions(v, con) > 0;
}

function lessThanOrEqual(c: Comparator, v: Version): boolean {
  const con = c.version;
  if (!c.dirty) return compareVersions(v, con) <= 0;
  if (v.major > con.major) return false;
  if (v.major === con.major && v.minor > con.minor && !c.minorDirty) return false;
  return true;
}

function tilde(c: Comparator, v: Version): boolean {
  const con = c.version;
  if (compareVersions(v, con) < 0) return false;
  if (con.major === 0n && con.minor === 0n && con.patch === 0n && !c.minorDirty && !c.patchDirty) return true;
  if (v.major !== con.major) return false;
  if (v.minor !== con.minor && !c.minorDirty) return false;
  return true;
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
