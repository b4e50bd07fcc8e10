import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResourceMapping } from '../../shared/kube/discovery.ts';
import type { FakeKubePort } from '../../shared/kube/fake-port.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import type { LiveObjects } from './context.ts';
import { reconcile } from './index.ts';
import { configMap, names, world } from './test-kit.ts';

const CM = { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };

/**
 * A watch cache whose events arrive late: it holds what it was last handed (`catchUp`), as a real
 * one does between a write and the watch event that reports it.
 */
class LaggingCache implements LiveObjects {
  private readonly kube: FakeKubePort;
  private copies = new Map<string, KubeObject>();

  constructor(kube: FakeKubePort) {
    this.kube = kube;
  }

  watch(): Promise<void> {
    return Promise.resolve();
  }

  get(mapping: ResourceMapping, namespace: string | undefined, name: string): KubeObject | null {
    if (mapping.plural !== CM.plural) return null;
    return this.copies.get(`${namespace ?? ''}/${name}`) ?? null;
  }

  /** Every event so far has arrived. */
  async catchUp(): Promise<void> {
    const { items } = await this.kube.list(CM, { namespace: 'apps' });
    this.copies = new Map(items.map((o) => [`${o.metadata.namespace ?? ''}/${o.metadata.name}`, o]));
  }
}

function setUp(spec: Parameters<typeof world>[0] = {}) {
  const w = world(spec);
  const cache = new LaggingCache(w.kube);
  return { ...w, cache, deps: { ...w.deps, cache } };
}

test('a run right after a sync writes nothing while the cache has not yet seen that sync’s writes', async () => {
  const w = setUp();
  w.git.commit([configMap('a', { x: '1' }), configMap('b', { x: '2' })]);
  const first = await reconcile(w.input(), w.deps);
  assert.deepEqual(names(first.changes, 'created'), ['a', 'b']);
  w.record(first);

  // selfHeal is on: an object the cache calls missing would be re-sent.
  const writesBefore = w.kube.writes().length;
  const second = await reconcile(w.input(), w.deps);
  assert.equal(second.error, undefined);
  assert.deepEqual(w.kube.writes().slice(writesBefore), [], 'no re-send of objects the server already has');
  assert.deepEqual(second.changes, []);
  assert.equal(second.sync, 'Synced');
});

test('applyOutOfSyncOnly: a commit sends the changed object once; the run after it, on a cache that lags, sends nothing', async () => {
  const w = setUp({ syncPolicy: { applyOutOfSyncOnly: true } });
  w.git.commit([configMap('a', { x: '1' }), configMap('b', { x: 'same' }), configMap('c', { x: 'same' })]);
  w.record(await reconcile(w.input(), w.deps));
  await w.cache.catchUp();

  w.git.commit([configMap('a', { x: '2' }), configMap('b', { x: 'same' }), configMap('c', { x: 'same' })]);
  const writesBefore = w.kube.writes().length;
  const changed = await reconcile(w.input({ syncRequested: true }), w.deps);
  assert.equal(changed.error, undefined);
  assert.deepEqual(names(changed.changes, 'configured'), ['a']);
  w.record(changed);
  // The cache still holds a's copy from before that write.
  const after = await reconcile(w.input(), w.deps);
  assert.equal(after.error, undefined);
  assert.deepEqual(
    w.kube
      .writes()
      .slice(writesBefore)
      .map((c) => c.name),
    ['a'],
    'one write for the changed object, none for the unchanged ones, none again after',
  );
  assert.equal(after.sync, 'Synced');
});

test('a revert is applied even while the cache still shows the reverted-to copy from before the last write', async () => {
  const w = setUp({ syncPolicy: { applyOutOfSyncOnly: true } });
  w.git.commit([configMap('a', { x: '1' })]);
  w.record(await reconcile(w.input(), w.deps));
  await w.cache.catchUp();
  w.git.commit([configMap('a', { x: '2' })]);
  w.record(await reconcile(w.input(), w.deps));
  assert.deepEqual((await w.kube.get(CM, 'apps', 'a'))?.data, { x: '2' });

  // Back to x=1 before the cache saw x=2: its copy equals Git, the server's does not.
  w.git.commit([configMap('a', { x: '1' })]);
  const reverted = await reconcile(w.input(), w.deps);
  assert.equal(reverted.error, undefined);
  assert.deepEqual(names(reverted.changes, 'configured'), ['a']);
  assert.deepEqual((await w.kube.get(CM, 'apps', 'a'))?.data, { x: '1' });
});
