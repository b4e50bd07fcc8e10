import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { Labels } from '../../shared/api/constants.ts';
import { KubeApiError } from '../../shared/kube/errors.ts';
import { objectKey } from '../../shared/kube/object.ts';
import { ObjectCache } from '../../shared/kube/object-cache.ts';
import { silentLogger } from '../../shared/log/index.ts';
import { reconcile } from './index.ts';
import { configMap, firstSync, names, world } from './test-kit.ts';

/*
 * Objects a synced watch cache has no copy of are created with one create-only apply each, no
 * dry-run (ADR 0016); the new objects of a stage stand together or not at all.
 */

const CM = { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };
const caches: ObjectCache[] = [];
afterEach(() => {
  for (const cache of caches.splice(0)) cache.stop();
});

function cachedWorld() {
  const w = world();
  const cache = new ObjectCache(w.kube, { labelSelector: Labels.name, clock: w.clock, log: silentLogger });
  caches.push(cache);
  w.deps.cache = cache;
  return w;
}

/** A create whose answer was lost: it may or may not have been made. */
const lostAnswer = () => new KubeApiError(504, 'Timeout', 'the server was unable to return a response in the time allotted');
const invalid = (name: string) =>
  new KubeApiError(422, 'Invalid', `ConfigMap "${name}" is invalid: data: Invalid value: "x y": a valid config key`);

test('a first sync creates objects the synced cache has no copy of with one apply each and no dry-run', async () => {
  const w = cachedWorld();
  const outcome = await firstSync(w);
  const onConfigMaps = w.kube.calls.filter((c) => c.kind === 'ConfigMap' && c.op !== 'list');
  assert.deepEqual(onConfigMaps.map((c) => c.op).sort(), ['apply', 'apply']);
  w.record(outcome);

  // Remembered in sync: the next run on the same commit asks nothing.
  const before = w.kube.calls.length;
  const again = await reconcile(w.input(), w.deps);
  assert.equal(again.error, undefined);
  assert.deepEqual(
    w.kube.calls.slice(before).filter((c) => c.kind === 'ConfigMap' && c.op !== 'get'),
    [],
  );
});

test('each create is remembered as its own create returns: its echo, which comes while others are out, wakes no run', async () => {
  const w = cachedWorld();
  w.deps.concurrency = 1;
  const apply = w.kube.apply.bind(w.kube);
  const remembered: number[] = [];
  w.kube.apply = (...args: Parameters<typeof apply>) => {
    if (!args[2]?.dryRun) remembered.push(w.memo.size);
    return apply(...args);
  };
  w.git.commit([configMap('a', { x: '1' }), configMap('b', { x: '2' }), configMap('c', { x: '3' })]);
  const outcome = await reconcile(w.input(), w.deps);
  assert.equal(outcome.error, undefined);
  assert.deepEqual(names(outcome.changes, 'created'), ['a', 'b', 'c']);
  // The controller lets an echo pass only when the memo knows its resourceVersion.
  assert.deepEqual(remembered, [0, 1, 2]);
  for (const name of ['a', 'b', 'c']) {
    const live = await w.kube.get(CM, 'apps', name);
    assert.equal(
      w.memo.get(objectKey({ kind: 'ConfigMap', namespace: 'apps', name }))?.resourceVersion,
      live?.metadata.resourceVersion,
      name,
    );
  }
});

