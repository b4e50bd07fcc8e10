import { OPERATORS, type Comparator, type Operator } from './comparators.ts';
import { prereleaseProblem } from './identifiers.ts';
import { MAX_UINT64 } from './version.ts';

/** Why a range does not parse; parseRange turns it into a terminal error naming the field. */
export class RangeSyntaxError extends Error {}

/*
 * Masterminds checks each `||` alternative against a regular expression, finds the comparators
 * in it with a second one and parses each with a third. That grammar is deterministic when read
 * left to right (no part of a comparator can be read as part of its neighbour), so this scanner
 * accepts exactly what the three accept, in one linear pass, and can say where it stopped.
 * JavaScript's backtracking engine would go exponential on the regular expressions themselves.
 *
 *   alternative = blank* comparator (separator comparator)* blank*
 *   separator   = blank+ | blank* "," blank*
 *   comparator  = operator blank* version
 *   version     = "v"? part ("." part){0,2} ("-" identifiers)? ("+" identifiers)?
 *   part        = [0-9xX*|]+          (the "|" is Masterminds' own quirk; it fails later)
 */

const BLANK = new Set(['\t', '\n', '\f', '\r', ' ']);
const OPERATOR_CHARS = new Set(['=', '!', '<', '>', '~', '^']);
const PART_CHAR = /^[0-9xX*|]$/;
const IDENTIFIER_CHAR = /^[0-9A-Za-z-]$/;

export function isBlank(text: string): boolean {
  return skipBlank(text, 0) === text.length;
}

/** The comparators of one `||` alternative (after the hyphen-range rewrite). */
export function scanAlternative(text: string): Comparator[] {
  let at = skipBlank(text, 0);
  if (at === text.length) throw new RangeSyntaxError('an alternative beside "||" is empty');
  const comparators: Comparator[] = [];
  for (;;) {
    const { comparator, end } = scanComparator(text, at);
    comparators.push(comparator);
    const next = skipBlank(text, end);
    if (next === text.length) return comparators;
    if (text[next] === ',') {
      at = skipBlank(text, next + 1);
      if (at === text.length) throw new RangeSyntaxError(`a comma ends ${JSON.stringify(text.trim())}`);
      continue;
    }
    if (next === end) {
      const after = `unexpected ${JSON.stringify(word(text, end))} after ${JSON.stringify(comparator.written)}`;
      throw new RangeSyntaxError(`${after} (separate comparators with a space or a comma)`);
    }
    at = next;
  }
}

function scanComparator(text: string, start: number): { comparator: Comparator; end: number } {
  let at = start;
  while (at < text.length && OPERATOR_CHARS.has(text[at] as string)) at++;
  const operator = text.slice(start, at);
  if (!OPERATORS.has(operator)) {
    throw new RangeSyntaxError(
      `unknown operator ${JSON.stringify(operator)} in ${JSON.stringify(word(text, start))} (use =, !=, >, <, >=, <=, ~, ~>, ^)`,
    );
  }
  at = skipBlank(text, at);
  const versionStart = at;
  if (text[at] === 'v') at++;
  const parts: string[] = [];
  for (;;) {
    const partStart = at;
    while (at < text.length && PART_CHAR.test(text[at] as string)) at++;
    if (at === partStart) {
      const what =
        operator === '' ? JSON.stringify(word(text, start)) : `${JSON.stringify(word(text, start))} after ${JSON.stringify(operator)}`;
      throw new RangeSyntaxError(`expected a version in ${what}`);
    }
    parts.push(text.slice(partStart, at));
    if (parts.length === 3 || text[at] !== '.' || !PART_CHAR.test(text[at + 1] ?? '')) break;
    at++;
  }
  let prerelease = '';
  if (text[at] === '-' && IDENTIFIER_CHAR.test(text[at + 1] ?? '')) {
    const end = scanIdentifiers(text, at + 1);
    prerelease = text.slice(at + 1, end);
    at = end;
  }
  let metadata = '';
  if (text[at] === '+' && IDENTIFIER_CHAR.test(text[at + 1] ?? '')) {
    const end = scanIdentifiers(text, at + 1);
    metadata = text.slice(at + 1, end);
    at = end;
  }
  const version = { text: text.slice(versionStart, at), parts, prerelease, metadata };
  return { comparator: buildComparator(operator as Operator, text.slice(start, at), version), end: at };
}

interface ScannedVersion {
  text: string;
  /** One to three parts: numbers, wildcards, or anything of `[0-9xX*|]` (checked later). */
  parts: string[];
  prerelease: string;
  metadata: string;
}

/** Dot-separated `[0-9A-Za-z-]+` identifiers from `from` (which holds an identifier character). */
function scanIdentifiers(text: string, from: number): number {
  let at = from;
  for (;;) {
    while (at < text.length && IDENTIFIER_CHAR.test(text[at] as string)) at++;
    if (text[at] !== '.' || !IDENTIFIER_CHAR.test(text[at + 1] ?? '')) return at;
    at++;
  }
}

/**
 * Masterminds' parseConstraint: the first wildcard or missing part makes the comparator dirty
 * from there on, and whatever follows it is not read at all (`1.x.5` is `1.x`); the parts before
 * it must be numbers (leading zeros allowed) within 64 bits. Metadata counts only on a full
 * version, a pre-release everywhere.
 */
function buildComparator(operator: Operator, written: string, version: ScannedVersion): Comparator {
  const { parts, prerelease, metadata } = version;
  const [major = '', minor, patch] = parts;
  let read: string[];
  let minorDirty = false;
  let patchDirty = false;
  if (isWildcard(major)) {
    read = [];
  } else if (minor === undefined || isWildcard(minor)) {
    read = [major];
    minorDirty = true;
  } else if (patch === undefined || isWildcard(patch)) {
    read = [major, minor];
    patchDirty = true;
  } else {
    read = [major, minor, patch];
  }
  const numbers = read.map((part) => number(part, written));
  const [majorValue = 0n, minorValue = 0n, patchValue = 0n] = numbers;
  const problem = prerelease === '' ? undefined : prereleaseProblem(prerelease);
  if (problem !== undefined) throw new RangeSyntaxError(`${problem} in ${JSON.stringify(written)}`);
  const dirty = read.length < 3;
  return {
    operator,
    written,
    version: {
      major: majorValue,
      minor: minorValue,
      patch: patchValue,
      prerelease,
      metadata: dirty ? '' : metadata,
      original: version.text,
    },
    dirty,
    minorDirty,
    patchDirty,
  };
}

function isWildcard(part: string): boolean {
  return part === 'x' || part === 'X' || part === '*';
}

function number(part: string, written: string): bigint {
  if (!/^[0-9]+$/.test(part)) {
    throw new RangeSyntaxError(`${JSON.stringify(part)} in ${JSON.stringify(written)} is neither a number nor a wildcard (x, X or *)`);
  }
  const value = BigInt(part);
  if (value > MAX_UINT64) throw new RangeSyntaxError(`${part} in ${JSON.stringify(written)} does not fit in 64 bits`);
  return value;
}

function skipBlank(text: string, from: number): number {
  let at = from;
  while (at < text.length && BLANK.has(text[at] as string)) at++;
  return at;
}

/** The text from `from` up to the next blank or comma, for messages. */
function word(text: string, from: number): string {
  let end = from;
  while (end < text.length && !BLANK.has(text[end] as string) && text[end] !== ',') end++;
  return end > from ? text.slice(from, end) : text.slice(from, from + 1);
}
