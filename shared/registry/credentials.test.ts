import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { TidemarkError } from '../errors/index.ts';
import { credentialHost, credentialsFor, dockerConfigFromSecret, parseDockerConfigJson } from './credentials.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('dockerconfigjson', () => {
  const config = parseDockerConfigJson(readFileSync(new URL('./fixtures/dockerconfig.json', import.meta.url), 'utf8'));

  const cases: Array<[string, string | undefined]> = [
    ['ghcr.io', 'ghcr-user'],
    ['docker.io', 'hub-user'],
    ['registry.example.com:5000', 'port-user'],
    ['registry.example.com', 'plain-user'],
    ['quay.io', 'quay-user'],
    ['127.0.0.1:5000', 'loopback-user'],
    ['GHCR.IO', 'ghcr-user'],
    ['gcr.io', undefined],
    ['example.com', undefined],
  ];
  for (const [host, user] of cases) {
    it(`matches ${host}`, () => {
      assert.equal(credentialsFor(config, host)?.username, user);
    });
  }

  it('decodes auth as user:password with colons in the password', () => {
    assert.deepEqual(credentialsFor(config, 'ghcr.io'), { username: 'ghcr-user', password: 'pa:ss:word' });
    assert.deepEqual(credentialsFor(config, 'quay.io'), { username: 'quay-user', password: 'quay-pass' });
  });

  it('prefers an exact host over Docker Hub aliases', () => {
    const c = parseDockerConfigJson(
      JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': { auth: b64('legacy:x') },
          'registry-1.docker.io': { auth: b64('api:x') },
        },
      }),
    );
    assert.equal(credentialsFor(c, 'docker.io')?.username, 'legacy');
    assert.equal(credentialsFor(c, 'registry-1.docker.io')?.username, 'api');
  });

  it('normalises keys like Docker', () => {
    assert.equal(credentialHost('https://index.docker.io/v1/'), 'index.docker.io');
    assert.equal(credentialHost('http://r.example.com:5000/v2/'), 'r.example.com:5000');
    assert.equal(credentialHost('r.example.com'), 'r.example.com');
  });

  it('reads a kubernetes.io/dockerconfigjson Secret and the legacy dockercfg', () => {
    const json = JSON.stringify({ auths: { 'ghcr.io': { username: 'u', password: 'p' } } });
    const modern = dockerConfigFromSecret({
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': json },
    });
    assert.deepEqual(credentialsFor(modern, 'ghcr.io'), { username: 'u', password: 'p' });
    const legacy = dockerConfigFromSecret({
      type: 'kubernetes.io/dockercfg',
      data: { '.dockercfg': JSON.stringify({ 'ghcr.io': { auth: b64('l:p') } }) },
    });
    assert.equal(credentialsFor(legacy, 'ghcr.io')?.username, 'l');
  });

  it('treats a config without auths as no credentials', () => {
    assert.equal(credentialsFor(parseDockerConfigJson('{"credsStore":"desktop"}'), 'docker.io'), undefined);
  });

  const bad: Array<[string, string]> = [
    ['not JSON', '{'],
    ['auths not an object', '{"auths": []}'],
    ['entry not an object', '{"auths": {"ghcr.io": "x"}}'],
    ['auth without a colon', JSON.stringify({ auths: { 'ghcr.io': { auth: b64('nocolon') } } })],
    ['auth not base64', JSON.stringify({ auths: { 'ghcr.io': { auth: 'user:secret-in-clear' } } })],
    ['username without password', JSON.stringify({ auths: { 'ghcr.io': { username: 'u' } } })],
  ];
  for (const [name, text] of bad) {
    it(`refuses ${name} without echoing secrets`, () => {
      assert.throws(
        () => parseDockerConfigJson(text),
        (err: unknown) => {
          assert.ok(err instanceof TidemarkError);
          assert.equal(err.code, 'InvalidRegistryCredentials');
          assert.equal(err.kind, 'terminal');
          assert.doesNotMatch(err.message, /secret-in-clear|nocolon/);
          return true;
        },
      );
    });
  }

  it('refuses a Secret without the key', () => {
    assert.throws(() => dockerConfigFromSecret({ type: 'Opaque', data: { password: 'x' } }), {
      code: 'InvalidRegistryCredentials',
    });
  });
});
