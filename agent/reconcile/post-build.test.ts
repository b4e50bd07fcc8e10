import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { Resources } from '../../shared/api/resources.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import type { NamespaceObjects } from './context.ts';
import { reconcile } from './index.ts';
import { configMap, names, world } from './test-kit.ts';

const fixture = (name: string) => readFileSync(new URL(`../sops/fixtures/${name}`, import.meta.url), 'utf8');

/** The deployment's namespace as a map; every read is counted. */
function namespaceObjects(objects: {
  configMaps?: Record<string, Record<string, string>>;
  secrets?: Record<string, Record<string, string>>;
}) {
  const reads: string[] = [];
  const reader: NamespaceObjects = {
    configMap: (name) => {
      reads.push(`ConfigMap/${name}`);
      return Promise.resolve(objects.configMaps?.[name]);
    },
    secret: (name) => {
      reads.push(`Secret/${name}`);
      return Promise.resolve(objects.secrets?.[name]);
    },
  };
  return { reader, reads };
}

const templated = (): KubeObject => configMap('app-${env}', { region: '${region:=eu}', token: 'Bearer ${token}', literal: '$${HOME}' });

test('postBuild: variables from a ConfigMap, a Secret and the spec are substituted before apply', async () => {
  const w = world({
    postBuild: {
      substitute: { env: 'prod' },
      substituteFrom: [
        { kind: 'ConfigMap', name: 'vars' },
        { kind: 'Secret', name: 'secret-vars' },
        { kind: 'ConfigMap', name: 'absent', optional: true },
      ],
    },
  });
  const ns = namespaceObjects({ configMaps: { vars: { env: 'dev', region: 'us' } }, secrets: { 'secret-vars': { token: 'hunter2' } } });
  w.deps.namespaceObjects = ns.reader;
  w.git.commit([templated()]);
  const outcome = await reconcile(w.input(), w.deps);
  assert.equal(outcome.error, undefined, outcome.error?.message);
  const live = await w.kube.get(Resources.ConfigMap, 'apps', 'app-prod');
  assert.deepEqual(live?.data, { region: 'us', token: 'Bearer hunter2', literal: '${HOME}' });
  assert.deepEqual(outcome.sensitive, ['hunter2']);
  assert.deepEqual(ns.reads, ['ConfigMap/vars', 'Secret/secret-vars', 'ConfigMap/absent']);
});

test('postBuild: a missing variable fails the render — nothing applied, nothing pruned', async () => {
  const w = world({ postBuild: { substitute: { env: 'prod' } } });
  w.deps.namespaceObjects = namespaceObjects({}).reader;
  w.git.commit([configMap('keep', { a: 'b' })]);
  const first = await reconcile(w.input(), w.deps);
  assert.equal(first.error, undefined);
  w.record(first);
  w.git.commit([templated()]);
  const outcome = await reconcile(w.input(), w.deps);
  assert.equal(outcome.failedPhase, 'render');
  assert.equal(outcome.error?.code, 'SubstitutionFailed');
  assert.match(outcome.error?.message ?? '', /ConfigMap\/app-\$\{env\}.*"token"/);
  assert.deepEqual(names(outcome.changes), []);
  assert.ok(await w.kube.get(Resources.ConfigMap, 'apps', 'keep'), 'the old object is not pruned');
});

test('postBuild: a required source that does not exist is VariablesNotFound', async () => {
  const w = world({ postBuild: { substituteFrom: [{ kind: 'Secret', name: 'nope' }] } });
  w.deps.namespaceObjects = namespaceObjects({}).reader;
  w.git.commit([configMap('x', { a: 'b' })]);
  const outcome = await reconcile(w.input(), w.deps);
  assert.equal(outcome.error?.code, 'VariablesNotFound');
  assert.match(outcome.error?.message ?? '', /Secret nope \(spec\.postBuild\.substituteFrom\[0\]\) not found/);
});

test('decryption: a SOPS Secret from Git is applied decrypted; the plaintext is marked sensitive', async () => {
  const w = world({ decryption: { provider: 'sops', secretRef: { name: 'sops-keys' } } });
  w.deps.namespaceObjects = namespaceObjects({ secrets: { 'sops-keys': { 'flux.agekey': fixture('flux-age.txt') } } }).reader;
  w.git.commit([parse(fixture('flux-age.yaml')) as KubeObject]);
  const outcome = await reconcile(w.input(), w.deps);
  assert.equal(outcome.error, undefined, outcome.error?.message);
  const live = await w.kube.get(Resources.Secret, 'apps', 'age');
  assert.deepEqual(live?.data, { key: Buffer.from('value').toString('base64') });
  assert.equal((live as { sops?: unknown }).sops, undefined);
  assert.deepEqual(outcome.sensitive, ['value']);
});

test('decryption: a tampered file or a missing key Secret fails closed, nothing applied', async () => {
  const tampered = world({ decryption: { provider: 'sops', secretRef: { name: 'sops-keys' } } });
  tampered.deps.namespaceObjects = namespaceObjects({ secrets: { 'sops-keys': { 'flux.agekey': fixture('flux-age.txt') } } }).reader;
  tampered.git.commit([configMap('plain', { a: 'b' }), parse(fixture('flux-age.yaml').replace('name: age', 'name: other')) as KubeObject]);
  const outcome = await reconcile(tampered.input(), tampered.deps);
  assert.equal(outcome.error?.code, 'DecryptionMACMismatch');
  assert.equal(outcome.failedPhase, 'render');
  assert.equal(await tampered.kube.get(Resources.ConfigMap, 'apps', 'plain'), undefined);

  const keyless = world({ decryption: { provider: 'sops', secretRef: { name: 'sops-keys' } } });
  keyless.deps.namespaceObjects = namespaceObjects({}).reader;
  keyless.git.commit([parse(fixture('flux-age.yaml')) as KubeObject]);
  const missing = await reconcile(keyless.input(), keyless.deps);
  assert.equal(missing.error?.code, 'SecretNotFound');
  assert.match(missing.error?.message ?? '', /spec\.decryption\.secretRef/);
});
