import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTidemarkError } from '../../shared/errors/index.ts';
import { createPolicy } from './policy.ts';

test('one constructor per kind, chosen by the single key', () => {
  assert.equal(createPolicy({ numerical: { order: 'desc' } }).kind, 'numerical');
  assert.equal(createPolicy({ numerical: {} }).kind, 'numerical');
  assert.equal(createPolicy({ semver: { range: '^1' } }).kind, 'semver');
  assert.equal(createPolicy({ alphabetical: { order: 'asc' } }).kind, 'alphabetical');
  assert.equal(createPolicy({ alphabetical: undefined, numerical: {} }).kind, 'numerical');
});

test('unknown, missing or doubled kinds are terminal InvalidPolicy errors', () => {
  const cases: [unknown, RegExp][] = [
    [{ regex: { pattern: '.*' } }, /policy has unknown kind "regex"/],
    [{}, /sets none of/],
    [{ numerical: {}, semver: { range: '*' } }, /numerical and semver; set exactly one/],
    [null, /must be an object/],
    ['numerical', /must be an object/],
    [{ numerical: { order: 'newest' } }, /order "newest" is not asc or desc/],
    [{ alphabetical: { sort: 'asc' } }, /unknown field "sort"/],
  ];
  for (const [choice, message] of cases) {
    assert.throws(
      () => createPolicy(choice),
      (err: unknown) => isTidemarkError(err) && err.code === 'InvalidPolicy' && err.kind === 'terminal' && message.test(err.message),
      JSON.stringify(choice),
    );
  }
});

test('a semver kind with a bad range reports the range problem', () => {
  assert.throws(
    () => createPolicy({ semver: { range: '1.2.3.4' } }),
    (err: unknown) => isTidemarkError(err) && err.code === 'InvalidSemverRange',
  );
});
