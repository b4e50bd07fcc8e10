import { test } from 'node:test';
import assert from 'node:assert/strict';
import { credentialKind, readRepositoryImport, repositoryView } from './repositories.ts';

const fieldsOf = (input: Record<string, string>) => {
  const read = readRepositoryImport({ name: 'repo', namespace: 'apps', ...input });
  return read.ok ? [] : read.problems.map((p) => p.field);
};

test('an SSH URL needs a key; a key must be a private key; an unknown credential is refused', () => {
  assert.deepEqual(fieldsOf({ url: 'ssh://git@git.example/shop.git' }), ['credential']);
  assert.deepEqual(fieldsOf({ url: 'ssh://git@git.example/shop.git', credential: 'ssh', identity: 'hello', knownHosts: 'h k' }), [
    'credential',
  ]);
  assert.deepEqual(fieldsOf({ url: 'https://git.example/shop.git', credential: 'magic' }), ['credential']);
  assert.deepEqual(fieldsOf({ url: 'https://git.example/shop.git' }), []);
});

test('the SSH key is stored under the keys the agent reads (identity, known_hosts)', () => {
  const read = readRepositoryImport({
    name: 'repo',
    namespace: 'apps',
    url: 'git@git.example:shop.git',
    credential: 'ssh',
    identity: '-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n',
    knownHosts: 'git.example ssh-ed25519 AAAA',
  });
  assert.ok(read.ok);
  assert.deepEqual(Object.keys(read.secret.stringData as object), ['identity', 'known_hosts']);
});

test('the view says which credential by its keys, and carries no data', () => {
  assert.equal(credentialKind(['username', 'password']), 'basic');
  assert.equal(credentialKind(['bearerToken']), 'token');
  assert.equal(credentialKind(['identity', 'known_hosts']), 'ssh');
  assert.equal(credentialKind([]), 'none');
  const view = repositoryView({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'r', namespace: 'a', annotations: { 'tidemark.dev/repository-url': 'https://x/y.git' } },
    data: { bearerToken: 'c2VjcmV0' },
  });
  assert.ok(!JSON.stringify(view).includes('c2VjcmV0'));
  assert.equal(view.credential, 'token');
});
