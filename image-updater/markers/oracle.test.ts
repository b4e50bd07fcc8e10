/**
 * The scan against Flux: every generated case in oracle/cases.json (regenerate with
 * scripts/build-marker-fixtures.sh) holds what Flux's setters would set, as the Go oracle
 * (go-yaml v3, Flux's reading and attachment rule) found it. The scan must find exactly those
 * values, and report every other marker comment as a problem on its line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { findMarkers } from './index.ts';
import type { Marker } from './index.ts';
import { CASES_FILE, COUNT } from './oracle/fixtures.ts';
import type { OracleCase, OracleSet } from './oracle/fixtures.ts';

const cases = JSON.parse(readFileSync(CASES_FILE, 'utf8')) as OracleCase[];

/** Line and column as go-yaml counts them: characters (code points), a BOM not counted. */
function position(text: string, offset: number): { line: number; column: number } {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  let line = 1;
  for (let i = 0; i < lineStart; i++) if (text.charCodeAt(i) === 10) line++;
  const before = text.slice(lineStart, offset).replace(/^\ufeff/, '');
  return { line, column: [...before].length + 1 };
}

function asSet(text: string, m: Marker): OracleSet {
  return { setter: m.setter.raw, ...position(text, m.range[0]), value: m.value };
}

const order = (a: OracleSet, b: OracleSet): number => a.line - b.line || a.column - b.column;

/** How one case differs from the oracle; empty when it agrees. */
function disagreement(c: OracleCase): string[] {
  const { markers, problems } = findMarkers(c.text);
  const ours = markers.map((m) => asSet(c.text, m)).sort(order);
  const out: string[] = [];
  if (c.rejected !== undefined) {
    if (ours.length > 0) out.push(`Flux skips the file (${c.rejected}); we set ${JSON.stringify(ours)}`);
    return out;
  }
  const want = [...c.sets].sort(order);
  if (JSON.stringify(ours) !== JSON.stringify(want)) out.push(`sets: want ${JSON.stringify(want)}\n      got  ${JSON.stringify(ours)}`);
  const set = new Set(want.map((s) => s.setter));
  const problemLines = new Set(problems.map((p) => p.line));
  for (const m of c.markers) {
    if (m.comment && !set.has(m.setter) && !problemLines.has(m.line))
      out.push(`marker ${m.setter} on line ${m.line}: sets nothing, not reported`);
  }
  return out;
}

test('the oracle fixtures are all there, with markers that set and markers that do not', () => {
  assert.equal(cases.length, COUNT);
  const markers = cases.reduce((n, c) => n + c.markers.length, 0);
  const sets = cases.reduce((n, c) => n + c.sets.length, 0);
  assert.ok(sets > 1000 && markers - sets > 1000, `${markers} markers, ${sets} sets`);
  assert.ok(cases.some((c) => c.rejected !== undefined));
});

test('the scan sets exactly what Flux sets, and reports every marker that sets nothing', () => {
  const failed: string[] = [];
  let agreed = 0;
  for (const c of cases) {
    const d = disagreement(c);
    if (d.length === 0) agreed++;
    else failed.push(`${c.id}:\n${JSON.stringify(c.text.length > 2000 ? `${c.text.slice(0, 2000)}…` : c.text)}\n  ${d.join('\n  ')}`);
  }
  const share = ((100 * agreed) / cases.length).toFixed(1);
  assert.equal(
    failed.length,
    0,
    `${agreed}/${cases.length} cases agree (${share} %); first differences:\n${failed.slice(0, 8).join('\n')}`,
  );
});
