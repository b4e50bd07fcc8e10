import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decide, type DecideOptions, type Decision } from './decide.ts';
import { ExclusionList, TagFilter } from './filter.ts';
import { createPolicy } from './policy.ts';

interface Case {
  name: string;
  tags: string[];
  options: DecideOptions;
  expect: { tag: string; value: string; candidates: number } | { error: string; message?: string };
}

const cases = JSON.parse(readFileSync(new URL('./fixtures/decide-cases.json', import.meta.url), 'utf8')) as Case[];

function check(decision: Decision, expected: Case['expect'], name: string) {
  if ('error' in expected) {
    assert.ok('error' in decision, `${name}: expected ${expected.error}, got ${JSON.stringify(decision)}`);
    assert.equal(decision.error.code, expected.error, `${name}: ${decision.error.message}`);
    assert.equal(decision.error.kind, 'terminal', name);
    if (expected.message) assert.match(decision.error.message, new RegExp(expected.message), name);
    return;
  }
  assert.deepEqual(decision, expected, name);
}

test('decision table', () => {
  assert.ok(cases.length >= 15);
  for (const c of cases) {
    check(decide(c.tags, c.options), c.expect, c.name);
    // The answer depends on the tag set, never on the order the registry listed it in.
    check(decide([...c.tags].reverse(), c.options), c.expect, `${c.name} (reversed)`);
  }
});

test('the seed: master-<sha>-<ts> tags, extract $ts, numerical asc → the largest timestamp', () => {
  const tags = [
    'master-3f2a1b9-1700000300',
    'master-0a1b2c3-1700000100',
    'master-ffee001-1700000299',
    'dev-aaaaaaa-1800000000',
    'latest',
    'master-3f2a1b9-1700000300.sig',
  ];
  const decision = decide(tags, {
    filterTags: { pattern: '^master-[a-f0-9]+-(?P<ts>[0-9]+)', extract: '$ts' },
    policy: { numerical: { order: 'asc' } },
  });
  assert.deepEqual(decision, { tag: 'master-3f2a1b9-1700000300', value: '1700000300', candidates: 3 });
});

test('compiled forms are used as given (compile once at config load)', () => {
  const options = {
    filterTags: new TagFilter({ pattern: '^v(?P<v>.*)$', extract: '$v' }),
    exclusionList: new ExclusionList(['-debug$']),
    policy: createPolicy({ semver: { range: '^2' } }),
  };
  assert.deepEqual(decide(['v2.0.0', 'v2.1.0-debug', 'v2.0.1', 'v3.0.0'], options), {
    tag: 'v2.0.1',
    value: '2.0.1',
    candidates: 3,
  });
});

test('errors that are not configuration or content problems are not swallowed', () => {
  const broken = {
    kind: 'numerical' as const,
    select(): never {
      throw new TypeError('bug');
    },
  };
  assert.throws(() => decide(['1'], { policy: broken }), TypeError);
});

test('compiled forms reused across scans decide as fresh ones do, and an unchanged tag set is not ranked again', () => {
  const spec = { filterTags: { pattern: '^build-(?P<n>[0-9a-z]+)$', extract: '$n' }, policy: { numerical: { order: 'asc' as const } } };
  let selects = 0;
  const numerical = createPolicy(spec.policy);
  const policy = {
    kind: numerical.kind,
    select: (candidates: Parameters<typeof numerical.select>[0]) => {
      selects++;
      return numerical.select(candidates);
    },
  };
  const reused = { filterTags: new TagFilter(spec.filterTags), exclusionList: new ExclusionList(['^build-9$']), policy };
  const scans: [string[], number][] = [
    [['build-1', 'build-7', 'build-9', 'other'], 1],
    [['other', 'build-9', 'build-7', 'build-1'], 0],
    [['other', 'build-9', 'build-7', 'build-1', 'build-8'], 1],
    [['build-1', 'build-7', 'build-9', 'other'], 1],
    [['build-1', 'build-7', 'build-x'], 1],
    // A failed choice is not remembered: the same tags fail the same way again.
    [['build-1', 'build-7', 'build-x'], 1],
    [[], 1],
  ];
  for (const [tags, expectedSelects] of scans) {
    selects = 0;
    const fresh = decide(tags, { ...spec, exclusionList: ['^build-9$'] });
    const got = decide(tags, reused);
    if ('error' in fresh) {
      assert.ok('error' in got, tags.join(','));
      assert.equal(got.error.message, fresh.error.message);
    } else {
      assert.deepEqual(got, fresh, tags.join(','));
    }
    assert.equal(selects, expectedSelects, `policy rankings, scanning ${tags.join(',')}`);
  }
  // Another policy over the same filter and tags ranks for itself.
  const desc = { ...reused, policy: createPolicy({ numerical: { order: 'desc' } }) };
  assert.deepEqual(decide(['build-1', 'build-7', 'other'], reused), { tag: 'build-7', value: '7', candidates: 2 });
  assert.deepEqual(decide(['build-1', 'build-7', 'other'], desc), { tag: 'build-1', value: '1', candidates: 2 });
});
