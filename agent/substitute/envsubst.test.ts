import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { substitute, SubstitutionProblem } from './envsubst.ts';

const vars: Record<string, string> = { name: 'web', empty: '', tag: 'v1.2.3', mixed: 'hello World' };
const lookup = (n: string) => vars[n];
const run = (text: string, strict = true) => substitute(text, lookup, { strict });

describe('envsubst: Flux post-build substitution', () => {
  const cases: [string, string][] = [
    ['image: nginx:${tag}', 'image: nginx:v1.2.3'],
    ['${name}-${name}', 'web-web'],
    ['${missing:=fallback}', 'fallback'],
    ['${missing:-fallback}', 'fallback'],
    ['${empty:-fallback}', 'fallback'],
    ['${empty:=fallback}', 'fallback'],
    ['${empty-fallback}', ''],
    ['${missing-fallback}', 'fallback'],
    ['${name:-fallback}', 'web'],
    ['${missing:=${name}-x}', 'web-x'],
    ['${missing:=}', ''],
    ['$${name}', '${name}'],
    ['$$', '$'],
    ['cost: $5 and $name', 'cost: $5 and $name'],
    ['${#tag}', '6'],
    ['${mixed^^}', 'HELLO WORLD'],
    ['${mixed,,}', 'hello world'],
    ['${name^}', 'Web'],
    ['${tag:1}', '1.2.3'],
    ['${tag:1:3}', '1.2'],
    ['no variables', 'no variables'],
  ];
  for (const [input, want] of cases) {
    it(`${input} → ${want}`, () => assert.equal(run(input), want));
  }

  it('strict mode names the missing variable', () => {
    assert.throws(
      () => run('a: ${name}\nb: ${nope}'),
      (err: unknown) =>
        err instanceof SubstitutionProblem && err.variable === 'nope' && /variable not set \(strict mode\): "nope"/.test(err.message),
    );
    assert.throws(() => run('${nope^^}'), SubstitutionProblem);
  });

  it('without strict mode a missing variable is empty', () => {
    assert.equal(run('a${nope}b', false), 'ab');
  });

  it('refuses malformed and unsupported expressions', () => {
    for (const bad of ['${', '${name', '${1abc}', '${na-me', '${name/a/b}', '${}', '${name:x}']) {
      assert.throws(() => run(bad), SubstitutionProblem, bad);
    }
  });
});
