import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeApiError } from '../../shared/kube/errors.ts';
import { transient } from '../../shared/errors/index.ts';
import { reconcile } from './index.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { configMap, firstSync, names, world } from './test-kit.ts';

const CM = { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };

test('a first sync creates every object; a second run on the same commit writes nothing and dry-runs nothing', async () => {
  const w = world();
  const first = await firstSync(w);
  assert.equal(first.synced, true);
  const a = await w.kube.get(CM, 'apps', 'a');
  assert.equal(a?.metadata.annotations?.['tidemark.dev/owned-by'], 'agent/web:/ConfigMap:apps/a');
  w.record(first);

  const callsBefore = w.kube.calls.length;
  const second = await reconcile(w.input(), w.deps);
  assert.equal(second.error, undefined);
  assert.deepEqual(second.changes, []);
  assert.equal(second.sync, 'Synced');
  const calls = w.kube.calls.slice(callsBefore);
  assert.deepEqual(
    calls.filter((c) => c.op !== 'get'),
    [],
    'no writes and no dry-runs: the memo knows both objects are in sync',
  );
});

test('one object the dry-run rejects: nothing at all is written, and the object is named', async () => {
  const w = world();
  w.git.commit([configMap('good', { x: '1' }), configMap('bad', { x: '2' })]);
  w.kube.fail('dryRun', { name: 'bad' }, new KubeApiError(422, 'Invalid', 'data.x: Invalid value'));
  const outcome = await reconcile(w.input(), w.deps);
  assert.equal(outcome.failedPhase, 'plan');
  assert.equal(outcome.error?.code, 'ObjectInvalid');
  assert.match(outcome.error?.message ?? '', /ConfigMap\/apps\/bad/);
  assert.deepEqual(w.kube.writes(), []);
});

test('a dry run the API server failed (500, 429) is transient, under its own reason; an invalid object stays terminal', async () => {
  const w = world();
  w.git.commit([configMap('a', { x: '1' }), configMap('b', { x: '2' })]);
  w.kube.fail('dryRun', { name: 'a' }, new KubeApiError(500, 'InternalError', 'etcdserver: request timed out'));
  w.kube.fail('dryRun', { name: 'b' }, new KubeApiError(429, 'TooManyRequests', 'slow down', 1000));
  const busy = await reconcile(w.input(), w.deps);
  assert.equal(busy.failedPhase, 'plan');
  assert.equal(busy.error?.kind, 'transient');
  assert.equal(busy.error?.code, 'APIServerError');
  assert.match(busy.error?.message ?? '', /nothing was applied/);
  assert.deepEqual(w.kube.writes(), []);

  const mixed = world();
  mixed.git.commit([configMap('a', { x: '1' }), configMap('bad', { x: '2' })]);
  mixed.kube.fail('dryRun', { name: 'a' }, new KubeApiError(503, 'ServiceUnavailable', 'try later'));
  mixed.kube.fail('dryRun', { name: 'bad' }, new KubeApiError(422, 'Invalid', 'data.x: Invalid value'));
  const outcome = await reconcile(mixed.input(), mixed.deps);
  assert.equal(outcome.error?.kind, 'terminal', 'one invalid object needs a fix in Git; a retry would not help');
});

test('an object that left Git is pruned; ownership and prune: disabled are re-checked on the live object', async () => {
  const w = world();
  w.git.commit([configMap('keep', {}), configMap('gone', {}), configMap('taken', {}), configMap('pinned', {})]);
  w.record(await reconcile(w.input(), w.deps));
  // Someone else took `taken` over; `pinned` is annotated to stay.
  await w.kube.patchMetadata(CM, 'apps', 'taken', { annotations: { 'tidemark.dev/owned-by': 'other/owner:/ConfigMap:apps/taken' } });
  await w.kube.patchMetadata(CM, 'apps', 'pinned', { annotations: { 'tidemark.dev/prune': 'disabled' } });
  w.git.commit([configMap('keep', {})]);
  const outcome = await reconcile(w.input(), w.deps);
  assert.equal(outcome.error, undefined);
  assert.deepEqual(names(outcome.changes, 'deleted'), ['gone']);
  assert.deepEqual(names(outcome.changes, 'skipped'), ['pinned', 'taken']);
  assert.deepEqual(names(outcome.pruneCandidates.map((ref) => ({ ref }))), ['gone']);
  assert.equal(await w.kube.get(CM, 'apps', 'gone'), undefined);
  assert.ok(await w.kube.get(CM, 'apps', 'taken'));
  assert.ok(await w.kube.get(CM, 'apps', 'pinned'));
  assert.deepEqual(
    outcome.resources.map((r) => r.name),
    ['keep'],
  );
});

