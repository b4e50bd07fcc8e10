import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContinuousDeployment, ContinuousDeploymentSpec } from '../shared/api/continuous-deployment.ts';
import { Resources } from '../shared/api/resources.ts';
import type { Reason } from '../shared/errors/index.ts';
import { KubeApiError } from '../shared/kube/errors.ts';
import { FakeKubePort } from '../shared/kube/fake-port.ts';
import type { KubeObject } from '../shared/kube/object.ts';
import { silentLogger } from '../shared/log/index.ts';
import { validateContinuousDeploymentSpec, type Dependency } from '../shared/spec/index.ts';
import { FakeClock, settle } from '../shared/time/fake-clock.ts';
import { ContinuousDeploymentController } from './controller.ts';
import {
  DependencyIndex,
  dependencyError,
  deploymentEdges,
  deploymentNotReady,
  findCycle,
  judgeDependency,
  reaches,
} from './dependencies.ts';
import { createHealthAssessor } from './health-assessor.ts';
import { configMap, continuousDeployment } from './reconcile/test-kit.ts';
import type { Target, TargetResolver } from './targets.ts';
import type { TenancyOptions } from './tenancy.ts';

const CD = Resources.ContinuousDeployment;
const CM = Resources.ConfigMap;
const health = createHealthAssessor({ clock: new FakeClock() });

function deps(dependsOn: unknown): Dependency[] {
  const read = validateContinuousDeploymentSpec({ url: 'https://git.example/c', dependsOn });
  if (!read.ok) assert.fail(read.errors.map((e) => e.message).join('\n'));
  return read.value.dependsOn;
}

function cdWith(status: ContinuousDeployment['status'], generation = 2, extra: Partial<ContinuousDeployment['metadata']> = {}) {
  const cd = continuousDeployment({}, 'infra');
  return { ...cd, metadata: { ...cd.metadata, generation, ...extra }, ...(status ? { status } : {}) };
}
const readyCondition = (
  status: 'True' | 'False',
  observedGeneration: number,
  reason: Reason = 'ReconciliationSucceeded',
  message = 'm',
) => ({
  type: 'Ready',
  status,
  reason,
  message,
  observedGeneration,
  lastTransitionTime: '2026-01-01T00:00:00Z',
});

test('a deployment is ready when Ready is True for its current generation, and not being deleted', () => {
  assert.equal(deploymentNotReady(cdWith({ conditions: [readyCondition('True', 2)] })), undefined);
  assert.equal(deploymentNotReady(cdWith(undefined)), 'it has not reported Ready yet');
  assert.equal(
    deploymentNotReady(cdWith({ conditions: [readyCondition('True', 1)] })),
    'its Ready condition is for generation 1, not the current 2',
  );
  assert.equal(
    deploymentNotReady(cdWith({ conditions: [readyCondition('False', 2, 'DryRunFailed', 'bad object')] })),
    'Ready is False (DryRunFailed): bad object',
  );
  assert.equal(
    deploymentNotReady(cdWith({ conditions: [readyCondition('True', 2)] }, 2, { deletionTimestamp: '2026-01-01T00:00:00Z' })),
    'it is being deleted',
  );
});

test('judging: readyExpr replaces the default over dep and self; objects by our health rules; missing is its own reason', () => {
  const self = continuousDeployment({}, 'app');
  const notReady = cdWith({ conditions: [readyCondition('False', 2)], health: { status: 'Healthy' } });
  const [plain, byExpr, badExpr] = deps([
    { name: 'infra' },
    { name: 'infra', namespace: 'agent', readyExpr: "dep.status.health.status == 'Healthy' && self.metadata.name == 'app'" },
    { name: 'infra', namespace: 'other', readyExpr: 'dep.status.nothing.here' },
  ]);
  assert.equal(judgeDependency(plain!, { kind: 'deployment', object: notReady }, self, health, 'agent').ready, false);
  const verdict = judgeDependency(byExpr!, { kind: 'deployment', object: notReady }, self, health, 'agent');
  assert.deepEqual([verdict.ready, verdict.name], [true, 'ContinuousDeployment agent/infra']);
  const failed = judgeDependency(badExpr!, { kind: 'deployment', object: notReady }, self, health, 'agent');
  assert.equal(failed.ready, false);
  assert.match(failed.why, /^readyExpr failed: /);

  const [db] = deps([{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'db', namespace: 'data' }]);
  const progressing: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'db', namespace: 'data', generation: 2 },
    spec: { replicas: 1 },
    status: { observedGeneration: 1 },
  };
  const judged = judgeDependency(db!, { kind: 'object', object: progressing, served: true }, self, health, 'agent');
  assert.deepEqual([judged.ready, judged.name], [false, 'Deployment data/db']);
  assert.match(judged.why, /^Progressing/);
  const missing = judgeDependency(db!, { kind: 'object', object: undefined, served: true }, self, health, 'agent');
  const unserved = judgeDependency(db!, { kind: 'object', object: undefined, served: false }, self, health, 'agent');
  assert.deepEqual(dependencyError([missing])?.code, 'DependencyNotFound');
  assert.equal(unserved.why, 'the API server does not serve apps/v1');
  const error = dependencyError([judged, verdict]);
  assert.equal(error?.code, 'DependencyNotReady');
  assert.equal(error?.kind, 'transient');
  assert.match(error?.message ?? '', /^nothing applied: waiting for a dependency: Deployment data\/db: Progressing/);
  assert.equal(dependencyError([verdict]), undefined);
});

