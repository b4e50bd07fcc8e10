import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTidemarkError } from '../../shared/errors/index.ts';
import { SemverPolicy } from './semver.ts';
import type { Candidate } from './types.ts';

function asCandidates(tags: string[]): Candidate[] {
  return tags.map((tag) => ({ tag, value: tag }));
}

const TAGS = asCandidates([
  'latest',
  '1.2',
  'main-abc123',
  'v1.0.0',
  '1.1.0',
  'v1.1.1',
  '1.2.0-rc.1',
  '1.2.0-rc.2',
  '2.0.0-alpha',
  '2.0.0',
  '0.9.9',
  'v3.0.0+meta',
]);

test('the highest version within the range wins; non-versions are ignored; the tag is reported as listed', () => {
  const cases: [string, string | null][] = [
    ['>=1.0.0 <2.0.0', 'v1.1.1'],
    // Once pre-releases are admitted, 2.0.0-alpha is below 2.0.0 and so inside <2.0.0 (as in
    // Masterminds); ^1.x-0 is the way to stay on major 1.
    ['>=1.0.0-0 <2.0.0', '2.0.0-alpha'],
    ['^1.x-0', '1.2.0-rc.2'],
    ['>= 1.0, < 2.0', 'v1.1.1'],
    ['1.x', 'v1.1.1'],
    ['~1.1.0', 'v1.1.1'],
    ['^1.0', 'v1.1.1'],
    ['1.0.0 - 1.1.0', '1.1.0'],
    ['*', 'v3.0.0+meta'],
    ['>=2.0.0-0 <3.0.0', '2.0.0'],
    ['<1.0.0 || >=2.0.0 <3.0.0', '2.0.0'],
    ['!=1.1.1, ^1', '1.1.0'],
    ['>=4', null],
  ];
  for (const [range, expected] of cases) {
    assert.equal(new SemverPolicy({ range }).select(TAGS)?.tag ?? null, expected, range);
  }
});

test('a value that parses as a version is judged by its extracted value but reported by tag', () => {
  const candidates: Candidate[] = [
    { tag: 'release-1.4.0-linux', value: '1.4.0' },
    { tag: 'release-1.10.0-linux', value: '1.10.0' },
  ];
  assert.deepEqual(new SemverPolicy({ range: '^1.0.0' }).select(candidates), {
    tag: 'release-1.10.0-linux',
    value: '1.10.0',
  });
});

test('equal precedence (v prefix, build metadata) ties on the tag last in byte order, in any input order', () => {
  const tied = asCandidates(['1.0.0+build.2', 'v1.0.0', '1.0.0', '1.0.0+build.10']);
  for (const order of [tied, [...tied].reverse()]) {
    assert.equal(new SemverPolicy({ range: '1.x' }).select(order)?.tag, 'v1.0.0');
  }
});

test('an empty list selects nothing', () => {
  assert.equal(new SemverPolicy({ range: '*' }).select([]), null);
});

test('a bad range or shape fails at construction', () => {
  assert.throws(
    () => new SemverPolicy({ range: '>=1.0 <<2' }),
    (err: unknown) => isTidemarkError(err) && err.code === 'InvalidSemverRange',
  );
  for (const spec of [{}, { range: '' }, { range: 5 }, { range: '1.x', order: 'asc' }, null]) {
    assert.throws(
      () => new SemverPolicy(spec as never),
      (err: unknown) => isTidemarkError(err) && err.code === 'InvalidPolicy',
      JSON.stringify(spec),
    );
  }
});
