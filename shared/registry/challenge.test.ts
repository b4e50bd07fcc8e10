import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pickChallenge } from './auth.ts';
import { parseWwwAuthenticate } from './challenge.ts';

describe('parseWwwAuthenticate', () => {
  it('reads a Docker Hub bearer challenge', () => {
    const [c] = parseWwwAuthenticate(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"',
    );
    assert.deepEqual(c, {
      scheme: 'bearer',
      params: {
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scope: 'repository:library/nginx:pull',
      },
    });
  });

  it('reads basic, unquoted, spaced and escaped parameters', () => {
    assert.deepEqual(parseWwwAuthenticate('Basic realm="Registry Realm"'), [{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
    assert.deepEqual(parseWwwAuthenticate('bearer  Realm = https://h/t , service=svc'), [
      { scheme: 'bearer', params: { realm: 'https://h/t', service: 'svc' } },
    ]);
    assert.deepEqual(parseWwwAuthenticate('Bearer realm="a\\"b",error="insufficient_scope"'), [
      { scheme: 'bearer', params: { realm: 'a"b', error: 'insufficient_scope' } },
    ]);
  });

  it('splits several challenges in one header and across headers', () => {
    const list = parseWwwAuthenticate('Basic realm="x", Bearer realm="https://t/token",service="s"');
    assert.deepEqual(
      list.map((c) => c.scheme),
      ['basic', 'bearer'],
    );
    assert.equal(list[1]?.params.service, 's');
    const fromArray = parseWwwAuthenticate(['Negotiate', 'Bearer realm="r"']);
    assert.deepEqual(
      fromArray.map((c) => c.scheme),
      ['negotiate', 'bearer'],
    );
    assert.equal(pickChallenge(list)?.scheme, 'bearer');
  });

  it('keeps commas inside quoted values', () => {
    const [c] = parseWwwAuthenticate('Bearer realm="https://t/token",scope="repository:a:pull,push"');
    assert.equal(c?.params.scope, 'repository:a:pull,push');
  });

  it('survives garbage without looping', () => {
    assert.deepEqual(parseWwwAuthenticate(undefined), []);
    assert.deepEqual(parseWwwAuthenticate(''), []);
    assert.ok(Array.isArray(parseWwwAuthenticate('=;;"unterminated')));
    const [c] = parseWwwAuthenticate('Bearer realm="unterminated');
    assert.equal(c?.params.realm, 'unterminated');
  });

  it('ignores a bearer challenge without a realm when picking', () => {
    assert.equal(pickChallenge(parseWwwAuthenticate('Bearer service="s"')), undefined);
    assert.equal(pickChallenge(parseWwwAuthenticate('Bearer service="s", Basic realm="r"'))?.scheme, 'basic');
  });
});
