import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../shared/kube/object.ts';
import type { ReconcileOutcome } from '../types.ts';
import { reconcile, runPostDeleteHooks } from './index.ts';
import { lastAppliedConfig } from './post-delete.ts';
import { configMap, names, world } from './test-kit.ts';

/*
 * Argo CD sync waves, hooks and per-object sync options against the in-memory port. The fake has
 * no controllers: `settleJobs` plays the job controller, ending each hook Job as the test says.
 */

const JOB = { group: 'batch', version: 'v1', kind: 'Job', plural: 'jobs', namespaced: true };
const DEPLOY = { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true };
const CM = { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };

const wave = (n: number) => ({ annotations: { 'argocd.argoproj.io/sync-wave': String(n) } });

function job(name: string, annotations: Record<string, string>, generate = false): KubeObject {
  const metadata: KubeObject['metadata'] = generate ? { name: '', generateName: name, annotations } : { name, annotations };
  return { apiVersion: 'batch/v1', kind: 'Job', metadata, spec: { template: { spec: { restartPolicy: 'Never', containers: [] } } } };
}

function deployment(name: string, annotations: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, annotations }, spec: { replicas: 1 } };
}

type World = ReturnType<typeof world>;

/** Ends every unfinished Job: Failed when `fails` matches its name, else Complete. */
async function settleJobs(w: World, fails: RegExp | undefined): Promise<void> {
  for (const live of (await w.kube.list(JOB)).items) {
    if (live.status !== undefined) continue;
    const failed = fails?.test(live.metadata.name) ?? false;
    await w.kube.patchStatus(JOB, live.metadata.namespace, live.metadata.name, {
      conditions: [{ type: failed ? 'Failed' : 'Complete', status: 'True', message: failed ? 'BackoffLimitExceeded' : 'done' }],
    });
  }
}

/** Runs one reconcile to its end, playing the job controller (and `tick`) between the clock's steps. */
async function run(w: World, options: { fails?: RegExp; tick?: () => Promise<void>; syncRequested?: boolean; jobsHang?: boolean } = {}) {
  let done = false;
  const result = reconcile(w.input({ syncRequested: options.syncRequested ?? false }), w.deps).finally(() => {
    done = true;
  });
  for (let i = 0; !done && i < 10_000; i++) {
    if (!options.jobsHang) await settleJobs(w, options.fails);
    await options.tick?.();
    await w.clock.advance(250);
  }
  const outcome: ReconcileOutcome = await result;
  return outcome;
}

/** The order objects were first written in (creates and applies, dry-runs left out). */
function writeOrder(w: World): string[] {
  const seen: string[] = [];
  for (const c of w.kube.calls) {
    if ((c.op === 'apply' || c.op === 'create') && c.name && !seen.includes(c.name)) seen.push(c.name);
  }
  return seen;
}

test('sync waves: applied lowest first, each wave healthy before the next; one wave with nothing annotated waits for nothing', async () => {
  const w = world({ timeout: '10m' });
  w.kube.serve(JOB);
  w.git.commit([
    configMap('late', {}, wave(5)),
    deployment('api', { 'argocd.argoproj.io/sync-wave': '0' }),
    configMap('early', {}, wave(-1)),
  ]);
  let apiHealthyAt: number | undefined;
  const tick = async () => {
    const api = w.kube.peek('apps/v1', 'Deployment', 'apps', 'api');
    // The deployment controller's part: ready some time after the Deployment appeared.
    if (api && api.status === undefined && apiHealthyAt === undefined) apiHealthyAt = w.clock.now() + 5000;
    if (api && apiHealthyAt !== undefined && w.clock.now() >= apiHealthyAt && api.status === undefined) {
      assert.equal(w.kube.peek('v1', 'ConfigMap', 'apps', 'late'), undefined, 'wave 5 waits for wave 0 to be healthy');
      await w.kube.patchStatus(DEPLOY, 'apps', 'api', {
        observedGeneration: api.metadata.generation,
        replicas: 1,
        updatedReplicas: 1,
        readyReplicas: 1,
        availableReplicas: 1,
        conditions: [{ type: 'Available', status: 'True' }],
      });
    }
  };
  const outcome = await run(w, { tick });
  assert.equal(outcome.error, undefined);
  assert.deepEqual(writeOrder(w), ['early', 'api', 'late']);
  assert.ok(apiHealthyAt !== undefined && w.kube.peek('v1', 'ConfigMap', 'apps', 'late'));

  const plain = world();
  plain.git.commit([deployment('api'), configMap('a', {})]);
  const once = await reconcile(plain.input(), plain.deps);
  assert.equal(once.error, undefined, 'no wave annotations: no health wait, as before');
});

