import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { kubectlTools } from '../../test/harness/tools.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { renderPath } from '../render/index.ts';
import { keysFromSecretData } from './decrypt.ts';
import { decryptGeneratedSecret } from './generated.ts';
import { generatorSourceMacs, verifiedSourceMacs } from './sources.ts';

/*
 * Flux's own secretGenerator test data (fixtures/README.md): a dotenv file and a file in sops's
 * binary format, encrypted for age by the real sops tool, built by the real kustomize; Flux's test
 * expects `key: value` in each Secret and ConfigMap.
 */

const fixture = (name: string) => readFile(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const roots: string[] = [];
after(() => Promise.all(roots.map((r) => rm(r, { recursive: true, force: true }))));

/** Flux's `envs` and `files` kustomizations side by side; `edit` changes the encrypted files first. */
async function build(edit: (name: string, text: string) => string = (_n, t) => t) {
  const { kubectl } = await kubectlTools();
  const root = await mkdtemp(join(tmpdir(), 'tidemark-sops-generated-'));
  roots.push(root);
  await writeFile(join(root, 'env.env'), edit('env.env', await fixture('flux-envs.env')));
  await writeFile(join(root, 'file.txt'), edit('file.txt', await fixture('flux-files.txt')));
  await writeFile(
    join(root, 'kustomization.yaml'),
    [
      'generatorOptions: {disableNameSuffixHash: true}',
      'secretGenerator:',
      '  - {name: envs-secret, envs: [env.env]}',
      '  - {name: files-secret, files: [key=file.txt]}',
      'configMapGenerator:',
      '  - {name: envs-configmap, envs: [env.env]}',
      '  - {name: files-configmap, files: [key=file.txt]}',
      '',
    ].join('\n'),
  );
  const built = (await renderPath(root, '.', { kustomize: { command: [kubectl, 'kustomize'] } })).map((o) => o.object);
  return { root, built };
}

const byName = (objects: KubeObject[], name: string) => {
  const found = objects.find((o) => o.metadata.name === name);
  assert.ok(found, name);
  return found;
};

describe('sops: Secrets and ConfigMaps kustomize generated from encrypted files', () => {
  it("decrypts Flux's envs and files test data in memory: `key: value`, the sops_* keys gone", async () => {
    const { root, built } = await build();
    const sources = await scan(root);
    assert.equal(sources.verifiedMacs.size, 1, 'the dotenv verified at the source (the whole file in a value verifies itself)');
    assert.equal(sources.generatorMacs.size, 2, 'both files are read by a generator');
    const revealed: string[] = [];
    const out = await Promise.all(built.map((o) => decryptGeneratedSecret(o, keysSync, sources, revealed)));
    assert.deepEqual(byName(out, 'envs-secret').data, { key: Buffer.from('value').toString('base64') });
    assert.deepEqual(byName(out, 'files-secret').data, { key: Buffer.from('value').toString('base64') });
    assert.deepEqual(byName(out, 'envs-configmap').data, { key: 'value' });
    assert.deepEqual(byName(out, 'files-configmap').data, { key: 'value' });
    assert.ok(revealed.includes('value'), 'the plaintext is marked sensitive');
    assert.match(String((byName(built, 'envs-secret').data as Record<string, string>).sops_mac), /\S/, 'the input is left as it was');
  });

  it('a wrong key fails closed; a tampered value fails even where the source MAC was verified', async () => {
    const { root, built } = await build();
    const sources = await scan(root);
    const other = keysFromSecretData({ 'x.asc': await fixture('sops-functional-tests-key.asc') }, 'Secret apps/other');
    await assert.rejects(
      decryptGeneratedSecret(byName(built, 'envs-secret'), other, sources),
      (err: Error & { code?: string }) => err.code === 'DecryptionFailed' && /no key in Secret apps\/other/.test(err.message),
    );
    await assert.rejects(
      decryptGeneratedSecret(byName(built, 'files-secret'), other, sources),
      (err: Error & { code?: string }) => err.code === 'DecryptionFailed',
    );

    const tampered = await build((name, text) => (name === 'env.env' ? text.replace('data:3PTvx6o=', 'data:3PTvx6a=') : text));
    const tamperedSources = await scan(tampered.root);
    assert.equal(tamperedSources.verifiedMacs.size, 0, 'the tampered dotenv does not verify');
    // Even with the original file's MAC counted as verified, the changed value does not authenticate.
    await assert.rejects(
      decryptGeneratedSecret(byName(tampered.built, 'envs-secret'), keysSync, { ...tamperedSources, verifiedMacs: sources.verifiedMacs }),
      (err: Error & { code?: string }) => err.code === 'DecryptionMACMismatch',
    );
    // A line added in the clear: the MAC, checked on the object since the file did not verify.
    const added = await build((name, text) => (name === 'env.env' ? `extra_unencrypted=1\n${text}` : text));
    await assert.rejects(
      decryptGeneratedSecret(byName(added.built, 'envs-secret'), keysSync, await scan(added.root)),
      (err: Error & { code?: string }) => err.code === 'DecryptionMACMismatch' && /MAC does not match/.test(err.message),
    );
    const file = await build((name, text) => (name === 'file.txt' ? text.replace('data:QNbPAYY=', 'data:RNbPAYY=') : text));
    await assert.rejects(
      decryptGeneratedSecret(byName(file.built, 'files-secret'), keysSync, await scan(file.root)),
      (err: Error & { code?: string }) => err.code === 'DecryptionMACMismatch',
    );
  });

  it('leaves alone what no generator read: a Secret in Git carrying an encrypted file for its application', async () => {
    const { root, built } = await build();
    const sources = await scan(root);
    const { data } = byName(built, 'files-secret');
    const written: KubeObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'as-written' }, data };
    assert.equal(await decryptGeneratedSecret(written, keysSync, { ...sources, generatorMacs: new Set() }), written);
    const plain: KubeObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's' },
      data: { a: Buffer.from('sops mac').toString('base64') },
    };
    assert.equal(await decryptGeneratedSecret(plain, keysSync, sources), plain);
  });
});

async function scan(root: string) {
  return { verifiedMacs: await verifiedSourceMacs(root, keysSync), generatorMacs: await generatorSourceMacs(root) };
}

const keysSync = keysFromSecretData(
  { 'flux.agekey': await readFile(new URL('./fixtures/flux-age.txt', import.meta.url), 'utf8') },
  'Secret apps/sops-age',
);
