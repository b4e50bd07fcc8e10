import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeKubePort } from './fake-port.ts';
import { KubeApiError, isNotFound } from './errors.ts';
import type { KubeObject } from './object.ts';
import type { WatchEvent } from './port.ts';

const CM = { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };

function configMap(name: string, data: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'apps' }, data };
}

test('fake port: apply merges, counts versions and generations, and a dry-run stores nothing', async () => {
  const kube = new FakeKubePort();
  const created = await kube.apply(CM, configMap('a', { x: '1' }));
  assert.equal(created.metadata.generation, 1);
  const dry = await kube.apply(CM, configMap('a', { y: '2' }), { dryRun: true });
  assert.deepEqual(dry.data, { x: '1', y: '2' });
  assert.deepEqual((await kube.get(CM, 'apps', 'a'))?.data, { x: '1' });
  const same = await kube.apply(CM, configMap('a', { x: '1' }));
  assert.equal(same.metadata.resourceVersion, created.metadata.resourceVersion, 'a no-op apply is not a write');
  const changed = await kube.apply(CM, configMap('a', { x: '2' }));
  assert.equal(changed.metadata.generation, 2);
  assert.notEqual(changed.metadata.resourceVersion, created.metadata.resourceVersion);
  const status = await kube.patchStatus(CM, 'apps', 'a', { phase: 'Done' });
  assert.equal(status.metadata.generation, 2, 'a status write does not move the generation');
});

test('fake port: delete with finalizers marks; removing the last finalizer removes the object', async () => {
  const kube = new FakeKubePort();
  kube.seed({ ...configMap('a', {}), metadata: { name: 'a', namespace: 'apps', finalizers: ['x'] } });
  await kube.delete(CM, 'apps', 'a', 'background');
  const marked = await kube.get(CM, 'apps', 'a');
  assert.ok(marked?.metadata.deletionTimestamp);
  await assert.rejects(kube.patchMetadata(CM, 'apps', 'a', { finalizers: [], resourceVersion: '1' }), { status: 409 });
  await kube.patchMetadata(CM, 'apps', 'a', { finalizers: [] });
  assert.equal(await kube.get(CM, 'apps', 'a'), undefined);
  await assert.rejects(kube.delete(CM, 'apps', 'a', 'background'), (err) => isNotFound(err));
});

test('fake port: watch replays what happened after the listed version, then follows; failures are injected', async () => {
  const kube = new FakeKubePort();
  await kube.apply(CM, configMap('a', {}));
  const { resourceVersion } = await kube.list(CM, { namespace: 'apps' });
  await kube.apply(CM, configMap('b', {}));
  const events: string[] = [];
  const abort = new AbortController();
  const watching = kube.watch(
    CM,
    { namespace: 'apps', resourceVersion },
    (e: WatchEvent) => events.push(`${e.type} ${(e.object as KubeObject).metadata.name}`),
    abort.signal,
  );
  await kube.delete(CM, 'apps', 'a', 'background');
  abort.abort();
  await watching;
  assert.deepEqual(events, ['ADDED b', 'DELETED a']);

  kube.fail('dryRun', { name: 'b' }, new KubeApiError(422, 'Invalid', 'bad'), 1);
  await assert.rejects(kube.apply(CM, configMap('b', {}), { dryRun: true }), { status: 422 });
  await kube.apply(CM, configMap('b', {}), { dryRun: true });
  assert.deepEqual(
    kube.writes().map((c) => `${c.op} ${c.name}`),
    ['apply a', 'apply b', 'delete a'],
  );
});
