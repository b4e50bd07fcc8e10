import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResourceMapping } from '../../shared/kube/discovery.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { CRD_FACTS_TTL_MS, CrdFactsReader } from '../crd-facts.ts';
import { reconcile } from './index.ts';
import { configMap, world } from './test-kit.ts';

const WIDGETS: ResourceMapping = { group: 'example.com', version: 'v1', kind: 'Widget', plural: 'widgets', namespaced: true };

function widget(name: string, status?: Record<string, unknown>): KubeObject {
  return { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name }, spec: { size: 1 }, ...(status ? { status } : {}) };
}

function widgetCrd(statusSubresource: boolean): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      names: { kind: 'Widget', plural: 'widgets' },
      scope: 'Namespaced',
      versions: [{ name: 'v1', served: true, storage: true, ...(statusSubresource ? { subresources: { status: {} } } : {}) }],
    },
  };
}

/** The controller writing status: the fake port keeps what is seeded as the live object. */
function writeStatus(w: ReturnType<typeof world>, name: string, status: Record<string, unknown>): void {
  const live = w.kube.peek('example.com/v1', 'Widget', 'apps', name);
  assert.ok(live, `${name} was applied`);
  w.kube.seed({ ...live, status });
}

test('healthCheckExprs rate a rendered custom resource: Unknown without status, then as the expressions say', async () => {
  const w = world({
    healthCheckExprs: [
      { apiVersion: 'example.com/v1', kind: 'Widget', current: "status.phase == 'Ready'", failed: "status.phase == 'Failed'" },
    ],
  });
  w.kube.serve(WIDGETS);
  w.git.commit([widget('blue'), configMap('settings', {})]);
  const first = await reconcile(w.input(), w.deps);
  assert.equal(first.error, undefined);
  assert.deepEqual(first.health, {
    status: 'Unknown',
    message: 'Widget/apps/blue is Unknown: spec.healthCheckExprs[0].failed: no such key: status',
  });
  w.record(first);

  writeStatus(w, 'blue', { phase: 'Ready' });
  assert.deepEqual((await reconcile(w.input(), w.deps)).health, { status: 'Healthy' });
  writeStatus(w, 'blue', { phase: 'Failed' });
  assert.deepEqual((await reconcile(w.input(), w.deps)).health, {
    status: 'Degraded',
    message: 'Widget/apps/blue is Degraded: spec.healthCheckExprs[0].failed is true',
  });
});

test('no status: Progressing when the CRD has a status subresource, Healthy when not; the CRD read once a minute', async () => {
  for (const subresource of [true, false]) {
    const w = world();
    w.kube.serve(WIDGETS);
    w.kube.seed(widgetCrd(subresource));
    const deps = { ...w.deps, crds: new CrdFactsReader(w.clock) };
    w.git.commit([widget('blue')]);
    const crdGets = () => w.kube.calls.filter((c) => c.op === 'get' && c.kind === 'CustomResourceDefinition').length;

    const outcome = await reconcile(w.input(), deps);
    w.record(outcome);
    assert.deepEqual(
      outcome.resources.map((r) => r.health),
      [
        subresource
          ? { status: 'Progressing', message: 'Waiting for the controller to report status' }
          : { status: 'Healthy', message: 'No status reported (its CRD declares no status subresource)' },
      ],
    );
    // Long after creation: no grace period decides any more, the CRD does.
    await w.clock.advance(10 * 60_000);
    await reconcile(w.input(), deps);
    assert.equal(crdGets(), 2);
    await w.clock.advance(CRD_FACTS_TTL_MS - 1);
    await reconcile(w.input(), deps);
    assert.equal(crdGets(), 2, 'within a minute the answer is reused');
    writeStatus(w, 'blue', { observedGeneration: 1 });
    await w.clock.advance(CRD_FACTS_TTL_MS);
    const reported = await reconcile(w.input(), deps);
    assert.equal(reported.health.status, 'Healthy');
    assert.equal(crdGets(), 2, 'an object with status needs no CRD');
  }
});

test('the CRD reader has no facts for a kind without a CRD, and caches per cluster', async () => {
  const w = world();
  const reader = new CrdFactsReader(w.clock);
  assert.equal(await reader.read(w.kube, WIDGETS), undefined);
  w.kube.seed(widgetCrd(true));
  // The miss was cached too, for the minute.
  assert.equal(await reader.read(w.kube, WIDGETS), undefined);
  await w.clock.advance(CRD_FACTS_TTL_MS);
  assert.deepEqual(await reader.read(w.kube, WIDGETS), { statusSubresource: true });
  assert.equal(await reader.read(world().kube, WIDGETS), undefined, 'another cluster, its own answer');
  assert.equal(await reader.read(w.kube, { ...WIDGETS, version: 'v2' }), undefined, 'a version the CRD does not list');
});
