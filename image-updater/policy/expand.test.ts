import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import RE2 from 're2';
import { expandTemplate, parseTemplate } from './expand.ts';

interface GoCase {
  pattern: string;
  input: string;
  template: string;
  matched: boolean;
  expected: string | null;
}

// Produced by fixtures/go-oracle/main.go: Go's own FindStringSubmatchIndex + ExpandString,
// including the cases its documentation spells out ($1x is ${1x}, $10 is ${10}, $$).
const cases = JSON.parse(readFileSync(new URL('./fixtures/expand-go.json', import.meta.url), 'utf8')) as GoCase[];

test('expands exactly like Go ExpandString (RE2 match + template)', () => {
  assert.ok(cases.length > 40);
  for (const c of cases) {
    const match = new RE2(c.pattern, 'u').exec(c.input);
    assert.equal(match !== null, c.matched, `match of ${c.pattern} on ${c.input}`);
    if (!match) continue;
    assert.equal(expandTemplate(c.template, match), c.expected, `${JSON.stringify(c.template)} with ${c.pattern} on ${c.input}`);
  }
});

test('a $name takes the longest run of letters, digits and _', () => {
  assert.deepEqual(parseTemplate('$tsx'), [{ kind: 'ref', name: 'tsx', index: -1, written: '$tsx' }]);
  assert.deepEqual(parseTemplate('${ts}x'), [
    { kind: 'ref', name: 'ts', index: -1, written: '${ts}' },
    { kind: 'text', text: 'x' },
  ]);
  assert.deepEqual(parseTemplate('$10'), [{ kind: 'ref', name: '10', index: 10, written: '$10' }]);
  assert.deepEqual(parseTemplate('$01'), [{ kind: 'ref', name: '01', index: -1, written: '$01' }]);
  assert.deepEqual(parseTemplate('$$ts'), [{ kind: 'text', text: '$ts' }]);
  assert.deepEqual(parseTemplate('${ts'), [{ kind: 'text', text: '${ts' }]);
  assert.deepEqual(parseTemplate('v$1.$2'), [
    { kind: 'text', text: 'v' },
    { kind: 'ref', name: '1', index: 1, written: '$1' },
    { kind: 'text', text: '.' },
    { kind: 'ref', name: '2', index: 2, written: '$2' },
  ]);
});
