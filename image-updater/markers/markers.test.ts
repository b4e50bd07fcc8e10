import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import {
  decideFromPolicies,
  doubleQuoted,
  encodeScalar,
  findMarkers,
  hasMarker,
  imageReference,
  isCandidateFile,
  isSafePlain,
  parseMarkerComment,
  parseSetter,
  rewrite,
  singleQuoted,
  valueForField,
} from './index.ts';
import type { Decide } from './index.ts';

const app = { name: '127.0.0.1:5000/app', tag: 'master-abc-2' };
const decideApp = decideFromPolicies({ 'default:app': app });

test('screening: only the quoted token and only YAML/Kustomization names', () => {
  assert.equal(hasMarker('image: x # {"$imagepolicy": "a:b"}'), true);
  assert.equal(hasMarker('image: x # {$imagepolicy: a:b}'), false);
  assert.equal(hasMarker('just $imagepolicy in prose'), false);
  for (const p of ['a.yaml', 'dir/b.yml', 'Kustomization', 'x/kustomization', 'x\\y\\kustomization']) assert.ok(isCandidateFile(p), p);
  for (const p of ['a.json', 'values.YAML', 'kustomization.txt', 'Kustomization.bak', 'yaml', 'README.md'])
    assert.ok(!isCandidateFile(p), p);
});

test('setter parsing: the three-part forms and what is rejected', () => {
  assert.deepEqual(parseSetter('ns:app'), {
    ok: true,
    setter: { raw: 'ns:app', namespace: 'ns', name: 'app', field: 'image' },
  });
  for (const field of ['tag', 'name', 'digest'] as const) {
    const r = parseSetter(`ns:app:${field}`);
    assert.ok(r.ok && r.setter.field === field);
  }
  for (const bad of ['app', 'ns:', ':app', 'ns:app:color', 'a:b:tag:x', 'ns:my app', '', 'NS:app', 'ns:App', 'ns:app_1']) {
    assert.equal(parseSetter(bad).ok, false, bad);
  }
  // A name no object can have is refused, and quoted by its start only.
  assert.deepEqual(parseSetter(`ns:${'p'.repeat(3_000_000)}`), {
    ok: false,
    reason: `marker policy "ns:${'p'.repeat(61)}…" (3000003 characters): the name must be at most 253 characters`,
  });
  assert.deepEqual(parseSetter(`${'n'.repeat(64)}:app`), {
    ok: false,
    reason: `marker policy "${'n'.repeat(64)}…" (68 characters): the namespace must be at most 63 characters`,
  });
});

test('marker comments: JSON object of strings, leading #s dropped, nothing trailing', () => {
  assert.ok(parseMarkerComment('# {"$imagepolicy": "a:b"}').ok);
  assert.ok(parseMarkerComment('##   {"$imagepolicy": "a:b:tag"}   ').ok);
  assert.ok(parseMarkerComment('# {"$imagepolicy": "a:b", "other": "x"}').ok);
  assert.equal(parseMarkerComment('# {"$imagepolicy": "a:b"} trailing').ok, false);
  assert.equal(parseMarkerComment('# {"$imagepolicy": "a:b"').ok, false);
  assert.equal(parseMarkerComment('# {"$imagepolicy": 1}').ok, false);
  assert.equal(parseMarkerComment('# {"$imagepolicy": ""}').ok, false);
  assert.equal(parseMarkerComment('# ["$imagepolicy"]').ok, false);
});