test('a failed delete stays in the inventory and fails the run with PruneFailed', async () => {
  const w = world();
  w.git.commit([configMap('keep', {}), configMap('stuck', {})]);
  w.record(await reconcile(w.input(), w.deps));
  w.git.commit([configMap('keep', {})]);
  w.kube.fail('delete', { name: 'stuck' }, new KubeApiError(403, 'Forbidden', 'no delete for you'));
  const outcome = await reconcile(w.input(), w.deps);
  assert.equal(outcome.error?.code, 'PruneFailed');
  assert.equal(outcome.error?.kind, 'terminal', 'a refusal is not retried with backoff');
  assert.equal(outcome.failedPhase, 'prune');
  const busy = world();
  busy.git.commit([configMap('keep', {}), configMap('stuck', {})]);
  busy.record(await reconcile(busy.input(), busy.deps));
  busy.git.commit([configMap('keep', {})]);
  busy.kube.fail('delete', { name: 'stuck' }, new KubeApiError(503, 'ServiceUnavailable', 'try later'));
  assert.equal((await reconcile(busy.input(), busy.deps)).error?.kind, 'transient', 'an unavailable server is retried with backoff');
  const stuck = outcome.resources.find((r) => r.name === 'stuck');
  assert.equal(stuck?.status, 'OutOfSync');
  assert.match(stuck?.message ?? '', /no delete for you/);
});

test('an empty render prunes nothing unless allowEmpty; a failed render or fetch writes nothing', async () => {
  const w = world();
  w.git.commit([configMap('a', {})]);
  w.record(await reconcile(w.input(), w.deps));
  w.git.commit([]);
  const empty = await reconcile(w.input(), w.deps);
  assert.equal(empty.error, undefined);
  assert.deepEqual(
    empty.notes.map((n) => n.reason),
    ['PruneBlockedEmptyRender'],
  );
  assert.ok(await w.kube.get(CM, 'apps', 'a'), 'not pruned');
  assert.equal(empty.resources[0]?.status, 'OutOfSync');

  const writes = w.kube.writes().length;
  w.git.failRender = new Error('bad yaml');
  const broken = await reconcile(w.input(), w.deps);
  assert.equal(broken.failedPhase, 'render');
  w.git.failRender = undefined;
  w.git.failResolve = transient('GitUnreachable', 'no route');
  const unreachable = await reconcile(w.input(), w.deps);
  assert.equal(unreachable.failedPhase, 'fetch');
  assert.equal(w.kube.writes().length, writes);
  w.git.failResolve = undefined;

  const allowed = await reconcile(
    w.input({ config: { ...w.input().config, policy: { ...w.input().config.policy, allowEmpty: true } } }),
    w.deps,
  );
  assert.deepEqual(names(allowed.changes, 'deleted'), ['a']);
});

test('prune: false keeps objects that left Git tracked (OutOfSync, saying why), so turning prune on later removes them', async () => {
  const w = world({ prune: false });
  w.git.commit([configMap('keep', {}), configMap('old', {})]);
  w.record(await reconcile(w.input(), w.deps));
  w.git.commit([configMap('keep', {})]);
  const off = await reconcile(w.input(), w.deps);
  w.record(off);
  assert.equal(off.error, undefined);
  assert.ok(await w.kube.get(CM, 'apps', 'old'), 'not pruned');
  const old = off.resources.find((r) => r.name === 'old');
  assert.equal(old?.status, 'OutOfSync');
  assert.match(old?.message ?? '', /spec\.prune is false/);
  assert.equal(off.sync, 'OutOfSync');

  const again = await reconcile(w.input(), w.deps);
  w.record(again);
  assert.ok(
    again.resources.some((r) => r.name === 'old'),
    'still tracked on the next run',
  );

  const on = await reconcile(w.input({ config: { ...w.input().config, prune: true } }), w.deps);
  assert.deepEqual(names(on.changes, 'deleted'), ['old']);
  assert.equal(await w.kube.get(CM, 'apps', 'old'), undefined);
});