test('a degraded wave stops the sync at once with SyncWaveFailed; an unhealthy one at spec.timeout with SyncWaveTimeout', async () => {
  const w = world({ timeout: '10m' });
  w.git.commit([deployment('api', { 'argocd.argoproj.io/sync-wave': '1' }), configMap('after', {}, wave(2))]);
  const tick = async () => {
    const api = w.kube.peek('apps/v1', 'Deployment', 'apps', 'api');
    if (api && api.status === undefined) {
      await w.kube.patchStatus(DEPLOY, 'apps', 'api', {
        observedGeneration: api.metadata.generation,
        conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'image not found' }],
      });
    }
  };
  const start = w.clock.now();
  const failed = await run(w, { tick });
  assert.equal(failed.error?.code, 'SyncWaveFailed');
  assert.match(failed.error?.message ?? '', /sync wave 1 is degraded, wave 2 not started: Deployment\/apps\/api \(Degraded/);
  assert.ok(w.clock.now() - start < 60_000, 'no wait for the timeout');
  assert.equal(w.kube.peek('v1', 'ConfigMap', 'apps', 'after'), undefined);
  assert.ok(
    failed.resources.some((r) => r.name === 'after'),
    'the inventory still names what the sync would create',
  );

  const slow = world({ timeout: '1m' });
  slow.git.commit([deployment('api', { 'argocd.argoproj.io/sync-wave': '1' }), configMap('after', {}, wave(2))]);
  const timedOut = await run(slow);
  assert.equal(timedOut.error?.code, 'SyncWaveTimeout');
  assert.equal(timedOut.error?.kind, 'transient');
  assert.equal(slow.kube.peek('v1', 'ConfigMap', 'apps', 'after'), undefined);
});

test('a bad sync-wave or hook annotation fails the plan and writes nothing', async () => {
  const w = world();
  w.git.commit([configMap('a', {}), configMap('b', {}, { annotations: { 'argocd.argoproj.io/sync-wave': 'two' } })]);
  const outcome = await reconcile(w.input(), w.deps);
  assert.equal(outcome.failedPhase, 'plan');
  assert.equal(outcome.error?.code, 'InvalidSyncAnnotation');
  assert.deepEqual(w.kube.writes(), []);
});

test('hooks: PreSync first, Sync hooks with their wave, PostSync after; never in the inventory; run again only on a new sync', async () => {
  const w = world({ timeout: '10m' });
  w.kube.serve(JOB);
  w.git.commit([
    job('migrate-', { 'argocd.argoproj.io/hook': 'PreSync' }, true),
    configMap('app', {}),
    job('seed', { 'argocd.argoproj.io/hook': 'Sync', 'argocd.argoproj.io/sync-wave': '1' }),
    configMap('frontend', {}, wave(2)),
    job('notify', { 'argocd.argoproj.io/hook': 'PostSync', 'argocd.argoproj.io/hook-delete-policy': 'HookSucceeded' }),
    configMap('skipped', {}, { annotations: { 'argocd.argoproj.io/hook': 'Skip' } }),
  ]);
  const outcome = await run(w);
  assert.equal(outcome.error, undefined);
  const order = writeOrder(w);
  assert.match(order[0] ?? '', /^migrate-0{7}-presync-\d+$/, 'the generateName hook is named from commit, phase and start');
  assert.deepEqual(order.slice(1), ['app', 'seed', 'frontend', 'notify']);
  assert.deepEqual(
    outcome.hooks?.map((h) => [h.phase, h.kind, h.name.replace(/\d+$/, 'N'), h.status]),
    [
      ['PreSync', 'Job', 'migrate-0000000-presync-N', 'Succeeded'],
      ['Sync', 'Job', 'seed', 'Succeeded'],
      ['PostSync', 'Job', 'notify', 'Succeeded'],
    ],
  );
  assert.deepEqual(
    outcome.resources.map((r) => r.name),
    ['app', 'frontend'],
    'hooks and Skip objects are not tracked',
  );
  assert.equal(w.kube.peek('batch/v1', 'Job', 'apps', 'notify'), undefined, 'HookSucceeded deleted the PostSync Job');
  assert.ok(w.kube.peek('batch/v1', 'Job', 'apps', 'seed'), 'BeforeHookCreation keeps the Job until the next sync');
  assert.equal(w.kube.peek('v1', 'ConfigMap', 'apps', 'skipped'), undefined);
  w.record(outcome);

  const again = await run(w);
  assert.equal(again.error, undefined);
  assert.equal(again.hooks, undefined, 'the same revision again is no new sync: no hook runs');

  // A requested sync runs them again; BeforeHookCreation replaces the named Sync hook with a fresh Job.
  const seedUid = w.kube.peek('batch/v1', 'Job', 'apps', 'seed')?.metadata.uid;
  const requested = await run(w, { syncRequested: true });
  assert.equal(requested.error, undefined);
  assert.equal(requested.hooks?.length, 3);
  assert.notEqual(w.kube.peek('batch/v1', 'Job', 'apps', 'seed')?.metadata.uid, seedUid);
});