test('decisions: every marker form, digests only when reflected', () => {
  const d = { name: 'ghcr.io/x/app', tag: '1.2.3', digest: 'sha256:abc' };
  assert.equal(imageReference(d), 'ghcr.io/x/app:1.2.3@sha256:abc');
  assert.equal(imageReference({ name: 'app', tag: '1' }), 'app:1');
  assert.equal(imageReference({ name: 'app', tag: '', digest: 'sha256:abc' }), 'app@sha256:abc');
  assert.deepEqual(valueForField('image', d), { value: 'ghcr.io/x/app:1.2.3@sha256:abc' });
  assert.deepEqual(valueForField('tag', d), { value: '1.2.3' });
  assert.deepEqual(valueForField('name', d), { value: 'ghcr.io/x/app' });
  assert.deepEqual(valueForField('digest', d), { value: 'sha256:abc' });
  assert.ok('unavailable' in valueForField('digest', { name: 'a', tag: '1' }));
  const decide = decideFromPolicies(new Map([['ns:a', d]]));
  assert.deepEqual(decide({ raw: 'ns:b', namespace: 'ns', name: 'b', field: 'image' }), { unknownPolicy: true });
  // Object keys inherited from the prototype are not policies.
  assert.deepEqual(decideFromPolicies({})({ raw: 'x:toString', namespace: 'x', name: 'toString', field: 'image' }), {
    unknownPolicy: true,
  });
  assert.deepEqual(
    decideFromPolicies({ 'x:constructor': d })({
      raw: 'x:constructor',
      namespace: 'x',
      name: 'constructor',
      field: 'tag',
    }),
    { value: '1.2.3' },
  );
});

test('plain safety: values YAML would read as something else get quoted', () => {
  for (const v of ['nginx', 'nginx:1.2', '127.0.0.1:5000/app:master-abc-2', 'sha256:abc', 'v1.10', '1.10-alpine', 'a=b']) {
    assert.ok(isSafePlain(v, false), v);
  }
  for (const v of [
    '1.10',
    '10',
    '1e3',
    '0x1F',
    '0o17',
    '017',
    'true',
    'yes',
    'on',
    'off',
    'y',
    'n',
    'null',
    '~',
    '.inf',
    '.nan',
    '2024-01-01',
    '1:20',
    '',
    ' lead',
    'trail ',
    'a: b',
    'a #b',
    '- x',
    '[x]',
    '{x}',
    '*x',
    '&x',
    '!x',
    '@x',
    '%x',
    '`x',
    '|',
    '>',
    "'x",
    '"x',
    'two\nlines',
    'tab\there',
  ]) {
    assert.ok(!isSafePlain(v, false), JSON.stringify(v));
  }
  assert.ok(isSafePlain('a,b', false));
  assert.ok(!isSafePlain('a,b', true));
  assert.ok(!isSafePlain('a]', true));
});

test('encoding keeps the style and escapes for it', () => {
  assert.equal(encodeScalar('nginx:1', 'PLAIN', false), 'nginx:1');
  assert.equal(encodeScalar('1.10', 'PLAIN', false), '"1.10"');
  assert.equal(encodeScalar('1.10', 'QUOTE_SINGLE', false), "'1.10'");
  assert.equal(encodeScalar("it's", 'QUOTE_SINGLE', false), "'it''s'");
  assert.equal(encodeScalar('say "hi" \\ now', 'QUOTE_DOUBLE', false), '"say \\"hi\\" \\\\ now"');
  assert.equal(encodeScalar('a\nb', 'QUOTE_SINGLE', false), '"a\\nb"');
  assert.equal(doubleQuoted('\u0007\u2028é'), '"\\x07\\u2028é"');
  assert.equal(singleQuoted("''"), "''''''");
  // Whatever we write reads back as the same string.
  for (const v of ['1.10', "it's", 'say "hi"', 'tab\tx', 'bell\u0007', 'é ü', 'a: b', '#x']) {
    for (const style of ['PLAIN', 'QUOTE_SINGLE', 'QUOTE_DOUBLE'] as const) {
      const doc = parseAllDocuments(`k: ${encodeScalar(v, style, false)}\n`)[0]!;
      assert.equal(doc.errors.length, 0);
      assert.equal(doc.get('k'), v, `${style} ${JSON.stringify(v)}`);
    }
  }
});

