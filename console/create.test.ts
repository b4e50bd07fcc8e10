import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readNewCd } from './create.ts';

test('a complete form becomes a ContinuousDeployment with the alias and description annotations', () => {
  const read = readNewCd({
    name: 'shop',
    namespace: 'apps',
    alias: 'Shop',
    description: '',
    spec: {
      url: 'https://git.example/shop.git',
      path: 'deploy',
      git: { branch: 'main' },
      syncPolicy: { prunePropagationPolicy: 'background' },
    },
  });
  assert.ok(read.ok);
  assert.deepEqual(read.cd.metadata, { name: 'shop', namespace: 'apps', annotations: { 'kubesphere.io/alias-name': 'Shop' } });
  assert.equal(read.cd.spec.url, 'https://git.example/shop.git');
});

test('every problem at once, each by the field path the form shows it beside', () => {
  const read = readNewCd({
    name: 'Shop!',
    namespace: '',
    alias: 'x'.repeat(64),
    spec: { url: '', pullInterval: 'often', syncPolicy: { prunePropagationPolicy: 'sometimes' } },
  });
  assert.ok(!read.ok);
  const fields = read.problems.map((p) => p.field);
  for (const field of [
    'metadata.name',
    'metadata.namespace',
    'metadata.annotations.alias',
    'spec.url',
    'spec.pullInterval',
    'spec.syncPolicy.prunePropagationPolicy',
  ]) {
    assert.ok(fields.includes(field), `${field} in ${fields.join(', ')}`);
  }
});

test('the image automation block is read as the image updater reads it', () => {
  const fieldsOf = (imageRepository: Record<string, unknown>) => {
    const read = readNewCd({ name: 'shop', namespace: 'apps', spec: { url: 'https://git.example/shop.git', imageRepository } });
    return read.ok ? [] : read.problems.map((p) => p.field);
  };
  assert.deepEqual(fieldsOf({ image: 'registry.example/shop' }), ['spec.imageRepository.policy']);
  assert.deepEqual(fieldsOf({ image: 'registry.example/shop', filterTags: { pattern: 5 }, policy: { semver: { range: '>=1.0.0' } } }), [
    'spec.imageRepository.filterTags.pattern',
  ]);
  assert.deepEqual(fieldsOf({ image: 'registry.example/shop', policy: { semver: { range: '>=1.0.0' } } }), []);
});