test('an invalid object among new ones: the others are deleted again, the sync fails naming it', async () => {
  const w = cachedWorld();
  // The server refuses `b` however it is sent.
  w.kube.fail('apply', { kind: 'ConfigMap', name: 'b' }, invalid('b'));
  w.kube.fail('dryRun', { kind: 'ConfigMap', name: 'b' }, invalid('b'));
  w.git.commit([configMap('a', { x: '1' }), configMap('b', { x: '2' }), configMap('c', { x: '3' })]);
  const outcome = await reconcile(w.input(), w.deps);
  assert.equal(outcome.synced, false);
  // Reported as the dry-run would have: nothing stands, so the last known health is kept.
  assert.equal(outcome.failedPhase, 'plan');
  assert.equal(outcome.error?.code, 'ObjectInvalid');
  assert.equal(outcome.error?.kind, 'terminal');
  assert.match(outcome.error?.message ?? '', /ConfigMap\/apps\/b /);
  assert.match(outcome.error?.message ?? '', /^create failed, the 2 objects created with them were deleted again, nothing was applied/);
  assert.deepEqual(names(outcome.changes, 'created'), []);
  assert.deepEqual(names(outcome.changes, 'failed'), ['b']);
  for (const name of ['a', 'b', 'c']) assert.equal(await w.kube.get(CM, 'apps', name), undefined, name);
  assert.deepEqual([...w.memo.keys()], [], 'what was taken back is forgotten');
  // Nothing was written: the inventory stays what it was, as after a failed dry-run.
  assert.deepEqual(outcome.resources, []);
  w.cd.status = {
    ...w.cd.status,
    resources: outcome.resources,
    ...(outcome.resolved ? { lastAttemptedRevision: outcome.resolved.revision } : {}),
  };

  // The retry of that revision dry-runs everything: it fails without creating and deleting again.
  const before = w.kube.calls.length;
  const retry = await reconcile(w.input(), w.deps);
  assert.equal(retry.error?.code, 'ObjectInvalid');
  const ops = w.kube.calls.slice(before).filter((c) => c.kind === 'ConfigMap' && c.op !== 'list' && c.op !== 'get');
  assert.deepEqual([...new Set(ops.map((c) => c.op))], ['dryRun']);
});

test('an object the cache cannot see (not ours yet) is not written blind: refused as a create, then dry-run and applied', async () => {
  const w = cachedWorld();
  await w.kube.apply(CM, configMap('a', { x: 'old' }, { namespace: 'apps' }));
  w.git.commit([configMap('a', { x: '1' }), configMap('b', { x: '2' })]);
  const outcome = await reconcile(w.input(), w.deps);
  assert.equal(outcome.error, undefined);
  assert.deepEqual(names(outcome.changes, 'created'), ['b']);
  assert.deepEqual(names(outcome.changes, 'configured'), ['a']);
  const a = await w.kube.get(CM, 'apps', 'a');
  assert.deepEqual(a?.data, { x: '1' });
  const onA = w.kube.calls.filter((c) => c.kind === 'ConfigMap' && c.name === 'a' && c.op !== 'list').map((c) => c.op);
  assert.ok(onA.indexOf('dryRun') > 0 && onA.lastIndexOf('apply') > onA.indexOf('dryRun'), onA.join(','));
});

test('an existing object failing its dry-run after the creates: the creates are taken back, the existing one is untouched', async () => {
  const w = cachedWorld();
  await w.kube.apply(CM, configMap('a', { x: 'old' }, { namespace: 'apps' }));
  w.kube.fail('dryRun', { kind: 'ConfigMap', name: 'a' }, invalid('a'));
  w.git.commit([configMap('a', { x: '1' }), configMap('b', { x: '2' })]);
  const outcome = await reconcile(w.input(), w.deps);
  assert.equal(outcome.synced, false);
  assert.equal(outcome.error?.code, 'ObjectInvalid');
  assert.match(outcome.error?.message ?? '', /nothing was applied/);
  assert.equal(await w.kube.get(CM, 'apps', 'b'), undefined);
  assert.deepEqual((await w.kube.get(CM, 'apps', 'a'))?.data, { x: 'old' });
});

test('a rollback deletes only the incarnation it created', async () => {
  const w = cachedWorld();
  w.kube.fail('apply', { kind: 'ConfigMap', name: 'b' }, invalid('b'));
  // Someone replaces `a` between our create and the rollback: the uid precondition spares theirs.
  w.kube.fail('delete', { kind: 'ConfigMap', name: 'a' }, new KubeApiError(409, 'Conflict', 'Precondition failed: UID in precondition'));
  w.git.commit([configMap('a', { x: '1' }), configMap('b', { x: '2' })]);
  const outcome = await reconcile(w.input(), w.deps);
  assert.equal(outcome.synced, false);
  assert.match(outcome.error?.message ?? '', /still there: ConfigMap\/apps\/a: /);
  // What could not be taken back stays in the inventory, for a later prune.
  assert.deepEqual(outcome.resources.map((r) => r.name).sort(), ['a', 'b']);
  assert.deepEqual(names(outcome.changes, 'failed'), ['a', 'b']);
});

