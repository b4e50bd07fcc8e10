import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTidemarkError, type TidemarkError } from '../../shared/errors/index.ts';
import { ExclusionList, TagFilter } from './filter.ts';

function thrown(fn: () => unknown): TidemarkError {
  try {
    fn();
  } catch (err) {
    assert.ok(isTidemarkError(err), `expected a TidemarkError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected an error');
}

test('the seed pattern keeps master builds and extracts the timestamp', () => {
  const filter = new TagFilter({ pattern: '^master-[a-f0-9]+-(?P<ts>[0-9]+)', extract: '$ts' });
  assert.deepEqual(filter.apply(['master-1a2b3c-1700000001', 'main-1a2b3c-1700000002', 'master-zz-1', 'xmaster-ab-5']), [
    { tag: 'master-1a2b3c-1700000001', value: '1700000001' },
  ]);
});

test('patterns are unanchored unless they anchor themselves', () => {
  const loose = new TagFilter({ pattern: 'rc[0-9]+' });
  assert.deepEqual(
    loose.apply(['1.0-rc1', 'rc2', 'final']).map((c) => c.tag),
    ['1.0-rc1', 'rc2'],
  );
  const anchored = new TagFilter({ pattern: '^rc[0-9]+$' });
  assert.deepEqual(
    anchored.apply(['1.0-rc1', 'rc2', 'rc3-x']).map((c) => c.tag),
    ['rc2'],
  );
});

test('an empty extract keeps the whole tag, not just the matched part', () => {
  const filter = new TagFilter({ pattern: '[0-9]+' });
  assert.deepEqual(filter.apply(['build-42']), [{ tag: 'build-42', value: 'build-42' }]);
});

test('no filter: every tag is a candidate with its own value, in byte order', () => {
  assert.deepEqual(new TagFilter(undefined).apply(['b', 'B', 'a']), [
    { tag: 'B', value: 'B' },
    { tag: 'a', value: 'a' },
    { tag: 'b', value: 'b' },
  ]);
});

test('tags extracting the same value collapse to the one last in byte order, whatever the listing order', () => {
  const filter = new TagFilter({ pattern: '^v?(?P<v>[0-9.]+)$', extract: '$v' });
  const expected = [{ tag: 'v1.2.3', value: '1.2.3' }];
  assert.deepEqual(filter.apply(['1.2.3', 'v1.2.3']), expected);
  assert.deepEqual(filter.apply(['v1.2.3', '1.2.3']), expected);
});

test('an invalid pattern is a terminal InvalidFilterPattern naming the problem and its offset', () => {
  const cases: [string, RegExp][] = [
    ['^master-(?P<ts>[0-9]+', /missing \) at end of pattern/],
    ['^build-[0-9', /missing \] at offset 7 \("\[0-9"\)/],
    ['(?<=v)[0-9]+', /invalid perl operator at offset 0 \("\(\?<="\)/],
    ['^(a)\\1$', /invalid escape sequence at offset 4 \("\\\\1"\)/],
    ['x{2,1}', /invalid repetition size at offset 1/],
    ['(?P<a-b>x)', /invalid named capture group/],
  ];
  for (const [pattern, message] of cases) {
    const err = thrown(() => new TagFilter({ pattern }));
    assert.equal(err.code, 'InvalidFilterPattern');
    assert.equal(err.kind, 'terminal');
    assert.match(err.message, message, pattern);
    assert.ok(err.message.includes(JSON.stringify(pattern)), err.message);
    assert.ok(err.hint);
  }
});

test('extract may only refer to groups the pattern has', () => {
  const typo = thrown(() => new TagFilter({ pattern: '^main-(?P<ts>[0-9]+)', extract: '$tsx' }));
  assert.equal(typo.code, 'InvalidFilterExtract');
  assert.match(typo.message, /refers to \$tsx/);
  assert.match(typo.hint ?? '', /\$\{ts\}x/);

  const wrongName = thrown(() => new TagFilter({ pattern: '^main-(?P<ts>[0-9]+)', extract: '$timestamp' }));
  assert.match(wrongName.message, /has no such group \(it has \$1, \$ts/);

  const index = thrown(() => new TagFilter({ pattern: '^(a)-(b)$', extract: '$3' }));
  assert.match(index.message, /\$1\.\.\$2/);

  const withoutPattern = thrown(() => new TagFilter({ extract: '$ts' }));
  assert.equal(withoutPattern.code, 'InvalidFilterExtract');
  assert.match(withoutPattern.message, /without filterTags.pattern/);

  // Valid references, including the whole match and literal dollars.
  assert.doesNotThrow(() => new TagFilter({ pattern: '^(?P<major>[0-9]+)\\.([0-9]+)$', extract: '$$$major.${2}-$0' }));
});

test('exclusion list: default drops cosign signatures, custom lists replace it, an empty list keeps all', () => {
  const filter = new TagFilter(undefined);
  const tags = ['sha256-abc.sig', '1.0.0', 'sha256-abc.att', 'debug-1.0.0'];
  assert.deepEqual(
    filter.apply(tags, new ExclusionList(undefined)).map((c) => c.tag),
    ['1.0.0', 'debug-1.0.0', 'sha256-abc.att'],
  );
  assert.deepEqual(
    filter.apply(tags, new ExclusionList(['^debug-', '\\.att$'])).map((c) => c.tag),
    ['1.0.0', 'sha256-abc.sig'],
  );
  assert.deepEqual(filter.apply(tags, new ExclusionList([])).map((c) => c.tag).length, 4);

  const err = thrown(() => new ExclusionList(['^ok$', '(']));
  assert.equal(err.code, 'InvalidExclusionPattern');
  assert.match(err.message, /exclusionList\[1\]/);
});

test('RE2 keeps hostile input linear (no catastrophic backtracking)', () => {
  const filter = new TagFilter({ pattern: '^(a+)+$' });
  const hostile = `${'a'.repeat(127)}!`;
  // With a backtracking engine this single call would not finish; RE2 answers immediately.
  assert.deepEqual(
    filter.apply([hostile, 'aaaa']).map((c) => c.tag),
    ['aaaa'],
  );
});

test('a filter reused across scans gives what a fresh one gives, as tags come, go and the exclusion list changes', () => {
  const spec = { pattern: '^(?P<base>[a-z]+)-(?P<n>[0-9]+)$', extract: '$n' };
  const reused = new TagFilter(spec);
  const sig = new ExclusionList(['^.*-9$']);
  const none = new ExclusionList([]);
  const scans: [string[], ExclusionList][] = [
    [['a-1', 'b-2', 'x', 'c-9'], sig],
    [['a-1', 'b-2', 'x', 'c-9', 'd-3'], sig],
    [['b-2', 'd-3', 'e-19'], sig],
    [['b-2', 'd-3', 'e-19', 'c-9'], none],
    [['c-9', 'v-1', 'a-1'], sig],
  ];
  for (const [tags, exclusions] of scans) {
    assert.deepEqual(reused.apply(tags, exclusions), new TagFilter(spec).apply(tags, exclusions), tags.join(','));
  }
});

test('a reused filter answers a repeated tag set, in any order, as a fresh one does, and only new tags reach the patterns', () => {
  const spec = { pattern: '^(?P<base>[a-z]+)-(?P<n>[0-9]+)$', extract: '$n' };
  const reused = new TagFilter(spec);
  let asked: string[] = [];
  class Counting extends ExclusionList {
    override excludes(tag: string): boolean {
      asked.push(tag);
      return super.excludes(tag);
    }
  }
  const sig = new Counting(['^.*-9$']);
  const none = new Counting([]);
  const scans: [string[], ExclusionList, string[]][] = [
    [['a-1', 'b-2', 'x', 'c-9'], sig, ['a-1', 'b-2', 'x', 'c-9']],
    [['c-9', 'x', 'b-2', 'a-1'], sig, []],
    [['c-9', 'x', 'b-2', 'a-1'], none, ['c-9', 'x', 'b-2', 'a-1']],
    [['c-9', 'x', 'b-2', 'a-1'], sig, ['c-9', 'x', 'b-2', 'a-1']],
    [['c-9', 'x', 'b-2', 'a-1', 'd-3'], sig, ['d-3']],
    [['c-9', 'x', 'b-2', 'a-1'], sig, []],
    [['c-9', 'x', 'b-2', 'b-2'], sig, []],
    [[], sig, []],
    [[], none, []],
    [['a-1'], none, ['a-1']],
  ];
  for (const [tags, exclusions, reaching] of scans) {
    asked = [];
    assert.deepEqual(
      reused.apply(tags, exclusions),
      new TagFilter(spec).apply(tags, new ExclusionList(exclusions.patterns)),
      tags.join(','),
    );
    assert.deepEqual(asked, reaching, `patterns asked about, scanning ${tags.join(',')}`);
  }
});

test('a repeated tag set gets the same frozen candidate list back', () => {
  const filter = new TagFilter({ pattern: '^v(?P<v>.*)$', extract: '$v' });
  const exclusions = new ExclusionList(undefined);
  const first = filter.apply(['v1', 'v2', 'v2.sig'], exclusions);
  assert.ok(Object.isFrozen(first));
  assert.equal(filter.apply(['v2.sig', 'v2', 'v1'], exclusions), first);
  assert.notEqual(filter.apply(['v2.sig', 'v2', 'v1', 'v3'], exclusions), first);
});

test('an exclusion list keeps what it does not match, in order, and asks its patterns only about tags it has not seen', () => {
  let asked: string[] = [];
  class Counting extends ExclusionList {
    override excludes(tag: string): boolean {
      asked.push(tag);
      return super.excludes(tag);
    }
  }
  const list = new Counting(['\\.sig$', '^debug-']);
  const scans: [string[], string[], string[]][] = [
    [
      ['b', 'a.sig', 'debug-1', 'a'],
      ['b', 'a'],
      ['b', 'a.sig', 'debug-1', 'a'],
    ],
    [['a', 'debug-1', 'a.sig', 'b'], ['a', 'b'], []],
    [
      ['a', 'c.sig', 'b', 'c'],
      ['a', 'b', 'c'],
      ['c.sig', 'c'],
    ],
    // The memo holds the latest listing only: a tag that went away is asked about again.
    [['a', 'a.sig'], ['a'], ['a.sig']],
    [[], [], []],
  ];
  for (const [tags, kept, reaching] of scans) {
    asked = [];
    assert.deepEqual(list.keep(tags), kept, tags.join(','));
    assert.deepEqual(asked, reaching, `patterns asked about, scanning ${tags.join(',')}`);
  }
  assert.deepEqual(new ExclusionList([]).keep(['x.sig', 'y']), ['x.sig', 'y']);
});
