import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Resources } from '../shared/api/resources.ts';
import { KubeApiError } from '../shared/kube/errors.ts';
import { FakeKubePort } from '../shared/kube/fake-port.ts';
import { silentLogger } from '../shared/log/index.ts';
import { FakeClock } from '../shared/time/fake-clock.ts';
import { continuousDeployment } from './reconcile/test-kit.ts';
import { ReferenceWatch, referencesOf } from './references.ts';

const settle = () => new Promise((resolve) => setImmediate(resolve));

test('referencesOf: substituteFrom sources and the decryption Secret, in the deployment namespace', () => {
  const cd = continuousDeployment({
    postBuild: {
      substituteFrom: [
        { kind: 'ConfigMap', name: 'vars' },
        { kind: 'Secret', name: 'creds', optional: true },
      ],
    },
    decryption: { provider: 'sops', secretRef: { name: 'sops-keys' } },
  });
  assert.deepEqual(referencesOf(cd), ['ConfigMap/agent/vars', 'Secret/agent/creds', 'Secret/agent/sops-keys']);
  assert.deepEqual(referencesOf(continuousDeployment()), []);
  const chart = continuousDeployment();
  // spec.helm is not in the API type yet: the raw spec, as a client would write it.
  Object.assign(chart.spec, {
    helm: { chart: { repository: 'https://charts.example.com', name: 'shop', secretRef: 'chart-credentials' } },
  });
  assert.deepEqual(referencesOf(chart), ['Secret/agent/chart-credentials']);
});

test('ReferenceWatch: a change, a creation or a deletion of a named source wakes its users only', async () => {
  const kube = new FakeKubePort();
  const woken: string[] = [];
  const watch = new ReferenceWatch(kube, { clock: new FakeClock(), log: silentLogger, wake: (key) => woken.push(key) });
  kube.seed({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'vars', namespace: 'agent' }, data: { a: '1' } });
  watch.set('agent/web', ['ConfigMap/agent/vars', 'Secret/agent/creds']);
  watch.set('agent/other', ['ConfigMap/agent/unrelated']);
  await settle();
  assert.deepEqual(woken, [], 'the first list only learns versions');

  await kube.apply(Resources.ConfigMap, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'vars', namespace: 'agent' },
    data: { a: '2' },
  });
  await settle();
  assert.deepEqual(woken, ['agent/web']);

  await kube.create(Resources.Secret, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: 'agent' }, data: {} });
  await kube.create(Resources.Secret, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'nobody', namespace: 'agent' }, data: {} });
  await settle();
  assert.deepEqual(woken, ['agent/web', 'agent/web']);

  await kube.delete(Resources.ConfigMap, 'agent', 'vars', 'background');
  await settle();
  assert.deepEqual(woken, ['agent/web', 'agent/web', 'agent/web']);

  watch.set('agent/web', []);
  await kube.create(Resources.ConfigMap, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'vars', namespace: 'agent' }, data: {} });
  await settle();
  assert.equal(woken.length, 3, 'a deployment that no longer names it is not woken');
  watch.stop();
});

test('ReferenceWatch: a forbidden list stops the watch instead of retrying forever', async () => {
  const kube = new FakeKubePort();
  kube.fail('list', { kind: 'Secret' }, new KubeApiError(403, 'Forbidden', 'secrets is forbidden'));
  kube.fail('list', { kind: 'ConfigMap' }, new KubeApiError(403, 'Forbidden', 'configmaps is forbidden'));
  const clock = new FakeClock();
  const watch = new ReferenceWatch(kube, { clock, log: silentLogger, wake: () => undefined });
  watch.set('agent/web', ['Secret/agent/creds']);
  await settle();
  await clock.advance(10 * 60_000);
  await settle();
  assert.equal(kube.calls.filter((c) => c.op === 'list').length, 2, 'one refused list per kind, then silence');
  watch.stop();
});
