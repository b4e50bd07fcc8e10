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
