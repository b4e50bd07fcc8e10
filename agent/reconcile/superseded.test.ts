import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ResourceMapping } from '../../shared/kube/discovery.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import type { ReconcileOutcome } from '../types.ts';
import { reconcile } from './index.ts';
import { configMap, names, world } from './test-kit.ts';

/*
 * Issue 14: the newest commit wins. A newer intent (the controller aborts `newer` with what it is)
 * ends a wait in progress with an outcome of its own: no wave timeout, no SyncFail hooks, no prune
 * and no later wave. Each wait below would otherwise last the 10 minutes of spec.timeout.
 */

const JOB: ResourceMapping = { group: 'batch', version: 'v1', kind: 'Job', plural: 'jobs', namespaced: true };
const WIDGETS: ResourceMapping = { group: 'example.com', version: 'v1', kind: 'Widget', plural: 'widgets', namespaced: true };
const TEN_MINUTES = 600_000;
const NEWER = 'revision main@sha1:2222222222222222222222222222222222222222';

/** No controller in the fake cluster: it stays Progressing for ever. */
function deployment(name: string, annotations: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, annotations }, spec: { replicas: 1 } };
}

function job(name: string, phase: string): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, annotations: { 'argocd.argoproj.io/hook': phase } },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [] } } },
  };
}

type World = ReturnType<typeof world>;

/** Runs one reconcile; 5 s (on its clock) after it started a newer intent arrives. */
async function supersededAfter5s(w: World): Promise<{ outcome: ReconcileOutcome; took: number }> {
  const newer = new AbortController();
  const start = w.clock.now();
  let done = false;
  const run = reconcile(w.input(), { ...w.deps, newer: newer.signal }).finally(() => (done = true));
  while (!done && w.clock.now() - start < 2 * TEN_MINUTES) {
    if (w.clock.now() - start >= 5000 && !newer.signal.aborted) newer.abort(NEWER);
    await w.clock.advance(250);
  }
  return { outcome: await run, took: w.clock.now() - start };
}

function assertSuperseded(result: { outcome: ReconcileOutcome; took: number }, during: string): void {
  const { outcome, took } = result;
  assert.equal(outcome.error, undefined, 'not a failure');
  assert.deepEqual(outcome.superseded, { by: NEWER, during });
  assert.ok(took < 10_000, `the wait ended when the newer intent came, not at spec.timeout (${took} ms)`);
}

test('between waves: a newer intent ends the wave wait — no SyncWaveTimeout, no later wave, no SyncFail hook', async () => {
  const w = world({ timeout: '10m' });
  w.kube.serve(JOB);
  w.git.commit([
    deployment('api', { 'argocd.argoproj.io/sync-wave': '1' }),
    configMap('after', {}, { annotations: { 'argocd.argoproj.io/sync-wave': '2' } }),
    job('on-fail', 'SyncFail'),
  ]);
  const result = await supersededAfter5s(w);
  assertSuperseded(result, 'sync wave 1 to be healthy');
  assert.equal(w.kube.peek('v1', 'ConfigMap', 'apps', 'after'), undefined, 'wave 2 not started');
  assert.equal(w.kube.peek('batch/v1', 'Job', 'apps', 'on-fail'), undefined, 'no SyncFail hook');
  assert.equal(result.outcome.hooks, undefined);
  assert.deepEqual(result.outcome.resources.map((r) => r.name).sort(), ['after', 'api'], 'what it may have created stays in the inventory');
  assert.equal(result.outcome.health.status, 'Progressing');
  assert.equal(result.outcome.sync, 'OutOfSync');
});

test('pruneLast: a newer intent ends the health wait and nothing is pruned by the abandoned run', async () => {
  const w = world({ timeout: '10m', prune: true, syncPolicy: { pruneLast: true } });
  w.git.commit([deployment('api'), configMap('stale', {})]);
  w.record(await reconcile(w.input(), w.deps));
  w.git.commit([deployment('api')]);
  const result = await supersededAfter5s(w);
  assertSuperseded(result, 'every object to be healthy before pruning (pruneLast)');
  assert.deepEqual(names(result.outcome.changes, 'deleted'), []);
  assert.ok(w.kube.peek('v1', 'ConfigMap', 'apps', 'stale'), 'still there');
  assert.ok(
    result.outcome.resources.some((r) => r.name === 'stale'),
    'still in the inventory: the next run prunes it',
  );
});

test('a hook wait: a newer intent ends it, the hook is left Running, nothing is applied and no SyncFail hook runs', async () => {
  const w = world({ timeout: '10m' });
  w.kube.serve(JOB);
  w.git.commit([job('migrate', 'PreSync'), configMap('app', {}), job('on-fail', 'SyncFail')]);
  const result = await supersededAfter5s(w);
  assertSuperseded(result, 'the PreSync hooks');
  assert.deepEqual(
    result.outcome.hooks?.map((h) => [h.phase, h.name, h.status]),
    [['PreSync', 'migrate', 'Running']],
  );
  assert.equal(w.kube.peek('v1', 'ConfigMap', 'apps', 'app'), undefined);
  assert.equal(w.kube.peek('batch/v1', 'Job', 'apps', 'on-fail'), undefined);
});

test('spec.healthChecks: a newer intent ends the wait; the sync it did is reported as done', async () => {
  const w = world({
    timeout: '10m',
    healthChecks: [{ apiVersion: 'example.com/v1', kind: 'Widget', name: 'later' }],
    healthCheckExprs: [{ apiVersion: 'example.com/v1', current: 'status.ready' }],
  });
  w.kube.serve(WIDGETS);
  w.kube.seed({
    apiVersion: 'example.com/v1',
    kind: 'Widget',
    metadata: { name: 'later', namespace: 'apps' },
    spec: {},
    status: { ready: false },
  });
  w.git.commit([configMap('settings', {})]);
  const result = await supersededAfter5s(w);
  assertSuperseded(result, 'spec.healthChecks');
  assert.equal(result.outcome.synced, true);
  assert.equal(result.outcome.sync, 'Synced');
});

test('without a newer intent the waits are what they were: none ends early', async () => {
  const w = world({ timeout: '10m' });
  w.git.commit([
    deployment('api', { 'argocd.argoproj.io/sync-wave': '1' }),
    configMap('after', {}, { annotations: { 'argocd.argoproj.io/sync-wave': '2' } }),
  ]);
  const start = w.clock.now();
  let done = false;
  const run = reconcile(w.input(), w.deps).finally(() => (done = true));
  while (!done) await w.clock.advance(1000);
  const outcome = await run;
  assert.equal(outcome.error?.code, 'SyncWaveTimeout');
  assert.equal(outcome.superseded, undefined);
  assert.ok(w.clock.now() - start >= TEN_MINUTES);
});