test('findMarkers reports position, style, path, document and object', () => {
  const text = [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    '  name: web',
    '  namespace: prod',
    '  annotations:',
    '    example.com/image: "nginx" # {"$imagepolicy": "default:app"}',
    'spec:',
    '  containers:',
    '    - image: \'nginx:1\' # {"$imagepolicy": "default:app:tag"}',
    '',
  ].join('\n');
  const { markers, problems } = findMarkers(text);
  assert.deepEqual(problems, []);
  assert.equal(markers.length, 2);
  const [a, b] = markers;
  assert.equal(text.slice(a!.range[0], a!.range[1]), '"nginx"');
  assert.equal(a!.style, 'QUOTE_DOUBLE');
  assert.equal(a!.path, 'metadata.annotations["example.com/image"]');
  assert.equal(a!.line, 7);
  assert.deepEqual(a!.objectId, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'prod' });
  assert.equal(b!.style, 'QUOTE_SINGLE');
  assert.equal(b!.value, 'nginx:1');
  assert.equal(b!.path, 'spec.containers[0].image');
  assert.equal(b!.setter.field, 'tag');
  assert.equal(b!.comment, 'line');
});

test('head comments: directly above a value that starts its line, and only without a line comment', () => {
  const text = [
    'args:',
    '  # {"$imagepolicy": "default:app"}',
    '  - old',
    '  # {"$imagepolicy": "default:app"}',
    '  - kept # a line comment wins',
    '  # {"$imagepolicy": "default:app"}',
    '',
    '  - blank-line-between',
    'value:',
    '  # {"$imagepolicy": "default:app:tag"}',
    '  on-its-own-line',
    '',
  ].join('\n');
  const { markers, problems } = findMarkers(text);
  assert.deepEqual(
    markers.map((m) => [m.value, m.comment, m.setter.field]),
    [
      ['old', 'head', 'image'],
      ['on-its-own-line', 'head', 'tag'],
    ],
  );
  assert.deepEqual(
    problems.map((p) => p.line),
    [4, 6],
  );
  const r = rewrite(text, decideApp);
  assert.equal(r.text, text.replace('  - old', '  - 127.0.0.1:5000/app:master-abc-2').replace('on-its-own-line', 'master-abc-2'));
});

test('a multi-line head comment block is not a marker (as in Flux) and is reported', () => {
  const text = 'list:\n  # managed by automation\n  # {"$imagepolicy": "default:app"}\n  - old\n';
  const r = rewrite(text, decideApp);
  assert.equal(r.text, text);
  assert.deepEqual(
    r.problems.map((p) => p.code),
    ['MarkerInvalid'],
  );
});

test('rewrite: several markers in one document change only their values', () => {
  const text = 'a: x # {"$imagepolicy": "default:app"}\nb: y # {"$imagepolicy": "default:app:tag"}\nc: z\n';
  const r = rewrite(text, decideApp);
  assert.equal(
    r.text,
    'a: 127.0.0.1:5000/app:master-abc-2 # {"$imagepolicy": "default:app"}\nb: master-abc-2 # {"$imagepolicy": "default:app:tag"}\nc: z\n',
  );
  assert.deepEqual(
    r.changes.map((c) => [c.path, c.oldValue, c.newValue, c.setter, c.line]),
    [
      ['a', 'x', '127.0.0.1:5000/app:master-abc-2', 'default:app', 1],
      ['b', 'y', 'master-abc-2', 'default:app:tag', 2],
    ],
  );
  assert.deepEqual(r.problems, []);
});

test('rewrite: a longer or shorter value does not shift the other edits', () => {
  const text = 'a: "short" # {"$imagepolicy": "default:app"}\nb: a-very-long-old-value-indeed # {"$imagepolicy": "default:app:tag"}\n';
  const r = rewrite(text, decideApp);
  assert.equal(
    r.text,
    'a: "127.0.0.1:5000/app:master-abc-2" # {"$imagepolicy": "default:app"}\nb: master-abc-2 # {"$imagepolicy": "default:app:tag"}\n',
  );
});

