import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TidemarkError } from '../errors/index.ts';
import { familiarName, formatReference, isValidDigest, parseImageReference } from './reference.ts';

const SHA = `sha256:${'a'.repeat(64)}`;

describe('parseImageReference', () => {
  const valid: Array<[string, { registry: string; repository: string; tag?: string; digest?: string; apiHost?: string }]> = [
    ['nginx', { registry: 'docker.io', repository: 'library/nginx', apiHost: 'registry-1.docker.io' }],
    ['nginx:1.27', { registry: 'docker.io', repository: 'library/nginx', tag: '1.27' }],
    ['library/nginx', { registry: 'docker.io', repository: 'library/nginx' }],
    ['docker.io/nginx', { registry: 'docker.io', repository: 'library/nginx' }],
    ['index.docker.io/nginx', { registry: 'docker.io', repository: 'library/nginx' }],
    ['bitnami/redis:7', { registry: 'docker.io', repository: 'bitnami/redis', tag: '7' }],
    ['ghcr.io/org/app', { registry: 'ghcr.io', repository: 'org/app', apiHost: 'ghcr.io' }],
    ['ghcr.io/org/team/sub/app:v1.2.3', { registry: 'ghcr.io', repository: 'org/team/sub/app', tag: 'v1.2.3' }],
    ['127.0.0.1:5000/team/app', { registry: '127.0.0.1:5000', repository: 'team/app', apiHost: '127.0.0.1:5000' }],
    ['127.0.0.1:5000/team/app:1.0', { registry: '127.0.0.1:5000', repository: 'team/app', tag: '1.0' }],
    ['localhost/x', { registry: 'localhost', repository: 'x' }],
    ['localhost:5000/x:latest', { registry: 'localhost:5000', repository: 'x', tag: 'latest' }],
    // Without a slash the part after ':' is a tag, as in Docker.
    ['localhost:5000', { registry: 'docker.io', repository: 'library/localhost', tag: '5000' }],
    [`nginx@${SHA}`, { registry: 'docker.io', repository: 'library/nginx', digest: SHA }],
    [`ghcr.io/org/app:1.0@${SHA}`, { registry: 'ghcr.io', repository: 'org/app', tag: '1.0', digest: SHA }],
    ['Registry.Example.com/app', { registry: 'Registry.Example.com', repository: 'app' }],
    ['[::1]:5000/app:v1', { registry: '[::1]:5000', repository: 'app', tag: 'v1' }],
    ['quay.io/org/a_b.c-d__e---f', { registry: 'quay.io', repository: 'org/a_b.c-d__e---f' }],
    ['foo/bar:master-1a2b3c4-1700000000', { registry: 'docker.io', repository: 'foo/bar', tag: 'master-1a2b3c4-1700000000' }],
  ];
  for (const [input, expected] of valid) {
    it(`parses ${input}`, () => {
      const ref = parseImageReference(input);
      assert.equal(ref.registry, expected.registry);
      assert.equal(ref.repository, expected.repository);
      assert.equal(ref.tag, expected.tag);
      assert.equal(ref.digest, expected.digest);
      assert.equal(ref.name, `${expected.registry}/${expected.repository}`);
      if (expected.apiHost) assert.equal(ref.apiHost, expected.apiHost);
    });
  }

  const invalid = [
    '',
    'NGINX',
    'docker.io/Org/app',
    'nginx:',
    'nginx:-bad',
    `nginx:${'a'.repeat(129)}`,
    'nginx@sha256:abc',
    `nginx@md5:${'a'.repeat(64)}`,
    `nginx@sha256:${'A'.repeat(64)}`,
    'a'.repeat(64),
    'ghcr.io/org//app',
    'ghcr.io/org/app/',
    '/app',
    'ghcr.io/-org/app',
    'gh_cr.io/app',
    'ghcr.io/org/app name',
    ` nginx`,
    `ghcr.io/${'a'.repeat(250)}`,
  ];
  for (const input of invalid) {
    it(`refuses ${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input)}`, () => {
      assert.throws(
        () => parseImageReference(input),
        (err: unknown) => err instanceof TidemarkError && err.code === 'InvalidImageReference' && err.kind === 'terminal',
      );
    });
  }

  it('formats the canonical and familiar forms', () => {
    const ref = parseImageReference(`nginx:1.0@${SHA}`);
    assert.equal(formatReference(ref), `docker.io/library/nginx:1.0@${SHA}`);
    assert.equal(familiarName(ref), 'nginx');
    assert.equal(familiarName(parseImageReference('bitnami/redis')), 'bitnami/redis');
    assert.equal(familiarName(parseImageReference('library/a/b')), 'library/a/b');
    assert.equal(familiarName(parseImageReference('ghcr.io/o/a')), 'ghcr.io/o/a');
  });

  it('validates digests by algorithm length', () => {
    assert.equal(isValidDigest(SHA), true);
    assert.equal(isValidDigest(`sha512:${'0'.repeat(128)}`), true);
    assert.equal(isValidDigest(`sha512:${'0'.repeat(64)}`), false);
    assert.equal(isValidDigest('sha256:'), false);
  });
});