test('manual mode and a blocking window compare but write nothing; a requested sync in manual mode writes', async () => {
  const w = world({ syncPolicy: { manual: true } });
  w.git.commit([configMap('a', {})]);
  const manual = await reconcile(w.input(), w.deps);
  assert.equal(manual.synced, false);
  assert.equal(manual.sync, 'OutOfSync');
  assert.deepEqual(w.kube.writes(), []);
  const blocked = await reconcile(w.input({ syncRequested: true, windowBlocked: true }), w.deps);
  assert.equal(blocked.synced, false);
  assert.deepEqual(w.kube.writes(), []);
  const requested = await reconcile(w.input({ syncRequested: true }), w.deps);
  assert.equal(requested.synced, true);
  assert.deepEqual(names(requested.changes, 'created'), ['a']);
});

test('selfHeal off reports drift and leaves it; on the same revision selfHeal repairs only what drifted', async () => {
  const w = world({ syncPolicy: { selfHeal: false } });
  w.git.commit([configMap('a', { x: '1' }), configMap('b', { x: '1' })]);
  w.record(await reconcile(w.input(), w.deps));
  await w.kube.apply(CM, { ...configMap('a', { x: 'edited' }), metadata: { name: 'a', namespace: 'apps' } });
  const writes = w.kube.writes().length;
  const noHeal = await reconcile(w.input(), w.deps);
  assert.deepEqual(
    noHeal.notes.map((n) => n.reason),
    ['DriftDetected'],
  );
  assert.match(noHeal.notes[0]?.message ?? '', /ConfigMap\/apps\/a/);
  assert.equal(w.kube.writes().length, writes);
  assert.equal(noHeal.sync, 'OutOfSync');

  const heal = await reconcile(
    w.input({ config: { ...w.input().config, policy: { ...w.input().config.policy, selfHeal: true } } }),
    w.deps,
  );
  assert.deepEqual(names(heal.changes), ['a'], 'only the drifted object is sent');
  assert.deepEqual((await w.kube.get(CM, 'apps', 'a'))?.data, { x: '1' });
});

test('a new revision re-sends every object, unless applyOutOfSyncOnly', async () => {
  for (const applyOutOfSyncOnly of [false, true]) {
    const w = world({ syncPolicy: { applyOutOfSyncOnly } });
    w.git.commit([configMap('a', { x: '1' }), configMap('b', { x: '1' })]);
    w.record(await reconcile(w.input(), w.deps));
    w.git.commit([configMap('a', { x: '2' }), configMap('b', { x: '1' })]);
    const outcome = await reconcile(w.input(), w.deps);
    assert.deepEqual(names(outcome.changes), applyOutOfSyncOnly ? ['a'] : ['a', 'b'], `applyOutOfSyncOnly: ${applyOutOfSyncOnly}`);
    assert.deepEqual(names(outcome.changes, 'unchanged'), applyOutOfSyncOnly ? [] : ['b']);
  }
});

test('createNamespace creates the target namespace first', async () => {
  const w = world({ syncPolicy: { createNamespace: true } });
  w.git.commit([configMap('a', {})]);
  const outcome = await reconcile(w.input(), w.deps);
  assert.equal(outcome.changes[0]?.ref.kind, 'Namespace');
  assert.equal(outcome.changes[0]?.action, 'created');
  assert.ok(w.kube.peek('v1', 'Namespace', undefined, 'apps'));
  const again = await reconcile(w.input(), w.deps);
  assert.ok(!again.changes.some((c) => c.ref.kind === 'Namespace'));
});