test('a failed PreSync hook stops the sync before anything is applied and runs the SyncFail hooks; HookFailed deletes it', async () => {
  const w = world({ timeout: '10m' });
  w.kube.serve(JOB);
  w.git.commit([
    job('check', { 'argocd.argoproj.io/hook': 'PreSync', 'argocd.argoproj.io/hook-delete-policy': 'HookFailed' }),
    configMap('app', {}),
    job('post', { 'argocd.argoproj.io/hook': 'PostSync' }),
    job('cleanup-', { 'argocd.argoproj.io/hook': 'SyncFail' }, true),
  ]);
  const outcome = await run(w, { fails: /^check$/ });
  assert.equal(outcome.error?.code, 'HookFailed');
  assert.match(outcome.error?.message ?? '', /PreSync hook failed: Job apps\/check: BackoffLimitExceeded/);
  assert.equal(w.kube.peek('v1', 'ConfigMap', 'apps', 'app'), undefined, 'nothing applied');
  assert.equal(w.kube.peek('batch/v1', 'Job', 'apps', 'post'), undefined, 'no PostSync');
  assert.equal(w.kube.peek('batch/v1', 'Job', 'apps', 'check'), undefined, 'HookFailed deleted the failed hook');
  assert.deepEqual(
    outcome.hooks?.map((h) => [h.phase, h.name.replace(/-0{7}-syncfail-\d+$/, '-*'), h.status]),
    [
      ['PreSync', 'check', 'Failed'],
      ['SyncFail', 'cleanup-*', 'Succeeded'],
    ],
  );
});