test('cycles: found through the start, with the path; reaches and the index', () => {
  const edges: Record<string, string[]> = { a: ['b'], b: ['c', 'd'], c: ['a'], d: [], e: ['e'] };
  const of = (k: string) => edges[k] ?? [];
  assert.deepEqual(findCycle('a', of), ['a', 'b', 'c', 'a']);
  assert.deepEqual(findCycle('c', of), ['c', 'a', 'b', 'c']);
  assert.equal(findCycle('d', of), undefined);
  assert.deepEqual(findCycle('e', of), ['e', 'e']);
  assert.equal(reaches('a', 'd', of), true);
  assert.equal(reaches('d', 'a', of), false);

  const index = new DependencyIndex();
  index.set('ns/app', ['ns/infra', 'ns/db']);
  index.set('ns/web', ['ns/infra']);
  assert.deepEqual(index.dependentsOf('ns/infra').sort(), ['ns/app', 'ns/web']);
  index.set('ns/app', ['ns/db']);
  assert.deepEqual(index.dependentsOf('ns/infra'), ['ns/web']);
  index.remove('ns/web');
  assert.deepEqual(index.dependentsOf('ns/infra'), []);
  assert.deepEqual(index.dependenciesOf('ns/app'), ['ns/db']);

  const raw = continuousDeployment(
    {
      dependsOn: [
        { name: 'infra' },
        { name: 'x', namespace: 'other' },
        { apiVersion: 'apps/v1', kind: 'Deployment', name: 'db' },
        { apiVersion: 'tidemark.dev/v1alpha1', kind: 'ContinuousDeployment', name: 'net' },
      ],
    },
    'app',
  );
  assert.deepEqual(deploymentEdges(raw), ['agent/infra', 'other/x', 'agent/net']);
});

/** Several ContinuousDeployments on one fake cluster; each renders the objects of its spec.path. */
function platform(tenancy: TenancyOptions = {}) {
  const home = new FakeKubePort();
  const clock = new FakeClock();
  const files = new Map<string, KubeObject[]>();
  const events: Array<{ name: string; reason: string; message: string }> = [];
  const target: Target = { kube: home, name: 'in-cluster' };
  const targets: TargetResolver = {
    home: target,
    resolve: () => Promise.resolve(target),
    forget: () => undefined,
    close: () => Promise.resolve(),
  };
  const controller = new ContinuousDeploymentController({
    kube: home,
    targets,
    secrets: () => Promise.resolve({}),
    source: {
      resolve: () =>
        Promise.resolve({ ref: 'main', revision: `main@sha1:${'1'.padStart(40, '0')}`, sha: '1'.padStart(40, '0'), verified: true }),
      checkout: () => Promise.resolve({ dir: '/checkout', release: () => undefined }),
    },
    render: (_dir, path) => Promise.resolve(structuredClone(files.get(path) ?? [])),
    health,
    events: { record: (obj, _type, reason, message) => Promise.resolve(void events.push({ name: obj.name, reason, message })) },
    clock,
    log: silentLogger,
    workers: 2,
    concurrency: 4,
    tenancy,
  });
  const add = (name: string, spec: Partial<ContinuousDeploymentSpec>, objects: KubeObject[]) => {
    files.set(name, objects);
    home.seed(continuousDeployment({ pullInterval: '10m', path: name, ...spec }, name) as unknown as KubeObject);
  };
  const read = (name: string) =>
    home.peek('tidemark.dev/v1alpha1', 'ContinuousDeployment', 'agent', name) as ContinuousDeployment | undefined;
  const ready = (name: string) => read(name)?.status?.conditions?.find((c) => c.type === 'Ready');
  return { home, clock, controller, add, read, ready, events };
}

test('dependsOn: nothing is applied until the dependency is Ready, and its change wakes the dependent (no timer)', async () => {
  const p = platform();
  p.home.fail('dryRun', { name: 'infra-cm' }, new KubeApiError(500, 'InternalError', 'etcd is slow'), 1);
  p.add('infra', {}, [configMap('infra-cm', { x: '1' })]);
  p.add('app', { dependsOn: [{ name: 'infra' }] }, [configMap('app-cm', { x: '1' })]);
  p.controller.start();
  await settle(30);
  // The infra run failed once (transient) and has not retried yet: the clock has not moved.
  assert.equal(p.ready('infra')?.status, 'False');
  const waiting = p.ready('app');
  assert.equal(waiting?.reason, 'DependencyNotReady');
  assert.match(waiting?.message ?? '', /ContinuousDeployment agent\/infra: Ready is False \(APIServerError\)/);
  assert.equal(await p.home.get(CM, 'apps', 'app-cm'), undefined, 'nothing applied');
  assert.ok(p.events.some((e) => e.name === 'app' && e.reason === 'DependencyNotReady'));

  // infra's retry succeeds after its backoff (under a second); app's own backoff is longer than
  // that, so what brings app back at once is infra's status change.
  await p.clock.advance(900);
  await settle(30);
  assert.equal(p.ready('infra')?.status, 'True');
  assert.equal(p.ready('app')?.status, 'True', p.ready('app')?.message);
  assert.ok(await p.home.get(CM, 'apps', 'app-cm'));
  await p.controller.stop();
});

