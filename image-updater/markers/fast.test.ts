/**
 * The fast path against the full parse: wherever scanLines answers, its answer must be the full
 * parse's, field for field — on every oracle case, every golden fixture, the bench's files and a
 * seeded set of plain-shaped files with the near misses the fast path must leave to the parse.
 * The same corpus holds the rewrite's line-level read-back to the full parse of the new text,
 * and the rewrite to the one made by the full parse alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { markedFile } from '../../bench/items/markers.ts';
import { encodeScalar } from './encode.ts';
import { readsBackOnItsLine, scanLines } from './fast.ts';
import { Random } from './oracle/generate.ts';
import { CASES_FILE } from './oracle/fixtures.ts';
import type { OracleCase } from './oracle/fixtures.ts';
import { rewrite } from './rewrite.ts';
import { findMarkers, parseMarkers } from './scan.ts';
import type { Decision, ScalarStyle } from './types.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');

function fixtureTexts(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const name of readdirSync(FIXTURES)) {
    const dir = join(FIXTURES, name, 'original');
    for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
      const path = join(dir, file);
      if (statSync(path).isFile()) out.push([`${name}/${file}`, readFileSync(path, 'utf8')]);
    }
  }
  return out;
}

/** Runs both paths; returns whether the fast path answered. Fails when it answered differently. */
function agree(id: string, text: string): boolean {
  const fast = scanLines(text);
  if (fast === null) return false;
  assert.deepEqual(fast, parseMarkers(text), `${id}: the fast path and the full parse differ on\n${text}`);
  return true;
}

const MARKER_FORMS = ['# {"$imagepolicy": "ns:p%"}', '#{"$imagepolicy":"ns:p%:tag"}', '## { "$imagepolicy": "ns:p%:name" }'];
const VALUES = [
  'nginx:1.2',
  'ghcr.io/org/app:v1.0.0',
  'registry.example.com:5000/team/app@sha256:0123abcd',
  'bücher/ñandú:1',
  '日本/イメージ:2',
  '1.10',
  'a b c',
  'x#y',
  "'single ''quoted'' value'",
  '"double quoted"',
  '""',
  "''",
  '-5',
  'true',
  '~',
];

/**
 * A seeded Kubernetes-shaped document of the plain shape, with markers on scalar values and,
 * now and then, one near miss the fast path must leave to the full parse.
 */
function plainFile(r: Random, i: number): string {
  let marks = 0;
  const marker = (): string => r.pick(MARKER_FORMS).replace('%', String(++marks));
  const scalar = (): string => {
    const v = r.pick(VALUES);
    return r.chance(0.5) ? `${v}${' '.repeat(1 + r.int(2))}${marker()}` : r.chance(0.2) ? `${v} # note` : v;
  };
  const lines: string[] = [];
  if (r.chance(0.3)) lines.push('# a file comment', '');
  lines.push(`apiVersion: ${r.pick(['apps/v1', '"v1"', "'batch/v1'"])}`, `kind: ${r.pick(['Deployment', 'CronJob', '"Kind"'])}`);
  lines.push('metadata:', `  name: ${r.pick([`svc-${i}`, `'svc-${i}'`])}`);
  if (r.chance(0.5)) lines.push(`  namespace: ${r.pick(['apps', '"team-a"'])}`);
  lines.push('  labels:', `    app.kubernetes.io/name: svc-${i}`, 'spec:');
  const seqIndent = r.chance(0.5) ? '  ' : '    ';
  lines.push('  containers:');
  for (let k = 0; k < 1 + r.int(4); k++) {
    lines.push(`${seqIndent}-${' '.repeat(1 + r.int(2))}name: c${k}`);
    const inner = seqIndent + ' '.repeat(lines.at(-1)!.indexOf('name') - seqIndent.length);
    lines.push(`${inner}image: ${scalar()}`);
    if (r.chance(0.3)) lines.push(`${inner}  # an own-line comment`);
    if (r.chance(0.5)) lines.push(`${inner}resources:`, `${inner}  requests: {cpu: 10m, memory: 16Mi}`);
    if (r.chance(0.4)) lines.push(`${inner}args:`, `${inner}- ${scalar()}`, `${inner}- --flag`);
    if (r.chance(0.3)) lines.push('', `${inner}ports: [80, 443]`);
  }
  lines.push('  values:', `    tag: ${scalar()}`, `    repo: ${scalar()}`);
  if (r.chance(0.2)) lines.push('  empty:');
  const text = `${lines.join('\n')}${r.chance(0.9) ? '\n' : ''}`;
  if (!r.chance(0.4)) return text;
  return nearMiss(r, text);
}

