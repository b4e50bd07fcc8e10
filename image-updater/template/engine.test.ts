/** Engine behaviour beyond the Go 1.19 oracle: newer Go features, limits, positions, hooks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GoFloat, TemplateError, compileTemplate, makeStruct, renderTemplate } from './index.ts';
import { lex } from './lexer.ts';

test('range over an integer and else-with (Go 1.22 / 1.23)', () => {
  assert.equal(
    renderTemplate('{{ range 3 }}{{ . }}{{ end }}|{{ range $i := 2 }}{{ $i }}{{ end }}|{{ range 0 }}x{{ else }}none{{ end }}', {}),
    '012|01|none',
  );
  assert.throws(() => renderTemplate('{{ range $i, $j := 3 }}{{ end }}', {}), /can't use 3 to iterate over more than one variable/);
  assert.equal(renderTemplate('{{ with .a }}a{{ else with .b }}b={{ . }}{{ else }}none{{ end }}', { b: 'B' }), 'b=B');
  assert.equal(renderTemplate('{{ with .a }}a{{ else with .b }}b{{ else }}none{{ end }}', {}), 'none');
});

test('break and continue leave the innermost range only', () => {
  const t =
    '{{ range $i := .outer }}{{ range $j := $.inner }}{{ if eq $j 1 }}{{ continue }}{{ end }}{{ if eq $j 3 }}{{ break }}{{ end }}{{ $i }}{{ $j }} {{ end }}|{{ end }}';
  assert.equal(renderTemplate(t, { outer: [0, 1], inner: [0, 1, 2, 3, 4] }), '00 02 |10 12 |');
});

test('variables: scope ends with the block, assignment reaches outer variables', () => {
  assert.equal(renderTemplate('{{ $x := "a" }}{{ range .l }}{{ $x = . }}{{ $y := . }}{{ end }}{{ $x }}', { l: ['b', 'c'] }), 'c');
  assert.throws(() => renderTemplate('{{ range .l }}{{ $y := . }}{{ end }}{{ $y }}', { l: [1] }), /undefined variable "\$y"/);
  assert.equal(renderTemplate('{{ with $v := .a }}{{ $v }}{{ $ }}{{ end }}', { a: 'x' }), 'xmap[a:x]');
});

test('maps range in sorted key order, including non-string keys', () => {
  const m = new Map<unknown, unknown>([
    [3, 'c'],
    [1, 'a'],
    [2, 'b'],
  ]);
  assert.equal(renderTemplate('{{ range $k, $v := . }}{{ $k }}{{ $v }}{{ end }}', m), '1a2b3c');
  assert.equal(renderTemplate('{{ . }}', { é: 1, z: 2, A: 3 }), 'map[A:3 z:2 é:1]');
});

test('structs: fields, members, String() hook, method calls with arguments', () => {
  const s = makeStruct(
    'pkg.T',
    { Name: 'n', Count: 2 },
    {
      string: () => 'T(n)',
      members: { Greet: (who: unknown) => `hi ${String(who)}`, Promoted: 'p' },
    },
  );
  assert.equal(
    renderTemplate('{{ . }} {{ .Name }} {{ .Count }} {{ .Promoted }} {{ .Greet "bob" }} {{ printf "%+v" . }}', s),
    'T(n) n 2 p hi bob T(n)',
  );
  const plain = makeStruct('pkg.P', { A: 1, B: 'x' });
  assert.equal(renderTemplate('{{ . }} {{ printf "%+v" . }}', plain), '{1 x} {A:1 B:x}');
  assert.throws(() => renderTemplate('{{ .Nope }}', plain), /can't evaluate field Nope in type pkg.P/);
  assert.throws(() => renderTemplate('{{ .A 1 }}', plain), /A has arguments but cannot be invoked as function/);
});

test('printing: floats as Go %v, missing keys, nil', () => {
  assert.equal(
    renderTemplate('{{ .a }} {{ .b }} {{ .c }} {{ .d }} {{ .e }}', {
      a: new GoFloat(2),
      b: 1e21,
      c: 0.5,
      d: undefined,
      e: null,
    }),
    '2 1e+21 0.5 <no value> <no value>',
  );
  assert.equal(renderTemplate('{{ 9223372036854775807 }}', {}), '9223372036854775807');
});

test('call invokes a function value', () => {
  assert.equal(renderTemplate('{{ call .f 2 3 }}', { f: (a: unknown, b: unknown) => Number(a) * Number(b) }), '6');
  assert.throws(() => renderTemplate('{{ call .x }}', { x: 1 }), /non-function/);
});

test('errors are terminal with Go-style positions, and firstLine shifts lines', () => {
  try {
    renderTemplate('a\nb {{ .x.y }}', { x: 1 }, { name: 'msg' });
    assert.fail('expected an error');
  } catch (err) {
    assert.ok(err instanceof TemplateError);
    assert.equal(err.code, 'CommitTemplateFailed');
    assert.equal(err.kind, 'terminal');
    assert.equal(err.line, 2);
    assert.equal(err.col, 7);
    assert.match(err.message, /^template: msg:2:7: executing "msg" at <\.x\.y>: can't evaluate field y in type int$/);
    assert.ok(err.hint);
  }
  try {
    compileTemplate('prefix\n{{ if }}', { name: 'msg', firstLine: 0 });
    assert.fail('expected an error');
  } catch (err) {
    assert.ok(err instanceof TemplateError);
    assert.equal(err.code, 'InvalidCommitTemplate');
    assert.equal(err.line, 1);
    assert.match(err.message, /^template: msg:1:6: missing value for if$/);
  }
});

test('error context is cut at 20 characters as Go does', () => {
  assert.throws(() => renderTemplate('{{ index .list 100000000 1 2 3 }}', { list: [] }), /at <index \.list 10000000\.\.\.>/);
});

test('limits bound output and work', () => {
  const limits = { maxOutput: 100, maxSteps: 1000, maxDepth: 5, maxWork: 10_000 };
  assert.throws(() => renderTemplate('{{ range 1000 }}xxxxxxxxxx{{ end }}', {}, { limits }), /output exceeds 100 characters/);
  assert.throws(() => renderTemplate('{{ range 100000 }}{{ end }}', {}, { limits }), /exceeded 1000 evaluation steps/);
  assert.throws(
    () => renderTemplate('{{ define "r" }}{{ template "r" . }}{{ end }}{{ template "r" . }}', {}, { limits }),
    /exceeded maximum template depth \(5\)/,
  );
  // A list grown on every pass costs quadratic work although it takes few steps.
  assert.throws(
    () =>
      renderTemplate(
        '{{ $l := list }}{{ range 1000 }}{{ $l = append $l . }}{{ end }}',
        {},
        { limits: { ...limits, maxSteps: 1e6, maxOutput: 1e6 } },
      ),
    /exceed 10000 units of work/,
  );
  assert.throws(() => renderTemplate('{{ indent 100000000 "x" }}', {}), /longer than/);
  // Go drops an absurd width with the rest of the format rather than padding gigabytes.
  assert.equal(renderTemplate('{{ printf "%99999999d|" 1 }}', {}), '%!(NOVERB)%!(EXTRA int=1)');
  assert.throws(() => renderTemplate('{{ replace "" (repeat 1000 "ab") (repeat 1000 "cd") }}', {}), /longer than/);
});

test('lexer: trim markers need a space; -3 is a number', () => {
  const types = (s: string): string[] => lex(s).map((i) => `${i.type}:${i.val}`);
  assert.deepEqual(types('{{-3}}'), ['leftDelim:{{', 'number:-3', 'rightDelim:}}', 'eof:']);
  assert.deepEqual(types('a {{- 3 -}} b'), ['text:a', 'leftDelim:{{', 'number:3', 'rightDelim:}}', 'text:b', 'eof:']);
  assert.deepEqual(
    lex('x\n\n{{ .a }}').map((i) => i.line),
    [1, 3, 3, 3, 3, 3, 3],
  );
});

test('comments and text survive exactly, including CRLF and unicode', () => {
  assert.equal(renderTemplate('a\r\n{{/* note */}}b é {{ "世界" }}\r\n', {}), 'a\r\nb é 世界\r\n');
});
