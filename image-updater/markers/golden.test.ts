/**
 * Golden tests: every `fixtures/<case>/original/` file is run through the rewrite with the
 * case's `policies.json` and compared byte for byte with `expected/`. `expect.json` lists how
 * many values each file should change and which problems it should report.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decideFromPolicies, findMarkers, hasMarker, isCandidateFile, rewrite } from './index.ts';
import type { ImageDecision, MarkerChange, MarkerProblem, ObjectId } from './index.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');

interface Expectation {
  changes: Record<string, number>;
  problems: Record<string, string[]>;
  objects?: Record<string, ObjectId[]>;
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** What the automation will do per file: screen by name and content, then rewrite. */
function processFile(
  name: string,
  text: string,
  policies: Record<string, ImageDecision>,
): {
  text: string;
  changes: MarkerChange[];
  problems: MarkerProblem[];
} {
  if (!isCandidateFile(name) || !hasMarker(text)) return { text, changes: [], problems: [] };
  return rewrite(text, decideFromPolicies(policies));
}

/** Lines (split on \n, so \r stays visible) that differ between two texts of equal line count. */
function differingLines(a: string, b: string): number[] {
  const la = a.split('\n');
  const lb = b.split('\n');
  assert.equal(la.length, lb.length, 'the rewrite must not add or remove lines');
  const out: number[] = [];
  la.forEach((line, i) => {
    if (line !== lb[i]) out.push(i + 1);
  });
  return out;
}

const cases = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

test('the fixture set covers the required cases', () => {
  for (const required of [
    'marker-forms',
    'quoting-and-comments',
    'needs-quoting',
    'crlf',
    'no-final-newline',
    'bom',
    'multi-document',
    'kustomization-images',
    'helmrelease-values',
    'cronjob',
    'block-scalar',
    'json-patch-string',
    'broken-yaml',
    'broken-marker-json',
    'unknown-policy',
    'no-markers',
    'already-current',
    'flow-style',
  ]) {
    assert.ok(cases.includes(required), `missing fixture case ${required}`);
  }
});

for (const name of cases) {
  test(`golden: ${name}`, () => {
    const dir = join(FIXTURES, name);
    const policies = readJson<Record<string, ImageDecision>>(join(dir, 'policies.json'));
    const expect = readJson<Expectation>(join(dir, 'expect.json'));
    const originals = readdirSync(join(dir, 'original')).sort();
    assert.deepEqual(readdirSync(join(dir, 'expected')).sort(), originals, 'original/ and expected/ hold the same files');

    for (const file of originals) {
      const original = readFileSync(join(dir, 'original', file));
      const expected = readFileSync(join(dir, 'expected', file));
      const result = processFile(file, original.toString('utf8'), policies);
      const written = Buffer.from(result.text, 'utf8');
      assert.ok(written.equals(expected), `${name}/${file}: output differs from expected/\n--- got ---\n${result.text}`);

      const wantChanges = expect.changes[file] ?? 0;
      assert.equal(result.changes.length, wantChanges, `${name}/${file}: number of changes`);
      assert.deepEqual(
        result.problems.map((p) => p.code),
        expect.problems[file] ?? [],
        `${name}/${file}: problems`,
      );
      for (const p of result.problems) assert.ok(p.message.length > 0);

      // Each change touches only its own value's lines (a block scalar's run from its header); nothing else differs.
      const changedLines = [...new Set(result.changes.map((c) => c.line))].sort((a, b) => a - b);
      const differing = differingLines(original.toString('utf8'), result.text);
      const valueLines = new Set<number>();
      for (const m of findMarkers(original.toString('utf8')).markers) {
        if (!changedLines.includes(m.line)) continue;
        const last = original
          .toString('utf8')
          .slice(0, m.range[1] - 1)
          .split('\n').length;
        for (let l = m.line; l <= last; l++) valueLines.add(l);
      }
      assert.deepEqual(
        differing.filter((l) => !valueLines.has(l)),
        [],
        `${name}/${file}: only marked values' lines differ`,
      );
      assert.deepEqual(
        changedLines.filter((l) => !differing.includes(l)),
        [],
        `${name}/${file}: every change shows`,
      );
      if (wantChanges === 0) assert.ok(written.equals(original), `${name}/${file}: untouched`);

      for (const c of result.changes) assert.notEqual(c.oldValue, c.newValue);
      const objects = expect.objects?.[file];
      if (objects)
        assert.deepEqual(
          result.changes.map((c) => c.objectId),
          objects,
        );
    }
  });
}

test('rewriting the expected output again changes nothing (idempotent)', () => {
  for (const name of cases) {
    const dir = join(FIXTURES, name);
    const policies = readJson<Record<string, ImageDecision>>(join(dir, 'policies.json'));
    for (const file of readdirSync(join(dir, 'expected'))) {
      const text = readFileSync(join(dir, 'expected', file), 'utf8');
      const again = processFile(file, text, policies);
      assert.equal(again.text, text, `${name}/${file}`);
      assert.equal(again.changes.length, 0, `${name}/${file}`);
    }
  }
});