/** One change that takes a file out of the plain shape, or makes it one the full parse must judge. */
function nearMiss(r: Random, text: string): string {
  const lines = text.split('\n');
  const at = 1 + r.int(lines.length - 2);
  const line = lines[at]!;
  const indent = /^ */.exec(line)![0];
  switch (r.int(15)) {
    case 0:
      return text.replace('image: ', 'image:\t');
    case 1:
      return text.replaceAll('\n', '\r\n');
    case 2:
      return `\ufeff${text}`;
    case 3:
      return `---\n${text}`;
    case 4:
      return `${text}\n---\nkind: Second\n`;
    case 5:
      lines.splice(at + 1, 0, `${indent}    continued`);
      return lines.join('\n');
    case 6:
      lines.splice(at, 0, line);
      return lines.join('\n');
    case 7:
      return text.replace(/image: (.*?)( |$)/m, 'image: &a $1$2');
    case 8:
      return text.replace('image: ', 'image: !!str ');
    case 9:
      return text.replace(/^(\s*)image: /m, '$1image:\n$1# {"$imagepolicy": "ns:head"}\n$1  ');
    case 10:
      return text.replace('name: ', 'name: |\n      block\n    x: ');
    case 11:
      return text.replace('requests: {cpu: 10m', 'requests: {cpu: "10m"');
    case 12:
      return text.replace('image: ', 'image: "a\\u00e9" # ');
    case 13:
      return text.replace(/image: (\S*)/, r.pick(['image: k: $1', 'image: $1:', 'image: $1 [x]']));
    default:
      return text.replace('metadata:', 'metadata: # {"$imagepolicy": "ns:key"}');
  }
}

test('the fast path answers exactly as the full parse on every oracle case and golden fixture', () => {
  const cases = JSON.parse(readFileSync(CASES_FILE, 'utf8')) as OracleCase[];
  let answered = 0;
  for (const c of cases) if (agree(c.id, c.text)) answered++;
  for (const [id, text] of fixtureTexts()) if (agree(id, text)) answered++;
  // Most oracle cases are built from the shapes the fast path leaves alone; some are plain.
  assert.ok(answered >= 10, `the fast path answered only ${answered} files`);
});

test('the fast path reads the bench files and answers as the full parse', () => {
  for (const markers of [1, 10]) {
    const text = markedFile(7, markers);
    assert.ok(agree(`bench ${markers}`, text), 'the bench file is of the plain shape');
    assert.equal(scanLines(text)!.markers.length, markers);
  }
});

test('on seeded plain files and their near misses, the fast path answers as the full parse or not at all', () => {
  const r = new Random(29);
  let answered = 0;
  let declined = 0;
  for (let i = 0; i < 3000; i++) {
    if (agree(`plain-${i}`, plainFile(r, i))) answered++;
    else declined++;
  }
  assert.ok(answered > 1000 && declined > 500, `${answered} answered, ${declined} left to the full parse`);
});

test('the shapes outside the plain one are left to the full parse', () => {
  const base = 'kind: A\nmetadata:\n  name: x\nspec:\n  image: app:1 # {"$imagepolicy": "ns:p"}\n';
  assert.notEqual(scanLines(base), null);
  const outside: Record<string, string> = {
    tab: base.replace('image: ', 'image:\t'),
    crlf: base.replaceAll('\n', '\r\n'),
    bom: `\ufeff${base}`,
    'document start': `---\n${base}`,
    'document end': `${base}...\n`,
    directive: `%YAML 1.2\n---\n${base}`,
    anchor: base.replace('app:1', '&a app:1'),
    alias: `x: &a app:1\n${base.replace('app:1', '*a')}`,
    tag: base.replace('app:1', '!!str app:1'),
    'block scalar': base.replace('app:1', '|\n    app:1\n'),
    'mapping in a value': base.replace('app:1', 'k: app:1'),
    'multi-line plain': base.replace('app:1 #', 'app:1\n    more #'),
    'multi-line quoted': base.replace('app:1', '"app:1\n    more"'),
    escape: base.replace('app:1', '"app:\\x31"'),
    'explicit key': `? k\n: v\n${base}`,
    'duplicate key': `${base}spec: {}\n`,
    'quoted flow element': base.replace('name: x', 'name: x\n  args: ["a"]'),
    'comment between key and value': base.replace('spec:\n', 'spec:\n# c\n'),
    'head comment marker': base.replace('  image: app:1 # ', '  # {"$imagepolicy": "ns:q"}\n  image: app:1 # '),
    'marker after a key': base.replace('spec:', 'spec: # {"$imagepolicy": "ns:q"}'),
    'marker after a flow collection': `${base}  list: [a] # {"$imagepolicy": "ns:q"}\n`,
    'marker that is not JSON': base.replace('"ns:p"}', '"ns:p"'),
    'marker text in a value': base.replace('app:1', '"{\\"$imagepolicy\\": 1}"'),
    'indented document': base.replace(/^/gm, '  '),
    'numeric name': base.replace('name: x', 'name: 1.0'),
    'boolean key': `${base}true: 1\n`,
  };
  for (const [what, text] of Object.entries(outside)) {
    assert.equal(scanLines(text), null, what);
    // findMarkers still answers, from the full parse.
    assert.deepEqual(findMarkers(text), parseMarkers(text), what);
  }
});