test('a sync is dry-run whole before its PreSync hooks: an invalid object in a later wave, or an invalid hook, runs no hook', async () => {
  const { KubeApiError } = await import('../../shared/kube/errors.ts');
  const w = world({ timeout: '10m' });
  w.kube.serve(JOB);
  w.git.commit([
    job('migrate', { 'argocd.argoproj.io/hook': 'PreSync' }),
    configMap('app', {}),
    configMap('broken', {}, wave(3)),
    job('on-fail', { 'argocd.argoproj.io/hook': 'SyncFail' }),
  ]);
  w.kube.fail('dryRun', { name: 'broken' }, new KubeApiError(422, 'Invalid', 'data.key: Invalid value: "a b"'));
  const outcome = await run(w);
  assert.equal(outcome.failedPhase, 'plan');
  assert.equal(outcome.error?.code, 'ObjectInvalid');
  assert.match(outcome.error?.message ?? '', /nothing was applied: ConfigMap\/apps\/broken: .*Invalid value/);
  assert.deepEqual(names(outcome.changes, 'failed'), ['broken']);
  assert.deepEqual(w.kube.writes(), [], 'no hook created, nothing applied');
  assert.equal(outcome.hooks, undefined, 'no hook ran, SyncFail neither (Argo: a failed dry-run ends the operation)');

  const badHook = world({ timeout: '10m' });
  badHook.kube.serve(JOB);
  badHook.git.commit([
    job('migrate', { 'argocd.argoproj.io/hook': 'PreSync' }),
    configMap('app', {}),
    job('notify', { 'argocd.argoproj.io/hook': 'PostSync' }),
  ]);
  badHook.kube.fail('dryRun', { name: 'notify' }, new KubeApiError(422, 'Invalid', 'spec.template.spec.containers: Required value'));
  const refused = await run(badHook);
  assert.equal(refused.error?.code, 'ObjectInvalid');
  assert.match(refused.error?.message ?? '', /Job\/apps\/notify: .*Required value/);
  assert.deepEqual(badHook.kube.writes(), []);

  // The same set, valid: the dry-run of a named hook whose copy an earlier sync left is no failure.
  const valid = world({ timeout: '10m' });
  valid.kube.serve(JOB);
  valid.git.commit([job('migrate', { 'argocd.argoproj.io/hook': 'PreSync' }), configMap('app', {}), configMap('later', {}, wave(3))]);
  assert.equal((await run(valid)).error, undefined);
  assert.equal((await run(valid, { syncRequested: true })).error, undefined);
  assert.ok(valid.kube.peek('v1', 'ConfigMap', 'apps', 'later'));
});

test('a failed apply runs SyncFail hooks too', async () => {
  const { KubeApiError } = await import('../../shared/kube/errors.ts');
  const w = world({ timeout: '10m' });
  w.kube.serve(JOB);
  w.git.commit([configMap('app', {}), job('on-fail', { 'argocd.argoproj.io/hook': 'SyncFail' })]);
  w.kube.fail('apply', { name: 'app' }, new KubeApiError(422, 'Invalid', 'data: Invalid value'));
  const outcome = await run(w);
  assert.equal(outcome.failedPhase, 'apply');
  assert.deepEqual(
    outcome.hooks?.map((h) => [h.phase, h.name, h.status]),
    [['SyncFail', 'on-fail', 'Succeeded']],
  );
});

test('sync-options: Prune=false keeps an object that left Git; prune goes highest wave first; Replace=true updates', async () => {
  const w = world({ prune: true });
  w.git.commit([
    configMap('keep', {}, { annotations: { 'argocd.argoproj.io/sync-options': 'Prune=false' } }),
    configMap('w1', {}, wave(1)),
    configMap('w9', {}, wave(9)),
    configMap('w-3', {}, wave(-3)),
    configMap('stay', {}),
  ]);
  w.record(await reconcile(w.input(), w.deps));
  w.git.commit([configMap('stay', {}, { annotations: { 'argocd.argoproj.io/sync-options': 'Replace=true' } })]);
  const before = w.kube.calls.length;
  const outcome = await reconcile(w.input(), w.deps);
  assert.equal(outcome.error, undefined);
  const deletes = w.kube.calls.slice(before).filter((c) => c.op === 'delete');
  assert.deepEqual(
    deletes.map((c) => c.name),
    ['w9', 'w1', 'w-3'],
  );
  assert.deepEqual(names(outcome.changes, 'skipped'), ['keep']);
  assert.ok(w.kube.peek('v1', 'ConfigMap', 'apps', 'keep'));
  assert.ok(
    w.kube.calls.slice(before).some((c) => c.op === 'replace' && c.name === 'stay'),
    'Replace=true: update instead of server-side apply',
  );
  assert.ok(await w.kube.get(CM, 'apps', 'stay'));
});

test('SkipDryRunOnMissingResource=true: a custom resource of a kind not served yet is skipped, not a failed sync', async () => {
  const w = world({ timeout: '10m' });
  const widget = (name: string, annotations: Record<string, string>): KubeObject => ({
    apiVersion: 'example.dev/v1',
    kind: 'Widget',
    metadata: { name, annotations },
  });
  w.git.commit([
    configMap('a', {}),
    widget('w', { 'argocd.argoproj.io/sync-options': 'SkipDryRunOnMissingResource=true' }),
    configMap('next', {}, wave(1)),
  ]);
  // Its wave is not held up waiting for an object that cannot exist yet.
  const outcome = await run(w);
  assert.ok(w.kube.peek('v1', 'ConfigMap', 'apps', 'next'));
  assert.equal(outcome.error, undefined);
  assert.deepEqual(names(outcome.changes, 'skipped'), ['w']);
  assert.match(outcome.changes.find((c) => c.ref.name === 'w')?.message ?? '', /not served yet/);
  assert.equal(outcome.sync, 'OutOfSync', 'it stays to do');

  const strict = world();
  strict.git.commit([configMap('a', {}), widget('w', {})]);
  assert.equal((await reconcile(strict.input(), strict.deps)).error?.code, 'UnknownKind');
});

