import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import type { KubeObject } from '../../shared/kube/object.ts';
import { decryptObject, keysFromSecretData } from './decrypt.ts';
import { verifiedSourceMacs } from './sources.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const keys = () => keysFromSecretData({ 'flux.agekey': fixture('flux-age.txt') }, 'Secret apps/sops-keys');
const macOf = (text: string) => (parse(text) as { sops: { mac: string } }).sops.mac;

describe('sops: source files verified in the checkout (a kustomization may change the built object)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tidemark-sops-sources-'));
    await mkdir(join(dir, 'base'));
    await writeFile(join(dir, 'base', 'secret.yaml'), fixture('flux-age.yaml'));
    await writeFile(join(dir, 'base', 'kustomization.yaml'), 'resources: [secret.yaml]\n');
    // Tampered: a plain value changed after encryption.
    await writeFile(join(dir, 'tampered.yaml'), fixture('flux-pgp.yaml').replace('name: pgp', 'name: evil'));
    await writeFile(join(dir, 'other-keys.json'), fixture('sops-format.enc.json'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the MACs of files that verify with the keys, and only those', async () => {
    const verified = await verifiedSourceMacs(dir, keys());
    assert.deepEqual([...verified], [macOf(fixture('flux-age.yaml'))]);
    const withPgp = await verifiedSourceMacs(dir, keysFromSecretData({ 'f.asc': fixture('flux-pgp.asc') }, 's'));
    assert.deepEqual([...withPgp], [], 'a tampered file never verifies, whatever the key');
  });

  it('an object the overlay changed decrypts when its source verified, and fails the MAC otherwise', async () => {
    const built = parse(fixture('flux-age.yaml')) as KubeObject;
    built.metadata = { ...built.metadata, name: `prefix-${built.metadata.name}`, namespace: 'apps', labels: { team: 'a' } };
    await assert.rejects(decryptObject(built, keys()), (err: Error & { code?: string }) => err.code === 'DecryptionMACMismatch');
    const verified = await verifiedSourceMacs(dir, keys());
    const plain = await decryptObject(built, keys(), undefined, verified);
    assert.deepEqual(plain.stringData, { key: 'value' });
    assert.equal(plain.metadata.name, 'prefix-age');
  });

  it('a value changed in the built object still fails: each value authenticates itself', async () => {
    const built = parse(fixture('flux-age.yaml').replace('data:mHeXsmQ=', 'data:mHeXsmM=')) as KubeObject;
    const verified = await verifiedSourceMacs(dir, keys());
    await assert.rejects(
      decryptObject(built, keys(), undefined, verified),
      (err: Error & { code?: string }) => err.code === 'DecryptionMACMismatch',
    );
  });
});