/** Every file of the corpus above: oracle cases, golden fixtures, bench files, seeded plain files. */
function corpus(): Array<[string, string]> {
  const cases = JSON.parse(readFileSync(CASES_FILE, 'utf8')) as OracleCase[];
  const r = new Random(31);
  return [
    ...cases.map((c): [string, string] => [c.id, c.text]),
    ...fixtureTexts(),
    ['bench', markedFile(3, 10)],
    ...Array.from({ length: 500 }, (_, i): [string, string] => [`plain-${i}`, plainFile(r, i)]),
  ];
}

/** New values a policy could give, with the ones that cannot be written plain or on one line. */
const NEW_VALUES = [
  ...VALUES,
  'app:2',
  'a # b',
  'k: v',
  'x:',
  '#x',
  '- x',
  '-',
  '[a]',
  '{a: b}',
  'a, b',
  "it's",
  'say "hi"',
  'back\\slash',
  'two\nlines',
  'tab\there',
  '\ufeffbom',
  ' lead',
  'trail ',
  '',
  'yes',
  'null',
  '0x1F',
  '2001-01-01',
  '1:20',
  '@x',
  '`x',
  '%x',
  '!x',
  '&x',
  '*x',
  '|',
  '>',
  '?',
  'é😀',
  '{"$imagepolicy": "ns:p1"}',
  '$imagepolicy',
];

test('the line-level read-back vouches only for edits the full parse reads back with the new value and nothing else changed', () => {
  const r = new Random(37);
  let vouched = 0;
  let declined = 0;
  for (const [id, text] of corpus()) {
    const fast = scanLines(text);
    if (fast === null) continue;
    fast.markers.forEach((m, index) => {
      for (let k = 0; k < 3; k++) {
        const value = r.pick(NEW_VALUES);
        const replacement = encodeScalar(value, m.style as ScalarStyle, m.flow);
        if (!readsBackOnItsLine(text, m, replacement, value)) {
          declined++;
          continue;
        }
        vouched++;
        const edited = text.slice(0, m.range[0]) + replacement + text.slice(m.range[1]);
        const full = parseMarkers(edited);
        const what = `${id}, marker ${index} set to ${JSON.stringify(value)}:\n${edited}`;
        assert.deepEqual(full.problems, [], what);
        assert.deepEqual(
          full.markers.map((n) => [n.setter, n.value, n.path, n.objectId, n.line, n.document]),
          fast.markers.map((n, i) => [n.setter, i === index ? value : n.value, n.path, n.objectId, n.line, n.document]),
          what,
        );
        // What the rewrite skips is a scan the fast path itself would answer the same way.
        assert.deepEqual(scanLines(edited), full, what);
      }
    });
  }
  assert.ok(vouched > 1500 && declined > 200, `${vouched} edits vouched for, ${declined} left to the full read-back`);
});

test('the rewrite gives the same text, changes and problems as the rewrite by the full parse alone', () => {
  const r = new Random(41);
  let changed = 0;
  for (const [id, text] of corpus()) {
    // Some policies unknown, the rest each with a value of its own from the list.
    const answers = new Map<string, Decision>();
    const decide = (setter: { raw: string }): Decision => {
      let d = answers.get(setter.raw);
      if (d === undefined) {
        d = r.chance(0.1) ? { unknownPolicy: true } : { value: r.pick(NEW_VALUES) };
        answers.set(setter.raw, d);
      }
      return d;
    };
    const full = rewrite(text, decide, { fastPath: false });
    assert.deepEqual(rewrite(text, decide), full, id);
    if (full.changes.length > 0) changed++;
  }
  assert.ok(changed > 500, `only ${changed} files changed`);
});
