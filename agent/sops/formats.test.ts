import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { keysFromSecretData } from './decrypt.ts';
import { decryptFlatFile, emitFlatFile, parseSopsDotenv, parseSopsIni, sopsFormatOf } from './formats.ts';

// Files encrypted by the real sops tool, with their published test key (fixtures/README.md).
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const sopsPgp = () => keysFromSecretData({ 'sops.asc': fixture('sops-functional-tests-key.asc') }, 'Secret apps/sops-keys');
const fluxAge = () => keysFromSecretData({ 'flux.agekey': fixture('flux-age.txt') }, 'Secret apps/sops-keys');

const rejectsWith =
  (code: string, ...patterns: RegExp[]) =>
  (err: unknown) => {
    const e = err as Error & { code?: string; kind?: string; hint?: string };
    assert.equal(e.code, code, e.message);
    assert.equal(e.kind, 'terminal', e.message);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  };

async function decrypt(text: string, parse: typeof parseSopsDotenv, keys = sopsPgp()) {
  const file = parse(text, 'f');
  assert.ok(file, 'read as a SOPS file');
  return { file, entries: await decryptFlatFile(file, keys, 'f') };
}

describe('sops: dotenv and INI files the sops tool wrote', () => {
  it("opens sops's dotenv test file as `sops decrypt` does (the key keeps its space)", async () => {
    const { file, entries } = await decrypt(fixture('sops-format.enc.env'), parseSopsDotenv);
    assert.deepEqual(entries, [{ path: ['foo '], value: ' bar' }]);
    assert.equal(emitFlatFile(file.format, entries), 'foo = bar\n', 'what sops decrypt prints');
    assert.equal(file.meta.unencrypted_suffix, '_unencrypted');
    assert.equal((file.meta.pgp as Array<{ fp: string }>)[0]?.fp, 'FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4');
  });

  it("opens sops's INI test files: escaped and triple-quoted metadata, comments and unencrypted values", async () => {
    for (const name of ['sops-format.enc.ini', 'sops-format-2.enc.ini']) {
      const { file, entries } = await decrypt(fixture(name), parseSopsIni);
      assert.deepEqual(entries, [{ path: ['foo', 'bar'], value: 'baz' }], name);
      assert.equal(emitFlatFile(file.format, entries), '[foo]\nbar = baz\n', `${name}: what sops decrypt prints`);
    }
    const { entries } = await decrypt(fixture('sops-example.enc.ini'), parseSopsIni);
    const byKey = Object.fromEntries(entries.map((e) => [e.path.join('.'), e.value]));
    assert.equal(byKey['name.firstName'], 'John');
    assert.equal(byKey['address.city'], 'New York');
    assert.equal(byKey['not private.notsecret_unencrypted'], 'hi there!');
    assert.equal(entries.length, 10);
  });

  it('a file without SOPS metadata is not a SOPS file', () => {
    assert.equal(parseSopsDotenv('A=1\nB=2\n', 'f'), undefined);
    assert.equal(parseSopsIni('[a]\nb = 1\n', 'f'), undefined);
    assert.throws(() => parseSopsDotenv('A=1\nnot a pair\nsops_mac=x\n', 'f'), rejectsWith('DecryptionFailed', /not KEY=VALUE/));
  });

  it('a wrong key fails closed, naming the recipient', async () => {
    const file = parseSopsDotenv(fixture('sops-format.enc.env'), 'app.env');
    assert.ok(file);
    await assert.rejects(decryptFlatFile(file, fluxAge(), 'app.env'), rejectsWith('DecryptionFailed', /app\.env: no key .* PGP FBC7B9E2/));
  });

  it('a tampered value, a value moved to another key or a changed plain value fails the MAC', async () => {
    const env = fixture('sops-format.enc.env');
    // One character of the ciphertext changed: GCM refuses it.
    const flipped = env.replace('data:XBV7lQ==', 'data:XBV7lA==');
    await assert.rejects(decrypt(flipped, parseSopsDotenv), rejectsWith('DecryptionMACMismatch', /does not authenticate/));
    // The value under another name: its key path is authenticated too.
    await assert.rejects(decrypt(env.replace('foo =ENC', 'bar =ENC'), parseSopsDotenv), rejectsWith('DecryptionMACMismatch'));
    // A line added in the clear: the MAC covers every value.
    await assert.rejects(
      decrypt(`${env}extra_unencrypted=1\n`, parseSopsDotenv),
      rejectsWith('DecryptionMACMismatch', /MAC does not match/),
    );
    const ini = fixture('sops-example.enc.ini');
    const changed = ini.replace('notsecret_unencrypted = hi there!', 'notsecret_unencrypted = bye');
    await assert.rejects(decrypt(changed, parseSopsIni), rejectsWith('DecryptionMACMismatch', /MAC does not match/));
  });

  it('names formats by extension as sops and Flux do', () => {
    assert.deepEqual(['a.env', 'b.INI', 'c.yaml', 'd.yml', 'e.json', 'token.encrypted'].map(sopsFormatOf), [
      'dotenv',
      'ini',
      'yaml',
      'yaml',
      'json',
      'binary',
    ]);
  });
});
