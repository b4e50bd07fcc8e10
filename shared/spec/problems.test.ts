import { test } from 'node:test';
import assert from 'node:assert/strict';
import { terminal } from '../errors/index.ts';
import { Problems } from './problems.ts';

test('Problems: paths, renames, checks and compile steps', () => {
  const problems = new Problems({ prefix: 'spec.imageRepository.', rename: (p) => p.replace(/^secretRef\.name$/, 'secretRef') });
  problems.add('', 'must be an object');
  problems.add('secretRef.name', 'bad');
  assert.equal(
    problems.check('interval', () => {
      throw terminal('InvalidDuration', 'invalid duration "x"', 'use 5m');
    }),
    undefined,
  );
  assert.equal(
    problems.attempt(() => {
      throw terminal('InvalidPolicy', 'policy sets two kinds');
    }),
    undefined,
  );
  assert.equal(
    problems.check('x', () => 42),
    42,
  );
  assert.deepEqual(
    problems.errors.map((e) => [e.code, e.message, e.hint]),
    [
      ['InvalidSpec', 'spec.imageRepository: must be an object', undefined],
      ['InvalidSpec', 'spec.imageRepository.secretRef: bad', undefined],
      ['InvalidDuration', 'spec.imageRepository.interval: invalid duration "x"', 'use 5m'],
      ['InvalidPolicy', 'spec.imageRepository.policy sets two kinds', undefined],
    ],
  );
  assert.throws(() => problems.check('x', () => JSON.parse('{') as unknown), SyntaxError, 'only TidemarkErrors become problems');
});