test('a transient failure of a create is no verdict: what was created stands, nothing is deleted, the next run retries', async () => {
  const w = cachedWorld();
  w.kube.fail('apply', { kind: 'ConfigMap', name: 'b' }, lostAnswer());
  w.git.commit([configMap('a', { x: '1' }), configMap('b', { x: '2' })]);
  const outcome = await reconcile(w.input(), w.deps);
  assert.equal(outcome.synced, false);
  assert.equal(outcome.error?.kind, 'transient');
  assert.deepEqual((await w.kube.get(CM, 'apps', 'a'))?.data, { x: '1' }, 'a created object Git has is not deleted again');
  assert.equal(w.kube.calls.filter((c) => c.op === 'delete').length, 0);
  // b's answer was lost: it may exist, so the inventory keeps it for a later prune.
  assert.deepEqual(outcome.resources.map((r) => r.name).sort(), ['a', 'b']);
});

test('a terminal refusal beside a lost answer: the creates are taken back, the inventory keeps all to prune', async () => {
  const w = cachedWorld();
  w.kube.fail('apply', { kind: 'ConfigMap', name: 'b' }, lostAnswer());
  w.kube.fail('apply', { kind: 'ConfigMap', name: 'c' }, invalid('c'));
  w.git.commit([configMap('a', { x: '1' }), configMap('b', { x: '2' }), configMap('c', { x: '3' })]);
  const outcome = await reconcile(w.input(), w.deps);
  assert.equal(outcome.synced, false);
  assert.equal(await w.kube.get(CM, 'apps', 'a'), undefined);
  assert.deepEqual(outcome.resources.map((r) => r.name).sort(), ['a', 'b', 'c']);
});

test('the foundation stage (CRDs, Namespaces, ClusterRoles) is dry-run first, never created blind and taken back', async () => {
  const w = cachedWorld();
  const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'reader' }, rules: [] };
  w.git.commit([role, configMap('a', { x: '1' })]);
  const outcome = await reconcile(w.input(), w.deps);
  assert.equal(outcome.error, undefined);
  assert.deepEqual(names(outcome.changes, 'created'), ['a', 'reader']);
  const onRole = w.kube.calls.filter((c) => c.kind === 'ClusterRole' && c.name === 'reader').map((c) => c.op);
  assert.ok(onRole.includes('dryRun') && onRole.indexOf('dryRun') < onRole.indexOf('apply'), onRole.join(','));
  const onA = w.kube.calls.filter((c) => c.kind === 'ConfigMap' && c.name === 'a').map((c) => c.op);
  assert.deepEqual(onA, ['apply']);
});

test('a kind whose server refuses a resourceVersion on create (Services on 1.20) takes the dry-run path, remembered', async () => {
  const w = cachedWorld();
  const refusal = new KubeApiError(500, 'InternalError', 'resourceVersion should not be set on objects to be created');
  // As the 1.20 Service REST: the create-only apply is refused, a plain apply creates.
  w.kube.fail('apply', { kind: 'Service', name: 'one' }, refusal, 1);
  const service = (name: string) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { clusterIP: 'None', ports: [{ port: 80, protocol: 'TCP' }] },
  });
  w.git.commit([service('one'), configMap('a', { x: '1' })]);
  const outcome = await reconcile(w.input(), w.deps);
  assert.equal(outcome.error, undefined, outcome.error?.message);
  assert.deepEqual(names(outcome.changes, 'created'), ['a', 'one']);
  assert.deepEqual(names(outcome.changes, 'failed'), []);
  assert.deepEqual(
    w.kube.calls.filter((c) => c.kind === 'Service' && c.name === 'one' && c.op !== 'list').map((c) => c.op),
    ['apply', 'get', 'dryRun', 'apply'],
  );
  w.record(outcome);

  // The next Service goes to its dry-run at once: no second refused create.
  w.git.commit([service('one'), service('two'), configMap('a', { x: '1' })]);
  const next = await reconcile(w.input(), w.deps);
  assert.equal(next.error, undefined, next.error?.message);
  assert.deepEqual(
    w.kube.calls.filter((c) => c.kind === 'Service' && c.name === 'two' && c.op !== 'list').map((c) => c.op),
    ['dryRun', 'apply'],
  );
});
