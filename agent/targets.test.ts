import type { ObjectCache } from '../shared/kube/object-cache.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Resources } from '../shared/api/resources.ts';
import type { KubeClient } from '../shared/kube/client.ts';
import { FakeKubePort } from '../shared/kube/fake-port.ts';
import type { KubeObject } from '../shared/kube/object.ts';
import { silentLogger } from '../shared/log/index.ts';
import { FakeClock, settle } from '../shared/time/fake-clock.ts';
import { ContinuousDeploymentController } from './controller.ts';
import { createHealthAssessor } from './health-assessor.ts';
import { ownershipValue } from './plan.ts';
import { configMap, continuousDeployment, FakeGit } from './reconcile/test-kit.ts';
import { createTargetResolver } from './targets.ts';

const CM = Resources.ConfigMap;

/** The agent as main.ts wires it (the real target resolver and its watch cache) on a fake home cluster. */
function agent() {
  const home = new FakeKubePort();
  const clock = new FakeClock();
  const git = new FakeGit();
  const client = { port: home, close: () => Promise.resolve() } as unknown as KubeClient;
  const targets = createTargetResolver(client, {
    clock,
    log: silentLogger,
    onObjectChange: (obj, serves) => controller.onObjectChange(obj, serves),
  });
  const controller: ContinuousDeploymentController = new ContinuousDeploymentController({
    kube: home,
    targets,
    secrets: () => Promise.resolve({}),
    source: git,
    render: () => git.render(),
    health: createHealthAssessor({ clock }),
    events: { record: () => Promise.resolve() },
    clock,
    log: silentLogger,
    workers: 2,
    concurrency: 4,
  });
  // Every run starts by reading the newest copy of its ContinuousDeployment.
  const runs = () => home.calls.filter((c) => c.op === 'get' && c.kind === 'ContinuousDeployment').length;
  return { home, git, targets, controller, runs };
}

/** A tenant's own ConfigMap, labelled (and optionally annotated) as if the victim "agent/web" owned it. */
function forged(name: string, annotate: boolean): KubeObject {
  const owner = { namespace: 'agent', name: 'web' };
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace: 'tenant',
      labels: { 'tidemark.dev/name': 'web', 'tidemark.dev/namespace': 'agent' },
      annotations: annotate
        ? { 'tidemark.dev/owned-by': ownershipValue(owner, { group: '', kind: 'ConfigMap', namespace: 'tenant', name }) }
        : {},
      managedFields: [{ manager: 'tenant', fieldsV1: { 'f:data': {} } }],
    },
    data: { payload: 'x'.repeat(4096) },
  };
}

test("targets: a tenant labelling its own objects with another deployment's name triggers nothing and costs an identity each", async () => {
  const a = agent();
  a.git.commit([configMap('a', { x: '1' })]);
  a.home.seed(continuousDeployment({ pullInterval: '1h' }) as unknown as KubeObject);
  a.controller.start();
  await settle(30);
  assert.ok(await a.home.get(CM, 'apps', 'a'), 'the victim synced');
  const base = a.runs();

  for (let i = 0; i < 50; i++) a.home.seed(forged(`plain-${i}`, false));
  for (let i = 0; i < 50; i++) a.home.seed(forged(`stamped-${i}`, true));
  await settle(30);
  for (let i = 0; i < 50; i++) await a.home.patchMetadata(CM, 'tenant', `plain-${i}`, { annotations: { touched: String(i) } });
  for (let i = 0; i < 50; i += 2) await a.home.delete(CM, 'tenant', `stamped-${i}`, 'background');
  await settle(30);
  assert.equal(a.runs(), base, 'no reconcile of the victim for objects outside its inventory');

  // The home target's cache is the shared ObjectCache itself (tenants get a watch-only view).
  const cache = a.targets.home.cache as ObjectCache;
  const kept = cache.kept(CM).filter((o) => o.metadata.namespace === 'tenant');
  assert.equal(kept.length, 75);
  for (const o of kept) {
    assert.equal(o.metadata.managedFields, undefined, o.metadata.name);
    if (o.metadata.name.startsWith('plain-')) {
      assert.equal(o.data, undefined, 'a forged label alone buys no copy');
      assert.equal(cache.get(CM, 'tenant', o.metadata.name), undefined, 'and the cache does not answer for it');
    }
  }

  // The same watch still heals what is ours: the test above can fail.
  await a.home.delete(CM, 'apps', 'a', 'background');
  await settle(30);
  assert.ok(a.runs() > base, 'a deleted managed object reconciles its owner');
  assert.ok(await a.home.get(CM, 'apps', 'a'), 'and is recreated');
  await a.controller.stop();
  await a.targets.close();
});
