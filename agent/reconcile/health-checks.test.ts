import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResourceMapping } from '../../shared/kube/discovery.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { reconcile } from './index.ts';
import { configMap, world } from './test-kit.ts';

const WIDGETS: ResourceMapping = { group: 'example.com', version: 'v1', kind: 'Widget', plural: 'widgets', namespaced: true };

function widget(name: string, status?: Record<string, unknown>): KubeObject {
  return { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name }, spec: { size: 1 }, ...(status ? { status } : {}) };
}

test('healthChecks: an object outside the rendered set counts in health and is reported, never in the inventory', async () => {
  const w = world({
    timeout: '30s',
    healthChecks: [
      { apiVersion: 'example.com/v1', kind: 'Widget', name: 'shared' },
      { apiVersion: 'example.com/v1', kind: 'Widget', name: 'elsewhere', namespace: 'other' },
      { apiVersion: 'example.com/v1', kind: 'Widget', name: 'blue' },
      { apiVersion: 'tidemark.dev/v1alpha1', kind: 'ContinuousDeployment', name: 'web' },
    ],
    healthCheckExprs: [{ apiVersion: 'example.com/v1', current: 'status.ready' }],
  });
  w.kube.serve(WIDGETS);
  w.kube.seed({ ...widget('shared', { ready: true }), metadata: { name: 'shared', namespace: 'apps' } });
  w.kube.seed({ ...widget('elsewhere', { ready: false }), metadata: { name: 'elsewhere', namespace: 'other' } });
  w.git.commit([widget('blue')]);
  let done = false;
  const run = reconcile(w.input(), w.deps).finally(() => (done = true));
  // blue (rendered) has no status, elsewhere is not ready: the wait lasts until spec.timeout.
  while (!done) await w.clock.advance(1000);
  const outcome = await run;
  assert.equal(outcome.error, undefined);
  assert.deepEqual(
    outcome.resources.map((r) => r.name),
    ['blue'],
  );
  assert.deepEqual(outcome.healthChecks, [
    {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      namespace: 'apps',
      name: 'shared',
      health: { status: 'Healthy', message: 'spec.healthCheckExprs[0].current is true' },
    },
    {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      namespace: 'other',
      name: 'elsewhere',
      health: { status: 'Progressing', message: 'spec.healthCheckExprs[0]: no expression is true yet' },
    },
  ]);
  assert.equal(outcome.health.status, 'Unknown', 'blue has no status for its expression to read');

  // The checked object turns ready while the run waits: the wait ends there.
  const w2 = world({
    healthChecks: [{ apiVersion: 'example.com/v1', kind: 'Widget', name: 'later' }],
    healthCheckExprs: [{ apiVersion: 'example.com/v1', current: 'status.ready' }],
  });
  w2.kube.serve(WIDGETS);
  w2.kube.seed({ ...widget('later', { ready: false }), metadata: { name: 'later', namespace: 'apps' } });
  w2.git.commit([configMap('settings', {})]);
  const start = w2.clock.now();
  let finished = false;
  const waiting = reconcile(w2.input(), w2.deps).finally(() => (finished = true));
  await w2.clock.advance(3000);
  assert.equal(finished, false);
  w2.kube.seed({ ...widget('later', { ready: true }), metadata: { name: 'later', namespace: 'apps' } });
  while (!finished) await w2.clock.advance(500);
  const ready = await waiting;
  assert.deepEqual(ready.health, { status: 'Healthy' });
  assert.ok(w2.clock.now() - start < 10_000, 'the wait ended when the object was ready');

  // A missing one is Missing, and in a plan nothing is waited for.
  const w3 = world({ healthChecks: [{ kind: 'Deployment', name: 'absent' }] });
  w3.git.commit([configMap('settings', {})]);
  const plan = await reconcile(w3.input({}, 'plan'), w3.deps);
  assert.deepEqual(plan.healthChecks, [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: 'apps',
      name: 'absent',
      health: { status: 'Missing', message: 'not found in the cluster' },
    },
  ]);
  assert.equal(plan.health.status, 'Missing');
});
