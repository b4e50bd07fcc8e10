/**
 * Differential test against Go: fixtures/go-text-template.json holds what Go's text/template
 * printed (or the error it gave) for each template over the data below. Outputs must match
 * byte for byte; errors must be errors of the same kind with the same message, apart from the
 * position (Go gives only a line for parse errors) and the static type Go names in "in type".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GoFloat, TemplateError, TemplateErrorCodes, makeStruct, renderTemplate } from './index.ts';

interface OracleCase {
  template: string;
  output?: string;
  error?: string;
}

const oracle = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'go-text-template.json'), 'utf8')) as {
  cases: OracleCase[];
};

const S = (a: string, b: number) => makeStruct('main.S', { A: a, B: b });
const Img = (ref: string) => makeStruct('main.Img', { Ref: ref }, { string: () => ref });

const data = {
  s: 'hello',
  i: 42,
  f: 3.5,
  fi: new GoFloat(3),
  b: true,
  n: null,
  list: [1, 'two', 3.5, null, true],
  m: { b: 2, a: 1, c: 'x' },
  nested: { inner: { v: 'deep' } },
  empty: [],
  emptys: '',
  zero: 0,
  big: new GoFloat(1e6),
  small: 0.0001,
  tiny: 0.00001,
  neg: -7,
  unicode: 'héllo, 世界',
  st: S('a', 2),
  img: Img('nginx:1.2'),
  imgs: [Img('a:1'), Img('b:2')],
  huge: new GoFloat(123456789),
  third: 1 / 3,
};

function normalise(message: string): string {
  return message.replace(/^template: t:\d+(:\d+)?: /, 'template: t: ').replace(/in type .*$/, 'in type T');
}

test('the oracle fixture is present and substantial', () => {
  assert.ok(oracle.cases.length >= 100);
});

for (const [i, c] of oracle.cases.entries()) {
  test(`go oracle #${i}: ${c.template.slice(0, 60)}`, () => {
    if (c.output !== undefined) {
      assert.equal(renderTemplate(c.template, data, { name: 't' }), c.output);
      return;
    }
    assert.throws(
      () => renderTemplate(c.template, data, { name: 't' }),
      (err: unknown) => {
        assert.ok(err instanceof TemplateError);
        const execution = c.error!.includes(': executing "t" at <');
        assert.equal(err.code, execution ? TemplateErrorCodes.failed : TemplateErrorCodes.invalid);
        assert.equal(err.kind, 'terminal');
        assert.equal(normalise(err.message), normalise(c.error!));
        return true;
      },
    );
  });
}
