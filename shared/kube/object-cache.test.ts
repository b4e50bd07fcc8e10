import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../log/index.ts';
import { FakeClock, settle } from '../time/fake-clock.ts';
import { FakeKubePort } from './fake-port.ts';
import type { KubeObject } from './object.ts';
import { ObjectCache, slim } from './object-cache.ts';
import { sameObject } from './compare.ts';

const CM = { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };
const LABEL = 'tidemark.dev/name';
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

const configMap = (namespace: string, name: string, annotations: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: {
    name,
    namespace,
    labels: { [LABEL]: 'web', 'tidemark.dev/namespace': 'agent', other: 'x' },
    annotations: { ...annotations, [LAST_APPLIED]: 'y'.repeat(1000) },
    managedFields: [{ manager: 'kubectl', fieldsV1: { 'f:data': { 'f:big': {} } } }],
  },
  data: { big: 'z'.repeat(1000) },
});

/** Ours, for this test: the cache keeps whole copies only of what this says yes to. */
const ours = (obj: KubeObject) => obj.metadata.annotations?.mine === 'yes';

function cacheOn(kube: FakeKubePort, pageSize?: number) {
  return new ObjectCache(kube, { labelSelector: LABEL, clock: new FakeClock(), log: silentLogger, keepWhole: ours, pageSize });
}

test('object cache: whole copies lose managedFields and the last-applied record; others keep only their identity', async () => {
  const kube = new FakeKubePort();
  kube.seed(configMap('apps', 'mine', { mine: 'yes', note: 'kept' }));
  kube.seed(configMap('tenant', 'forged'));
  const cache = cacheOn(kube);
  const seen: string[] = [];
  cache.onChange((obj, event) => seen.push(`${event} ${obj.metadata.name}`));
  await cache.watch(CM);
  await kube.apply(CM, configMap('tenant', 'forged-later'));

  const mine = cache.get(CM, 'apps', 'mine');
  assert.ok(mine);
  assert.equal(mine.metadata.managedFields, undefined);
  assert.deepEqual(mine.metadata.annotations, { mine: 'yes', note: 'kept' });
  assert.equal((mine.data as { big: string }).big.length, 1000, 'what diff and health read stays');
  // The cache cannot vouch for a refused object: the reader GETs it.
  assert.equal(cache.get(CM, 'tenant', 'forged'), undefined);
  assert.equal(cache.get(CM, 'tenant', 'forged-later'), undefined);
  assert.equal(cache.get(CM, 'tenant', 'absent'), null);
  const stubs = cache.kept(CM).filter((o) => o.metadata.namespace === 'tenant');
  assert.equal(stubs.length, 2);
  for (const stub of stubs) {
    assert.deepEqual(Object.keys(stub).sort(), ['apiVersion', 'kind', 'metadata']);
    assert.deepEqual(stub.metadata.labels, { [LABEL]: 'web', 'tidemark.dev/namespace': 'agent' }, 'only the owner labels');
    assert.ok(JSON.stringify(stub).length < 250, JSON.stringify(stub));
  }
  // Listeners still hear of every change; deciding whether it matters is theirs.
  assert.deepEqual(seen.sort(), ['upsert forged', 'upsert forged-later', 'upsert mine']);
  cache.stop();
});

test('object cache: the list comes in pages, and the watch goes on from its snapshot', async () => {
  const kube = new FakeKubePort();
  for (let i = 0; i < 8; i++) kube.seed(configMap('apps', `cm-${i}`, { mine: 'yes' }));
  kube.seed({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'unlabelled', namespace: 'apps' } });
  const cache = cacheOn(kube, 3);
  await cache.watch(CM);
  assert.equal(kube.calls.filter((c) => c.op === 'list').length, 3, 'pages of 3 for 8 objects');
  assert.equal(cache.kept(CM).length, 8);
  await kube.delete(CM, 'apps', 'cm-6', 'background');
  await kube.apply(CM, configMap('apps', 'cm-8', { mine: 'yes' }));
  await settle();
  assert.deepEqual(
    cache
      .kept(CM)
      .map((o) => o.metadata.name)
      .sort(),
    ['cm-0', 'cm-1', 'cm-2', 'cm-3', 'cm-4', 'cm-5', 'cm-7', 'cm-8'],
  );
  assert.ok(cache.get(CM, 'apps', 'cm-8'));
  assert.equal(cache.get(CM, 'apps', 'cm-6'), null);
  cache.stop();
});

test("object cache: a slimmed live copy still compares equal to the server's dry-run, which keeps both", () => {
  const live = configMap('apps', 'mine', { mine: 'yes' });
  assert.equal(sameObject(live, slim(live)), true);
  const edited = slim(live);
  edited.data = { big: 'changed' };
  assert.equal(sameObject(live, edited), false, 'data is still compared');
});