test('as a ServiceAccount that may not create the hook Jobs: the sync stops before anything runs or is written', async () => {
  const w = world();
  w.kube.serve(JOB);
  w.deps.identity = { namespace: 'agent', name: 'deployer' };
  w.git.commit([configMap('a', {}), job('migrate-', { 'argocd.argoproj.io/hook': 'PreSync' }, true)]);
  w.kube.deny({ kind: 'Job' });
  const outcome = await reconcile(w.input(), w.deps);
  assert.equal(outcome.error?.code, 'Forbidden');
  assert.match(outcome.error?.message ?? '', /ServiceAccount agent\/deployer may not create jobs\.batch migrate-/);
  assert.deepEqual(w.kube.writes(), []);
});

test('a hook that never ends stops the sync at spec.timeout with HookTimeout, reported Running', async () => {
  const w = world({ timeout: '2m' });
  w.kube.serve(JOB);
  w.git.commit([job('slow', { 'argocd.argoproj.io/hook': 'PreSync' }), configMap('a', {})]);
  const start = w.clock.now();
  const outcome = await run(w, { jobsHang: true });
  assert.equal(outcome.error?.code, 'HookTimeout');
  assert.equal(outcome.error?.kind, 'transient');
  assert.ok(w.clock.now() - start >= 120_000);
  assert.deepEqual(
    outcome.hooks?.map((h) => [h.name, h.status]),
    [['slow', 'Running']],
  );
  assert.equal(w.kube.peek('v1', 'ConfigMap', 'apps', 'a'), undefined);
});

test('steady state: with every wave in sync an unhealthy wave holds nothing back — no wait, its health is only reported', async () => {
  const w = world({ timeout: '10m' });
  w.git.commit([deployment('api', { 'argocd.argoproj.io/sync-wave': '0' }), configMap('late', {}, wave(1))]);
  const ready = async () => {
    const api = w.kube.peek('apps/v1', 'Deployment', 'apps', 'api');
    if (api && api.status === undefined) {
      await w.kube.patchStatus(DEPLOY, 'apps', 'api', {
        observedGeneration: api.metadata.generation,
        replicas: 1,
        updatedReplicas: 1,
        readyReplicas: 1,
        availableReplicas: 1,
        conditions: [{ type: 'Available', status: 'True' }],
      });
    }
  };
  const first = await run(w, { tick: ready });
  assert.equal(first.error, undefined);
  w.record(first);
  // The Deployment loses its Pods (a node went away): Progressing, nothing in Git changed.
  await w.kube.patchStatus(DEPLOY, 'apps', 'api', { readyReplicas: 0, availableReplicas: 0, updatedReplicas: 0 });
  const start = w.clock.now();
  const steady = await run(w);
  assert.equal(steady.error, undefined);
  assert.ok(w.clock.now() - start < 5000, `no wave wait (${w.clock.now() - start} ms)`);
  assert.equal(steady.sync, 'Synced');
  assert.notEqual(steady.health.status, 'Healthy');

  // A new commit that changes the later wave waits for the earlier one again.
  w.git.commit([deployment('api', { 'argocd.argoproj.io/sync-wave': '0' }), configMap('late', { v: '2' }, wave(1))]);
  const changed = await run(w);
  assert.equal(changed.error?.code, 'SyncWaveTimeout');
  assert.deepEqual((await w.kube.get(CM, 'apps', 'late'))?.data, {});
});

