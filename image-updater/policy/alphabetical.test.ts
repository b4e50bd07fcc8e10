import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlphabeticalPolicy } from './alphabetical.ts';
import { compareBytes } from './byte-order.ts';
import type { Candidate } from './types.ts';

function asCandidates(tags: string[]): Candidate[] {
  return tags.map((tag) => ({ tag, value: tag }));
}

test('byte order, not locale: asc takes the last, desc the first', () => {
  const tags = asCandidates(['RELEASE.2023-01-01', 'release.2023-01-02', 'Release.2024', '9', '10', 'a', 'B', 'é', 'z']);
  assert.equal(new AlphabeticalPolicy({ order: 'asc' }).select(tags)?.tag, 'é');
  assert.equal(new AlphabeticalPolicy(undefined).select(tags)?.tag, 'é');
  assert.equal(new AlphabeticalPolicy({ order: 'desc' }).select(tags)?.tag, '10');
  const withoutAccent = tags.filter((c) => c.tag !== 'é');
  assert.equal(new AlphabeticalPolicy({ order: 'asc' }).select(withoutAccent)?.tag, 'z');
});

test('timestamps in RFC 3339-like tags order chronologically', () => {
  const tags = asCandidates(['2024-03-01T10-00-00Z', '2024-12-31T23-59-59Z', '2024-03-01T09-00-00Z']);
  assert.equal(new AlphabeticalPolicy({ order: 'asc' }).select(tags)?.tag, '2024-12-31T23-59-59Z');
});

test('orders by extracted value and reports the tag', () => {
  const candidates: Candidate[] = [
    { tag: 'zzz-build-a', value: 'a' },
    { tag: 'aaa-build-b', value: 'b' },
  ];
  assert.deepEqual(new AlphabeticalPolicy({ order: 'asc' }).select(candidates), { tag: 'aaa-build-b', value: 'b' });
});

test('empty list selects nothing', () => {
  assert.equal(new AlphabeticalPolicy({ order: 'desc' }).select([]), null);
});

test('byte order matches UTF-8 bytes, also beyond the BMP', () => {
  const strings = ['a', 'B', '\u{FFFD}', '\u{1F600}', '\u{E000}', 'é', '', 'ab'];
  const byBytes = [...strings].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  assert.deepEqual([...strings].sort(compareBytes), byBytes);
  // Plain JavaScript comparison gets the last two wrong, which is why compareBytes exists.
  assert.ok('\u{1F600}' < '\u{E000}');
  assert.ok(compareBytes('\u{1F600}', '\u{E000}') > 0);
});