test('rewrite: multi-line plain and quoted values collapse to the new value on the same lines range', () => {
  const text = 'a: first\n  second # {"$imagepolicy": "default:app:tag"}\nb: 1\n';
  const r = rewrite(text, decideApp);
  assert.equal(r.changes[0]!.oldValue, 'first second');
  assert.equal(r.text, 'a: master-abc-2 # {"$imagepolicy": "default:app:tag"}\nb: 1\n');
});

test('rewrite: unknown and unavailable decisions leave the value and report', () => {
  const decide: Decide = (s) => (s.name === 'gone' ? { unknownPolicy: true } : { unavailable: 'no digest' });
  const text = 'a: x # {"$imagepolicy": "ns:gone"}\nb: y # {"$imagepolicy": "ns:app:digest"}\n';
  const r = rewrite(text, decide);
  assert.equal(r.text, text);
  assert.deepEqual(r.changes, []);
  assert.deepEqual(
    r.problems.map((p) => [p.code, p.line, p.setter]),
    [
      ['MarkerUnknownPolicy', 1, 'ns:gone'],
      ['MarkerValueUnavailable', 2, 'ns:app:digest'],
    ],
  );
});

test('rewrite: unparsable files are untouched and reported once', () => {
  const text = 'a: x # {"$imagepolicy": "default:app"}\nb: [\n';
  const r = rewrite(text, decideApp);
  assert.equal(r.text, text);
  assert.deepEqual(
    r.problems.map((p) => p.code),
    ['FileNotParsable'],
  );
});

test('rewrite: duplicate keys make a file unparsable (as for go-yaml)', () => {
  const text = 'a: x # {"$imagepolicy": "default:app"}\na: y\n';
  assert.deepEqual(
    rewrite(text, decideApp).problems.map((p) => p.code),
    ['FileNotParsable'],
  );
});

test('rewrite: text without the token is returned as is without parsing', () => {
  const text = 'not: [valid';
  assert.deepEqual(
    rewrite(text, () => {
      throw new Error('must not be called');
    }),
    { text, changes: [], problems: [] },
  );
});

test('rewrite: decide is asked with the parsed setter', () => {
  const seen: string[] = [];
  rewrite('a: x # {"$imagepolicy": "ns:p:name"}\n', (s) => {
    seen.push(`${s.namespace}/${s.name}/${s.field}/${s.raw}`);
    return { value: 'x' };
  });
  assert.deepEqual(seen, ['ns/p/name/ns:p:name']);
});

/** The rewrite of `text` with the app policy: its new text and its problems as [code, line]. */
function run(text: string): { text: string; problems: Array<[string, number | undefined]> } {
  const r = rewrite(text, decideApp);
  return { text: r.text, problems: r.problems.map((p) => [p.code, p.line]) };
}

const M = '# {"$imagepolicy": "default:app:tag"}';

test('a marker after "]" or "}" belongs to the collection: nothing is set, it is reported (as in Flux)', () => {
  const text = `args: [a, b] ${M}\nc:\n- {name: x, image: old, sidecar: s} ${M}\n`;
  assert.deepEqual(run(text), {
    text,
    problems: [
      ['MarkerInvalid', 1],
      ['MarkerInvalid', 3],
    ],
  });
  // Inside the brackets, a comment after an element's comma or the element itself is that element's.
  assert.equal(run(`args: [a, old, ${M}\n  c]\n`).text, `args: [a, master-abc-2, ${M}\n  c]\n`);
  assert.equal(run(`c: {image: ${M}\n  old}\n`).text, `c: {image: ${M}\n  master-abc-2}\n`);
});

test('a marker after a key with no value is reported; an explicit empty value is set', () => {
  assert.deepEqual(run(`image: ${M}\nnext: 1\n`).problems, [['MarkerInvalid', 1]]);
  assert.equal(run(`image: '' ${M}\n`).text, `image: 'master-abc-2' ${M}\n`);
  assert.equal(run(`image: ~ ${M}\n`).text, `image: master-abc-2 ${M}\n`);
});