test('PostDelete hooks: never run by a sync; on deletion only they run, with their delete policy', async () => {
  const w = world({ timeout: '10m' });
  w.kube.serve(JOB);
  w.git.commit([
    configMap('app', {}),
    job('migrate', { 'argocd.argoproj.io/hook': 'PreSync' }),
    job('cleanup', { 'argocd.argoproj.io/hook': 'PostDelete', 'argocd.argoproj.io/hook-delete-policy': 'HookSucceeded' }),
    job('farewell-', { 'argocd.argoproj.io/hook': 'PostDelete' }, true),
  ]);
  const synced = await run(w);
  assert.equal(synced.error, undefined);
  assert.deepEqual(
    synced.hooks?.map((h) => [h.phase, h.name]),
    [['PreSync', 'migrate']],
  );
  assert.ok(!writeOrder(w).some((n) => n.startsWith('cleanup') || n.startsWith('farewell')), 'no PostDelete hook in a sync');
  assert.equal(synced.postDeleteHooks, 2, 'counted for status, so a deletion knows to render them');
  w.record(synced);

  const before = w.kube.calls.length;
  const deletedAt = Date.parse('2026-01-02T03:04:05Z');
  const farewell = `farewell-${w.git.sha().slice(0, 7)}-postdelete-${deletedAt / 1000}`;
  let done = false;
  const running = runPostDeleteHooks(w.input(), w.deps, deletedAt).finally(() => (done = true));
  for (let i = 0; !done && i < 1000; i++) {
    await settleJobs(w, undefined);
    await w.clock.advance(250);
  }
  const ran = await running;
  assert.equal(ran.error, undefined);
  assert.deepEqual(
    ran.statuses.map((h) => [h.phase, h.name, h.status]),
    [
      ['PostDelete', 'cleanup', 'Succeeded'],
      ['PostDelete', farewell, 'Succeeded'],
    ],
  );
  const created = w.kube.calls.slice(before).filter((c) => c.op === 'create' || c.op === 'apply');
  assert.deepEqual(created.map((c) => c.name).sort(), ['cleanup', farewell], 'nothing else written');
  assert.equal(w.kube.peek('batch/v1', 'Job', 'apps', 'cleanup'), undefined, 'HookSucceeded deleted it');
  assert.equal(w.kube.peek('batch/v1', 'Job', 'apps', farewell), undefined, 'without a policy deleted once it ran, as Argo does');

  const failing = world({ timeout: '10m' });
  failing.kube.serve(JOB);
  failing.git.commit([configMap('app', {}), job('cleanup', { 'argocd.argoproj.io/hook': 'PostDelete' })]);
  let finished = false;
  const failed = runPostDeleteHooks(failing.input(), failing.deps, deletedAt).finally(() => (finished = true));
  for (let i = 0; !finished && i < 1000; i++) {
    await settleJobs(failing, /cleanup/);
    await failing.clock.advance(250);
  }
  const outcome = await failed;
  assert.equal(outcome.error?.code, 'HookFailed');
  assert.match(outcome.error?.message ?? '', /PostDelete hook failed: Job apps\/cleanup: BackoffLimitExceeded/);
  const firstTry = failing.kube.peek('batch/v1', 'Job', 'apps', 'cleanup');
  assert.ok(firstTry, 'the failed hook stays for its logs');

  // Fixed in Git: the retried deletion replaces the failed copy with the new one, which runs.
  failing.git.commit([configMap('app', {}), job('cleanup', { 'argocd.argoproj.io/hook': 'PostDelete' })]);
  finished = false;
  const retried = runPostDeleteHooks(failing.input(), failing.deps, deletedAt).finally(() => (finished = true));
  for (let i = 0; !finished && i < 1000; i++) {
    await settleJobs(failing, undefined);
    await failing.clock.advance(250);
  }
  assert.equal((await retried).error, undefined);
  assert.ok(
    failing.kube.calls.some((c) => c.op === 'delete' && c.name === 'cleanup'),
    'the failed copy was replaced, not reused',
  );
});

test('PostDelete hooks render the commit last applied, not what the branch holds now', () => {
  const w = world();
  const sha = 'a'.repeat(40);
  assert.deepEqual(lastAppliedConfig(w.input().config, `main@sha1:${sha}`).ref, { kind: 'commit', value: sha });
  assert.deepEqual(lastAppliedConfig(w.input().config, undefined).ref, w.input().config.ref);
});
