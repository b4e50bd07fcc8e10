import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isTidemarkError } from '../errors/index.ts';
import { compareVersions, MAX_RANGE_LENGTH, parseRange, parseTagVersion, satisfies } from './index.ts';

// The oracle (oracle.test.ts) proves agreement with Masterminds case by case; these say in
// words what that agreement means for the two callers, and pin the error messages.

function admits(range: string, tag: string): boolean {
  const version = parseTagVersion(tag);
  assert.ok(version, tag);
  return satisfies(parseRange(range, 'test'), version);
}

function problem(range: string): string {
  try {
    parseRange(range, 'spec.policy.semver.range');
  } catch (err) {
    assert.ok(isTidemarkError(err));
    assert.equal(err.code, 'InvalidSemverRange');
    assert.equal(err.kind, 'terminal');
    assert.ok(err.hint?.includes('Masterminds'));
    return err.message;
  }
  assert.fail(`${JSON.stringify(range)} parsed`);
}

test('tags are full versions with one optional lowercase v, as Flux reads them', () => {
  assert.deepEqual(parseTagVersion('v1.2.3-rc.1+build.5'), {
    major: 1n,
    minor: 2n,
    patch: 3n,
    prerelease: 'rc.1',
    metadata: 'build.5',
    original: 'v1.2.3-rc.1+build.5',
  });
  for (const tag of ['1.2', 'v1', 'V1.2.3', 'vv1.2.3', '01.2.3', '1.2.3-01', 'latest', ' 1.2.3']) {
    assert.equal(parseTagVersion(tag), undefined, tag);
  }
});

test('numbers beyond 2^53 compare exactly; metadata and the v do not order', () => {
  const v = (tag: string) => parseTagVersion(tag) ?? assert.fail(tag);
  assert.equal(compareVersions(v('9007199254740993.0.0'), v('9007199254740992.0.0')), 1);
  assert.equal(compareVersions(v('v1.0.0'), v('1.0.0+b.7')), 0);
  assert.equal(compareVersions(v('1.0.0-rc.2'), v('1.0.0-rc.10')), -1);
  assert.equal(compareVersions(v('1.0.0-rc'), v('1.0.0')), -1);
});

test('the forms the two old dialects disagreed on', () => {
  assert.equal(admits('!=1.2.3', '1.2.4'), true);
  assert.equal(admits('!=1.2.3', '1.2.3'), false);
  assert.equal(admits('=>1.0', '1.0.0'), true);
  assert.equal(admits('v1.2.3', 'v1.2.3'), true);
  assert.match(problem('V1.2.3'), /expected a version in "V1\.2\.3"/);
});

test('a pre-release anywhere in an || group admits pre-releases for that group only', () => {
  assert.equal(admits('>=1.0.0 <2.0.0', '1.5.0-rc.1'), false);
  assert.equal(admits('>=1.0.0-0 <2.0.0', '1.5.0-rc.1'), true);
  // ...and then 2.0.0-rc.1 is below 2.0.0, so inside <2.0.0 (^1.x-0 stays on major 1).
  assert.equal(admits('>=1.0.0-0 <2.0.0', '2.0.0-rc.1'), true);
  assert.equal(admits('^1.x-0', '2.0.0-rc.1'), false);
  assert.equal(admits('>=3 || >=1.0.0-0 <2.0.0', '1.5.0-rc.1'), true);
  assert.equal(admits('>=1.0.0-0 <2.0.0 || >=3', '3.1.0-rc.1'), false);
});

test('wildcards, tilde, caret, hyphen ranges, comma and space as AND', () => {
  const table: [string, string, boolean][] = [
    ['1.2.x', '1.2.9', true],
    ['1.2.x', '1.3.0', false],
    ['*', '0.0.1', true],
    ['~1.2.3', '1.2.9', true],
    ['~1.2.3', '1.3.0', false],
    ['^1.2', '1.9.0', true],
    ['^0.2.3', '0.3.0', false],
    ['^0.0', '0.0.9', true],
    ['1.2 - 1.4.5', '1.4.5', true],
    ['1.2 - 1.4.5', '1.4.6', false],
    ['1.2-1.4.5', '1.4.5', false], // no blanks: 1.2 with pre-release 1.4.5, not a hyphen range
    ['>= 1.0, < 2.0', '1.9.9', true],
    ['>=1.0 <2.0', '2.0.0', false],
    ['<=1.2', '1.2.9', true], // Masterminds: a partial upper bound covers the whole minor
    ['>1.2', '1.2.9', false],
    ['1.2.3+build', '1.2.3', true], // metadata does not count
  ];
  for (const [range, tag, expected] of table) assert.equal(admits(range, tag), expected, `${range} with ${tag}`);
});

test('invalid ranges say which field and what is wrong', () => {
  const cases: [string, string][] = [
    ['', 'it is empty'],
    ['   ', 'it is empty'],
    ['1.0.0 ||', 'an alternative beside "||" is empty'],
    ['>=1 <<2', 'unknown operator "<<" in "<<2" (use =, !=, >, <, >=, <=, ~, ~>, ^)'],
    ['>=1.0.0<2.0.0', 'unexpected "<2.0.0" after ">=1.0.0" (separate comparators with a space or a comma)'],
    ['1.2.3.4', 'unexpected ".4" after "1.2.3" (separate comparators with a space or a comma)'],
    ['>=1.0.0,', 'a comma ends ">=1.0.0,"'],
    ['~> ', 'expected a version in "~>" after "~>"'],
    ['latest', 'expected a version in "latest"'],
    ['1.2.3-01', 'pre-release "01" has a numeric identifier with a leading zero (01) in "1.2.3-01"'],
    ['1x.2.3', '"1x" in "1x.2.3" is neither a number nor a wildcard (x, X or *)'],
    ['>=18446744073709551616', '18446744073709551616 in ">=18446744073709551616" does not fit in 64 bits'],
  ];
  for (const [range, why] of cases) {
    assert.equal(problem(range), `spec.policy.semver.range ${JSON.stringify(range)} is not a valid range: ${why}`);
  }
  // A long range is quoted by its start and its length.
  const long = `>=${'1'.repeat(MAX_RANGE_LENGTH)}`;
  assert.equal(
    problem(long),
    `spec.policy.semver.range ${JSON.stringify(`${long.slice(0, 64)}…`)} (${long.length} characters) is not a valid range: ` +
      `it is longer than ${MAX_RANGE_LENGTH} characters`,
  );
});