test('a marker on a block scalar header sets the block scalar, which reads back without a final break', () => {
  const r = run(`a:\n  cmd: | ${M}\n    old\n    lines\n  b: 1\n`);
  assert.equal(r.text, `a:\n  cmd: |- ${M}\n    master-abc-2\n  b: 1\n`);
  assert.deepEqual(r.problems, []);
  assert.equal(findMarkers(r.text).markers[0]!.value, 'master-abc-2');
  // A marker-looking line inside the block is content, not a comment.
  assert.deepEqual(run(`cmd: |\n  x ${M}\n`).problems, []);
});

test('an alias is never rewritten in place of its anchor', () => {
  const text = `a: &x old ${M}\nb: *x ${M}\nc: [*x, ${M}\n  d]\n`;
  const r = run(text);
  assert.equal(r.text, text.replace('&x old', '&x master-abc-2'));
  assert.deepEqual(r.problems, [
    ['MarkerInvalid', 2],
    ['MarkerInvalid', 3],
  ]);
});

test('documents: one after "..." without "---" is not read by Flux; a bad "---" line skips the file', () => {
  const r = run(`a: old ${M}\n...\nb: old ${M}\n---\nc: old ${M}\n`);
  assert.equal(r.text, `a: master-abc-2 ${M}\n...\nb: old ${M}\n---\nc: master-abc-2 ${M}\n`);
  assert.deepEqual(r.problems, [['MarkerInvalid', 3]]);
  const bad = `a: 1\n--- !!map\nb: old ${M}\n`;
  assert.deepEqual(run(bad), { text: bad, problems: [['FileNotParsable', 2]] });
});

test('a tab right after "-" makes the file unreadable for go-yaml, so nothing is set', () => {
  const text = `l:\n- \told ${M}\n`;
  assert.deepEqual(run(text), { text, problems: [['FileNotParsable', 2]] });
  assert.equal(run(`l:\n- old\t${M}\n`).text, `l:\n- master-abc-2\t${M}\n`);
});

test('head comments: blank lines between marker and value are allowed; a foot comment is reported', () => {
  assert.equal(run(`v:\n  ${M}\n\n  old\n`).text, `v:\n  ${M}\n\n  master-abc-2\n`);
  assert.equal(run(`l:\n- x\n\n${M}\n- old\n`).text, `l:\n- x\n\n${M}\n- master-abc-2\n`);
  const foot = `l:\n- x\n${M}\n\n- old\n`;
  assert.deepEqual(run(foot), { text: foot, problems: [['MarkerInvalid', 3]] });
});

test('a comment line not indented past its key, between the key and its value, reads as go-yaml reads it', () => {
  // eemeli/yaml alone reads the first as the value "old ? next" and refuses the second.
  assert.equal(run(`k:\n#c\n  old ${M}\n? next\n: v\n`).text, `k:\n#c\n  master-abc-2 ${M}\n? next\n: v\n`);
  assert.deepEqual(run(`k:\n#c\n  old ${M}\nnext: 1\n`), { text: `k:\n#c\n  master-abc-2 ${M}\nnext: 1\n`, problems: [] });
  // A comment line that ends a block scalar stays outside it.
  const block = `k: | ${M}\n  text\n# {"$imagepolicy": "default:app"}\nn:\n# c\n  x\n`;
  assert.equal(run(block).text, block.replace('| ', '|- ').replace('  text', '  master-abc-2'));
});

test('a comment after an anchor or a flow ":" is the line comment of the value below; with a second one, neither counts', () => {
  assert.equal(run(`a: &x ${M}\n  old\n`).text, `a: &x ${M}\n  master-abc-2\n`);
  const two = `a: &x ${M}\n  old # note\n`;
  assert.deepEqual(run(two), { text: two, problems: [['MarkerInvalid', 1]] });
  // After a lone "-" the comment is the item's head comment, and the item's line comment wins.
  const dash = `l:\n- ${M}\n  old # note\n`;
  assert.deepEqual(run(dash), { text: dash, problems: [['MarkerInvalid', 2]] });
});
