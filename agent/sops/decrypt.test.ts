import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import type { KubeObject } from '../../shared/kube/object.ts';
import { decryptDocument, decryptObject, isSopsEncrypted, keysFromSecretData } from './decrypt.ts';

// Files encrypted by the real sops tool, with their published test keys (fixtures/README.md).
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const ageKeys = () => keysFromSecretData({ 'flux.agekey': fixture('flux-age.txt') }, 'Secret apps/sops-keys');
const fluxPgp = () => keysFromSecretData({ 'flux.asc': fixture('flux-pgp.asc') }, 'Secret apps/sops-keys');
const sopsPgp = () => keysFromSecretData({ 'sops.asc': fixture('sops-functional-tests-key.asc') }, 'Secret apps/sops-keys');
const object = (name: string) => parse(fixture(name)) as KubeObject;

const rejectsWith =
  (code: string, ...patterns: RegExp[]) =>
  (err: unknown) => {
    const e = err as Error & { code?: string; kind?: string; hint?: string };
    assert.equal(e.code, code, e.message);
    assert.equal(e.kind, 'terminal', e.message);
    assert.ok(e.hint, 'a terminal error says what to do');
    for (const p of patterns) assert.match(e.message, p);
    return true;
  };

describe('sops: decrypting files the sops tool wrote', () => {
  it('opens an age-encrypted Secret (encrypted_regex) and drops the sops block', async () => {
    const encrypted = object('flux-age.yaml');
    assert.equal(isSopsEncrypted(encrypted), true);
    const plain = await decryptObject(encrypted, ageKeys());
    assert.deepEqual(plain, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'age' }, stringData: { key: 'value' } });
    assert.equal(isSopsEncrypted(plain), false);
    assert.match(String((encrypted as { stringData?: { key?: string } }).stringData?.key), /^ENC\[/, 'the input is left as it was');
  });

  it('opens a PGP-encrypted Secret', async () => {
    const plain = await decryptObject(object('flux-pgp.yaml'), fluxPgp());
    assert.deepEqual(plain.stringData, { key: 'value' });
  });

  it("opens sops's own YAML and JSON test files (unencrypted_suffix)", async () => {
    assert.deepEqual(await decryptDocument(parse(fixture('sops-format.enc.yaml')) as Record<string, unknown>, sopsPgp(), 'f'), {
      foo: 'bar',
    });
    const json = JSON.parse(fixture('sops-format.enc.json')) as Record<string, unknown>;
    assert.deepEqual(await decryptDocument(json, sopsPgp(), 'f'), { foo: 'bar' });
  });

  it('tries every key of the Secret: age and PGP side by side', async () => {
    const keys = keysFromSecretData(
      { 'a.agekey': fixture('flux-age.txt'), 'b.asc': fixture('sops-functional-tests-key.asc'), 'c.asc': fixture('flux-pgp.asc') },
      'Secret apps/k',
    );
    assert.equal(keys.age.length, 1);
    assert.equal(keys.pgp.length, 2);
    assert.deepEqual((await decryptObject(object('flux-pgp.yaml'), keys)).stringData, { key: 'value' });
  });

  it('a wrong key fails closed, naming the recipients and the Secret, never a value', async () => {
    await assert.rejects(
      decryptObject(object('flux-age.yaml'), sopsPgp()),
      rejectsWith(
        'DecryptionFailed',
        /Secret\/age/,
        /Secret apps\/sops-keys/,
        /age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29/,
      ),
    );
    await assert.rejects(
      decryptObject(object('flux-pgp.yaml'), ageKeys()),
      rejectsWith('DecryptionFailed', /PGP /, /1 age identities and 0 PGP keys/),
    );
  });

  it('a tampered encrypted value fails closed (GCM tag)', async () => {
    const text = fixture('flux-age.yaml').replace('data:mHeXsmQ=', 'data:mHeXsmM=');
    await assert.rejects(decryptObject(parse(text) as KubeObject, ageKeys()), rejectsWith('DecryptionMACMismatch', /Secret\/age/));
  });

  it('an encrypted value moved to another key fails closed (the key path is authenticated)', async () => {
    const text = fixture('flux-age.yaml').replace('  key: ENC', '  other: ENC');
    await assert.rejects(decryptObject(parse(text) as KubeObject, ageKeys()), rejectsWith('DecryptionMACMismatch'));
  });

  it('a changed plain value fails the MAC', async () => {
    const text = fixture('flux-age.yaml').replace('name: age', 'name: evil');
    await assert.rejects(decryptObject(parse(text) as KubeObject, ageKeys()), rejectsWith('DecryptionMACMismatch', /Secret\/evil/, /MAC/));
    const added = fixture('flux-age.yaml').replace('metadata:\n', 'metadata:\n  namespace: kube-system\n');
    await assert.rejects(decryptObject(parse(added) as KubeObject, ageKeys()), rejectsWith('DecryptionMACMismatch'));
  });

  it('a value left in plain text where the rules say encrypted is refused', async () => {
    const text = fixture('flux-age.yaml').replace(/ {2}key: ENC\[[^\n]*/, '  key: plain');
    await assert.rejects(decryptObject(parse(text) as KubeObject, ageKeys()), rejectsWith('DecryptionFailed', /not a SOPS value/));
  });

  it('keysFromSecretData reads every identity of an .agekey and ignores other keys', () => {
    const keys = keysFromSecretData({ 'x.agekey': `# comment\n${fixture('flux-age.txt')}\nAGE-SECRET-KEY-1ABC\n`, README: 'x' }, 's');
    assert.equal(keys.age.length, 2);
    assert.equal(keys.pgp.length, 0);
  });
});
