import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTidemarkError } from '../errors/index.ts';
import { CelBindings, compileCel, MAX_CACHED_SOURCE_CHARS, MAX_EXPRESSION_LENGTH } from './index.ts';

const object = {
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  metadata: { name: 'w', generation: 3 },
  status: { observedGeneration: 3, replicas: 2, ratio: 0.5, conditions: [{ type: 'Ready', status: 'True', reason: 'Done' }] },
};

function compileError(source: string) {
  try {
    compileCel(source);
  } catch (err) {
    assert.ok(isTidemarkError(err));
    return err;
  }
  assert.fail(`${JSON.stringify(source)} compiled`);
}

describe('compileCel', () => {
  it('refuses a syntax error with where and why, as InvalidCELExpression', () => {
    const err = compileError('status.conditions.exists(c, c.type == ');
    assert.equal(err.code, 'InvalidCELExpression');
    assert.equal(err.kind, 'terminal');
    assert.match(err.message, /^invalid CEL expression: 1:\d+: /);
  });

  it('refuses an expression nested too deeply for the parser, as a problem of the expression', () => {
    assert.equal(compileError(`${'('.repeat(2000)}1${')'.repeat(2000)}`).message, 'invalid CEL expression: nested too deeply');
  });

  it('refuses an empty expression and one over the length limit', () => {
    assert.equal(compileError('  ').message, 'must not be empty');
    assert.match(compileError(`${'true && '.repeat(MAX_EXPRESSION_LENGTH / 8)}true`).message, /characters long; at most 4096/);
  });

  it('compiles a text once while it is cached, a bad one too, and forgets the least recent past the bound', () => {
    const first = compileCel('status.phase == "Ready"');
    assert.equal(compileCel('status.phase == "Ready"'), first);
    assert.equal(compileError('1 +'), compileError('1 +'));
    // Distinct texts of 2,000 characters, more than the cache holds together.
    const filler = (i: number) => `${'true && '.repeat(248)}${i} == ${i}`;
    for (let i = 0; i * 2000 <= MAX_CACHED_SOURCE_CHARS; i++) compileCel(filler(i));
    assert.notEqual(compileCel('status.phase == "Ready"'), first);
  });

  it('says how to write an optional selection the library cannot parse', () => {
    const err = compileError("status.?conditions.orValue([]).exists(c, c.type == 'Ready')");
    assert.match(err.hint ?? '', /has\(x\.field\)/);
  });
});

describe('CelExpression.evaluate', () => {
  it('binds each top-level key as a variable; JSON integers are ints and other numbers doubles', () => {
    const yes = (source: string) => assert.deepEqual(compileCel(source).evaluateBoolean(object), { ok: true, value: true }, source);
    yes("status.conditions.exists(c, c.type == 'Ready' && c.status == 'True')");
    yes('status.observedGeneration == metadata.generation');
    yes('status.replicas + 1 == 3');
    yes('type(status.replicas) == int && type(status.ratio) == double');
    yes("kind == 'Widget' && apiVersion.startsWith('example.com/')");
    yes('has(status.replicas) && !has(status.phase)');
    yes("metadata.name.upperAscii() == 'W'");
  });

  it('reports a missing field, an unknown variable and a non-bool result as failures, never throws', () => {
    const expr = compileCel('status.phase == "Ready"');
    const missing = expr.evaluateBoolean(object);
    assert.equal(missing.ok, false);
    assert.match(missing.ok ? '' : missing.message, /phase/);
    assert.deepEqual(compileCel('spec.x == 1 || items.exists(i, i == 2)').evaluate(object), {
      ok: false,
      message: 'no such key: spec, items',
    });
    assert.deepEqual(compileCel('status.replicas').evaluateBoolean(object), { ok: false, message: 'evaluated to the int 2, not a bool' });
  });

  it("has Flux's sets and base64 extensions", () => {
    const yes = (source: string) => assert.deepEqual(compileCel(source).evaluateBoolean({}), { ok: true, value: true }, source);
    yes('sets.contains([1, 2, 3], [3, 1.0])');
    yes('!sets.contains([1, 2], [4])');
    yes("sets.equivalent(['a', 'b'], ['b', 'a', 'a'])");
    yes('sets.intersects([1], [2, 1])');
    yes("base64.encode(b'hi') == 'aGk='");
    yes("base64.decode('aGk=') == b'hi'");
  });

  it('stops at the loop budget, nested loops counted, and the same expression passes with room', () => {
    const items = Array.from({ length: 300 }, (_, i) => i);
    const nested = compileCel('items.all(a, items.all(b, a + b >= 0))');
    assert.deepEqual(nested.evaluateBoolean({ items }, { maxIterations: 90_300 }), { ok: true, value: true });
    const stopped = nested.evaluateBoolean({ items }, { maxIterations: 90_299 });
    assert.deepEqual(stopped, { ok: false, message: 'evaluation stopped after 90299 loop iterations' });
  });

  it('does not let `||` hide a spent budget', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const absorbed = compileCel('items.exists(a, items.exists(b, a == b + 100)) || true');
    assert.equal(absorbed.evaluateBoolean({ items }, { maxIterations: 100 }).ok, false);
    assert.deepEqual(absorbed.evaluateBoolean({ items }), { ok: true, value: true });
  });

  it('reads objects with a __proto__ key as ordinary maps', () => {
    const bindings = JSON.parse('{"data": {"__proto__": {"x": 1}}}') as Record<string, unknown>;
    assert.deepEqual(compileCel("data['__proto__'].x == 1").evaluateBoolean(bindings), { ok: true, value: true });
  });

  it('evaluates several expressions over bindings converted once', () => {
    const bindings = new CelBindings(object);
    assert.deepEqual(compileCel('status.replicas == 2').evaluateBoolean(bindings), { ok: true, value: true });
    assert.deepEqual(compileCel("metadata.name == 'w'").evaluateBoolean(bindings), { ok: true, value: true });
    assert.deepEqual(compileCel('nope').evaluate(bindings), { ok: false, message: 'no such key: nope' });
  });

  it("replace and join as cel-go's, linear and bounded; reverse", () => {
    const yes = (source: string, bindings: Record<string, unknown> = {}) =>
      assert.deepEqual(compileCel(source).evaluateBoolean(bindings), { ok: true, value: true }, source);
    yes("'a-b-c'.replace('-', '+') == 'a+b+c'");
    yes("'a-b-c'.replace('-', '+', 1) == 'a+b-c'");
    yes("'a-b-c'.replace('-', '+', 0) == 'a-b-c'");
    yes("'a-b-c'.replace('-', '+', -1) == 'a+b+c'");
    yes("'ab'.replace('', '.') == '.a.b.'");
    yes("'héllo'.reverse() == 'olléh'");
    yes("['a', 'b'].join() == 'ab' && ['a', 'b'].join(', ') == 'a, b'");
    // A megabyte of matches is one pass, not a million rebuilt strings.
    const big = 'a'.repeat(1 << 20);
    yes("s.replace('a', 'b').size() == 1048576", { s: big });
    const blown = compileCel("s.replace('', 'xxxxxxxx').size() > 0").evaluateBoolean({ s: big });
    assert.deepEqual(blown, { ok: false, message: 'replace: the result would be 4194305 characters, more than 4194304' });
    const joined = compileCel("[s, s, s, s, s].join('').size() > 0").evaluateBoolean({ s: big });
    assert.equal(joined.ok, false);
  });
});
