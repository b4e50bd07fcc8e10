import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { needlesOf, scanForSecrets, type KnownSecret } from './secret-scan.ts';

const password: KnownSecret = { name: 'password', value: 'pw-3f9a1c77e0b24d18', username: 'reader' };
const scan = (text: string, secret: KnownSecret = password) => scanForSecrets([secret], [{ source: 'out', text }]);

describe('the secret scan', () => {
  it('finds nothing in text without the value', () => {
    assert.deepEqual(scan('git fetch http://***@127.0.0.1:9/app.git failed: Authentication failed'), []);
  });

  it('finds the value, its base64, base64url, URL-encoded and Basic-auth forms', () => {
    const slash: KnownSecret = { name: 'token', value: 'a/b+c?d=e&f~g>h?i' };
    for (const text of [
      `password=${password.value}`,
      `data: ${Buffer.from(password.value).toString('base64')}`,
      `authorization: Basic ${Buffer.from(`reader:${password.value}`).toString('base64')}`,
    ]) {
      assert.equal(scan(text).length, 1, text);
    }
    assert.equal(scan(`url=https://u:${encodeURIComponent(slash.value)}@h/`, slash).length, 1);
    assert.equal(scan(`x ${Buffer.from(slash.value).toString('base64url')} y`, slash).length, 1);
  });

  it('finds a part of 8 characters, and not one of 7', () => {
    assert.equal(scan(`cut: ${password.value.slice(5, 13)}…`).length, 1);
    assert.deepEqual(scan(`cut: ${password.value.slice(5, 12)}…`), []);
  });

  it('counts a whole leaked value once per place, not once per part', () => {
    assert.equal(scan(`${password.value} and again ${password.value}`).length, 2);
  });

  it('does not search the parts a value shares with text of the same shape', () => {
    const key: KnownSecret = {
      name: 'key',
      value: '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ9f8Kq2xZ\n-----END OPENSSH PRIVATE KEY-----\n',
      sameShape: [
        '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ7aa1111\n-----END OPENSSH PRIVATE KEY-----\n',
      ],
    };
    assert.deepEqual(scan('the identity is not a -----BEGIN OPENSSH PRIVATE KEY----- b3BlbnNzaC1rZXktdjEAAAAA', key), []);
    assert.equal(scan('leaked: 9f8Kq2xZ', key).length, 1);
    assert.ok(needlesOf(key).every((n) => n.length >= 8));
  });
});