test('plan mode writes nothing and returns typed creates, updates and prune candidates', async () => {
  const w = world();
  w.git.commit([configMap('same', { x: '1' }), configMap('changed', { x: '1' }), configMap('old', {}), configMap('pinned', {})]);
  w.record(await reconcile(w.input(), w.deps));
  await w.kube.patchMetadata(CM, 'apps', 'pinned', { annotations: { 'tidemark.dev/prune': 'disabled' } });
  w.git.commit([configMap('same', { x: '1' }), configMap('changed', { x: '2' }), configMap('new', {})]);
  const writes = w.kube.writes().length;
  const plan = await reconcile(w.input({ windowBlocked: true }, 'plan'), { ...w.deps, memo: undefined });
  assert.equal(plan.error, undefined);
  assert.equal(w.kube.writes().length, writes, 'a plan writes nothing');
  const byState = (state: string) => plan.diffs.filter((d) => d.state === state).map((d) => d.planned.ref.name);
  assert.deepEqual(byState('missing'), ['new']);
  assert.deepEqual(byState('drifted'), ['changed']);
  const changed = plan.diffs.find((d) => d.planned.ref.name === 'changed');
  assert.deepEqual(changed?.live?.data, { x: '1' });
  assert.deepEqual(changed?.merged?.data, { x: '2' });
  assert.deepEqual(plan.pruneCandidates, [{ group: '', version: 'v1', kind: 'ConfigMap', namespace: 'apps', name: 'old' }]);
  assert.ok(await w.kube.get(CM, 'apps', 'old'));
});

/** As the API server answers a dry-run of an object whose namespace does not exist. */
const namespaceNotFound = (ns: string) => new KubeApiError(404, 'NotFound', `namespaces "${ns}" not found`);

test('manual mode, a blocking window, a plan: a new Namespace with objects in it is OutOfSync with creates, not a failure', async () => {
  const namespace: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fresh' } };
  for (const [label, spec, overrides, mode] of [
    ['manual', { syncPolicy: { manual: true } }, {}, 'sync'],
    ['window', {}, { windowBlocked: true }, 'sync'],
    ['plan', {}, {}, 'plan'],
  ] as const) {
    const w = world(spec);
    w.git.commit([namespace, configMap('inside', { x: '1' }, { namespace: 'fresh' }), configMap('outside', { x: '1' })]);
    w.kube.fail('dryRun', { kind: 'ConfigMap', name: 'inside' }, namespaceNotFound('fresh'));
    const outcome = await reconcile(w.input(overrides, mode), w.deps);
    assert.equal(outcome.error, undefined, `${label}: ${outcome.error?.message ?? ''}`);
    assert.equal(outcome.sync, 'OutOfSync', label);
    assert.deepEqual(
      outcome.diffs.map((d) => `${d.planned.ref.kind}/${d.planned.ref.name}:${d.state}`).sort(),
      ['ConfigMap/inside:missing', 'ConfigMap/outside:missing', 'Namespace/fresh:missing'],
      label,
    );
    assert.deepEqual(w.kube.writes(), [], `${label}: nothing written`);
    assert.ok(!w.kube.calls.some((c) => c.op === 'dryRun' && c.name === 'inside'), `${label}: no dry-run that must fail`);
  }
});

test('a Namespace that exists already: objects in it are dry-run as usual, and a real rejection still fails the plan', async () => {
  const w = world({ syncPolicy: { manual: true } });
  w.kube.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'there' } });
  w.git.commit([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'there' } }, configMap('inside', {}, { namespace: 'there' })]);
  w.kube.fail('dryRun', { kind: 'ConfigMap', name: 'inside' }, new KubeApiError(422, 'Invalid', 'data: Invalid value'));
  const outcome = await reconcile(w.input(), w.deps);
  assert.equal(outcome.failedPhase, 'plan');
  assert.equal(outcome.error?.code, 'ObjectInvalid');
});

test('createNamespace in manual mode: objects bound for the missing target namespace are planned creates', async () => {
  const w = world({ syncPolicy: { manual: true, createNamespace: true } });
  w.git.commit([configMap('a', {})]);
  w.kube.fail('dryRun', { kind: 'ConfigMap' }, namespaceNotFound('apps'));
  const outcome = await reconcile(w.input(), w.deps);
  assert.equal(outcome.error, undefined, outcome.error?.message);
  assert.equal(outcome.sync, 'OutOfSync');
  assert.deepEqual(
    outcome.diffs.map((d) => `${d.planned.ref.name}:${d.state}`),
    ['a:missing'],
  );
  assert.deepEqual(w.kube.writes(), []);
});