test('dependsOn: a missing dependency is DependencyNotFound; creating it wakes the dependent', async () => {
  const p = platform();
  p.add('app', { dependsOn: [{ name: 'infra' }] }, [configMap('app-cm', { x: '1' })]);
  p.controller.start();
  await settle(30);
  assert.equal(p.ready('app')?.reason, 'DependencyNotFound');
  assert.match(p.ready('app')?.message ?? '', /ContinuousDeployment agent\/infra: not found/);
  p.add('infra', {}, [configMap('infra-cm', { x: '1' })]);
  await settle(30);
  assert.equal(p.ready('app')?.status, 'True');
  await p.controller.stop();
});

test('dependsOn: a cycle is reported on every member, and nothing is applied', async () => {
  const p = platform();
  p.add('a', { dependsOn: [{ name: 'b' }] }, [configMap('a-cm', {})]);
  p.add('b', { dependsOn: [{ name: 'c' }] }, [configMap('b-cm', {})]);
  p.add('c', { dependsOn: [{ name: 'a' }] }, [configMap('c-cm', {})]);
  p.controller.start();
  await settle(30);
  for (const name of ['a', 'b', 'c']) {
    assert.equal(p.ready(name)?.reason, 'DependencyCycle', name);
    assert.equal(await p.home.get(CM, 'apps', `${name}-cm`), undefined);
  }
  assert.match(p.ready('a')?.message ?? '', /agent\/a → agent\/b → agent\/c → agent\/a/);
  await p.controller.stop();
});

test('dependsOn under --no-cross-namespace-refs: another namespace is refused with its field path', async () => {
  const p = platform({ noCrossNamespaceRefs: true });
  p.add('app', { dependsOn: [{ name: 'infra', namespace: 'platform' }] }, [configMap('app-cm', {})]);
  p.controller.start();
  await settle(30);
  assert.equal(p.ready('app')?.reason, 'InvalidSpec');
  assert.match(p.ready('app')?.message ?? '', /spec\.dependsOn\[0\]\.namespace: "platform" is another namespace/);
  await p.controller.stop();
});

test('dependsOn on any object: Healthy by our rules; retried with backoff until it is', async () => {
  const p = platform();
  const db: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'db', namespace: 'agent' },
    spec: { replicas: 1 },
    status: { observedGeneration: 0 },
  };
  const seeded = p.home.seed(db);
  p.add('app', { dependsOn: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'db' }] }, [configMap('app-cm', {})]);
  p.controller.start();
  await settle(30);
  assert.equal(p.ready('app')?.reason, 'DependencyNotReady');
  assert.match(p.ready('app')?.message ?? '', /Deployment db: Progressing/);
  await p.home.patchStatus(Resources.Deployment, 'agent', 'db', {
    observedGeneration: seeded.metadata.generation ?? 1,
    replicas: 1,
    updatedReplicas: 1,
    readyReplicas: 1,
    availableReplicas: 1,
    conditions: [{ type: 'Available', status: 'True' }],
  });
  await p.clock.advance(2_000);
  await settle(30);
  assert.equal(p.ready('app')?.status, 'True', p.ready('app')?.message);
  await p.controller.stop();
});

test('deletion: a deployment others depend on is held until they are gone, then deleted', async () => {
  const p = platform();
  p.add('infra', {}, [configMap('infra-cm', {})]);
  p.add('app', { dependsOn: [{ name: 'infra' }] }, [configMap('app-cm', {})]);
  p.controller.start();
  await settle(30);
  assert.equal(p.ready('app')?.status, 'True');

  await p.home.delete(CD, 'agent', 'infra', 'background');
  await settle(30);
  assert.ok(p.read('infra'), 'held by its finalizer');
  assert.ok(await p.home.get(CM, 'apps', 'infra-cm'), 'its objects stay while app exists');
  assert.equal(p.ready('infra')?.reason, 'DeletionBlockedByDependents');
  assert.match(p.ready('infra')?.message ?? '', /agent\/app/);

  await p.home.delete(CD, 'agent', 'app', 'background');
  await settle(30);
  assert.equal(p.read('app'), undefined);
  assert.equal(await p.home.get(CM, 'apps', 'app-cm'), undefined);
  assert.equal(p.read('infra'), undefined, 'released once its dependent is gone, without waiting for a timer');
  assert.equal(await p.home.get(CM, 'apps', 'infra-cm'), undefined);
  await p.controller.stop();
});