test('a plan with a new CRD and its custom resources lists the custom resources as creates', async () => {
  const w = world();
  const crd: KubeObject = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { kind: 'Widget', plural: 'widgets' },
      versions: [{ name: 'v1', served: true, storage: true }],
    },
  };
  const widget: KubeObject = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 1 } };
  w.git.commit([crd, widget]);
  const plan = await reconcile(w.input({}, 'plan'), w.deps);
  assert.equal(plan.error, undefined, plan.error?.message);
  assert.deepEqual(
    plan.diffs.map((d) => `${d.planned.ref.kind}/${d.planned.ref.namespace ?? ''}/${d.planned.ref.name}:${d.state}`).sort(),
    ['CustomResourceDefinition//widgets.example.com:missing', 'Widget/apps/w1:missing'],
  );
  assert.equal(plan.diffs.find((d) => d.planned.ref.kind === 'Widget')?.planned.mapping.plural, 'widgets');
  assert.equal(plan.sync, 'OutOfSync');
});

test('as a ServiceAccount: one object it may not write → nothing is written; object, verb and identity named', async () => {
  const w = world({ syncPolicy: { createNamespace: true } });
  w.deps.identity = { namespace: 'agent', name: 'deployer' };
  const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'escalate' }, rules: [] };
  w.git.commit([role, configMap('a', { x: '1' })]);
  // The ClusterRole (first stage) is refused; the ConfigMap, in a later stage, is allowed.
  w.kube.deny({ kind: 'ClusterRole' });
  const outcome = await reconcile(w.input(), w.deps);
  assert.equal(outcome.failedPhase, 'plan');
  assert.equal(outcome.error?.code, 'Forbidden');
  assert.match(
    outcome.error?.message ?? '',
    /ServiceAccount agent\/deployer may not patch clusterroles\.rbac\.authorization\.k8s\.io escalate/,
  );
  assert.deepEqual(w.kube.writes(), [], 'not even the Namespace');
  assert.deepEqual(names(outcome.changes, 'failed'), ['escalate']);

  // Refused in a later stage: still nothing of the first is written.
  const later = world();
  later.deps.identity = { namespace: 'agent', name: 'deployer' };
  later.git.commit([role, configMap('other-team', { x: '1' }, { namespace: 'team-b' })]);
  later.kube.deny({ kind: 'ConfigMap', namespace: 'team-b' });
  const refused = await reconcile(later.input(), later.deps);
  assert.equal(refused.error?.code, 'Forbidden');
  assert.match(refused.error?.message ?? '', /configmaps\.core other-team in namespace team-b/);
  assert.deepEqual(later.kube.writes(), []);
});

test('acting as a ServiceAccount that may write everything: synced; the agent’s own identity asks nothing', async () => {
  const w = world();
  w.deps.identity = { namespace: 'agent', name: 'deployer' };
  const role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'reader' }, rules: [] };
  w.git.commit([role, configMap('a', { x: '1' })]);
  const outcome = await reconcile(w.input(), w.deps);
  assert.equal(outcome.error, undefined);
  assert.deepEqual(names(outcome.changes, 'created'), ['a', 'reader']);
  // The first stage's dry run precedes every write: only the later ConfigMap is reviewed.
  assert.deepEqual(
    w.kube.accessReviews.map((r) => `${r.verb} ${r.resource.kind} ${r.namespace}/${r.name}`),
    ['patch ConfigMap apps/a'],
  );
  // A steady sync asks nothing again: the object is known in sync and unchanged in Git.
  w.record(outcome);
  await reconcile(w.input(), w.deps);
  assert.equal(w.kube.accessReviews.length, 1);

  const own = world();
  own.git.commit([configMap('a', { x: '1' })]);
  await reconcile(own.input(), own.deps);
  assert.deepEqual(own.kube.accessReviews, []);
});
