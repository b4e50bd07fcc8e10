import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContinuousDeployment, ContinuousDeploymentSpec } from '../shared/api/continuous-deployment.ts';
import { Resources } from '../shared/api/resources.ts';
import { TidemarkError, transient } from '../shared/errors/index.ts';
import { KubeApiError } from '../shared/kube/errors.ts';
import { FakeKubePort } from '../shared/kube/fake-port.ts';
import type { KubeObject } from '../shared/kube/object.ts';
import { silentLogger } from '../shared/log/index.ts';
import { FakeClock, settle } from '../shared/time/fake-clock.ts';
import { ContinuousDeploymentController, needsRun, nextRun } from './controller.ts';
import { createHealthAssessor } from './health-assessor.ts';
import { configMap, continuousDeployment, FakeGit } from './reconcile/test-kit.ts';
import type { Target, TargetResolver } from './targets.ts';

const CD = Resources.ContinuousDeployment;
const CM = Resources.ConfigMap;
const MINUTE = 60_000;

/** The agent on a fake home cluster (and a fake remote one), a fake Git and a fake clock. */
function agent(spec: Partial<ContinuousDeploymentSpec> = {}) {
  const home = new FakeKubePort();
  const remote = new FakeKubePort();
  const git = new FakeGit();
  const clock = new FakeClock();
  const events: Array<{ type: string; reason: string; message: string }> = [];
  const homeTarget: Target = { kube: home, name: 'in-cluster' };
  const targets: TargetResolver = {
    home: homeTarget,
    resolve: (_cd, config) => Promise.resolve(config.kubeConfig ? { kube: remote, name: 'remote' } : homeTarget),
    forget: () => undefined,
    close: () => Promise.resolve(),
  };
  let lookups = 0;
  /** When set, reading the Git credentials Secret fails with it. */
  const secrets: { error: Error | undefined; read: string[] } = { error: undefined, read: [] };
  const auths: unknown[] = [];
  const source = {
    resolve: (...args: Parameters<FakeGit['resolve']>) => {
      lookups++;
      auths.push(args[1]);
      return git.resolve(...args);
    },
    checkout: () => git.checkout(),
  };
  const controller = new ContinuousDeploymentController({
    kube: home,
    targets,
    secrets: (_namespace, name) => {
      secrets.read.push(name);
      return secrets.error ? Promise.reject(secrets.error) : Promise.resolve({ username: name, password: 'p' });
    },
    source,
    render: () => git.render(),
    health: createHealthAssessor({ clock }),
    events: { record: (_obj, type, reason, message) => Promise.resolve(void events.push({ type, reason, message })) },
    clock,
    log: silentLogger,
    workers: 2,
    concurrency: 4,
  });
  const cd = continuousDeployment({ pullInterval: '1m', ...spec });
  const read = () =>
    Promise.resolve(
      home.peek('tidemark.dev/v1alpha1', 'ContinuousDeployment', 'agent', 'web') as (ContinuousDeployment & KubeObject) | undefined,
    );
  const ready = (c: ContinuousDeployment | undefined) => c?.status?.conditions?.find((x) => x.type === 'Ready');
  // Every run starts by reading the newest copy of its ContinuousDeployment.
  const runs = () => home.calls.filter((c) => c.op === 'get' && c.kind === 'ContinuousDeployment').length;
  return { home, remote, git, clock, events, controller, cd, read, ready, runs, secrets, auths, lookups: () => lookups };
}

async function start(a: ReturnType<typeof agent>): Promise<void> {
  a.home.seed(a.cd as unknown as KubeObject);
  a.controller.start();
  await settle(30);
}

test('nextRun and needsRun: the schedule and the changes that run at once', () => {
  assert.deepEqual(nextRun(MINUTE, undefined), { requeueAfterMs: MINUTE });
  assert.deepEqual(nextRun(MINUTE, transient('GitUnreachable', 'x')), { requeueAfterMs: MINUTE, retry: true });
  const cd = { ...continuousDeployment(), metadata: { name: 'web', namespace: 'agent', generation: 1 } } as ContinuousDeployment &
    KubeObject;
  const withMeta = (meta: Partial<KubeObject['metadata']>) => ({ ...cd, metadata: { ...cd.metadata, ...meta } });
  assert.equal(needsRun(undefined, cd), true);
  assert.equal(needsRun(cd, withMeta({ resourceVersion: '9' })), false, 'a status write');
  assert.equal(needsRun(cd, withMeta({ generation: 2 })), true);
  assert.equal(needsRun(cd, withMeta({ annotations: { 'tidemark.dev/requestedAt': '1' } })), true);
  assert.equal(needsRun(cd, withMeta({ annotations: { 'tidemark.dev/deletion-policy': 'orphan' } })), true);
  assert.equal(needsRun(cd, withMeta({ annotations: { unrelated: 'x' } })), false);
  assert.equal(needsRun(cd, withMeta({ deletionTimestamp: '2024-01-01T00:00:00Z' })), true);
});

test('controller: syncs at once, then every interval (±5 %); status is written only when it changes', async () => {
  const a = agent();
  a.git.commit([configMap('a', { x: '1' })]);
  await start(a);
  const cd = await a.read();
  assert.equal(cd?.status?.sync?.status, 'Synced');
  assert.deepEqual(cd?.metadata.finalizers, ['tidemark.dev/finalizer']);
  assert.ok(await a.home.get(CM, 'apps', 'a'));
  assert.equal(a.runs(), 1);

  const statusWrites = () => a.home.writes().filter((w) => w.op === 'patchStatus').length;
  const before = statusWrites();
  await a.clock.advance(0.94 * MINUTE);
  assert.equal(a.runs(), 1, 'not before 95 % of the interval');
  await a.clock.advance(0.12 * MINUTE);
  assert.equal(a.runs(), 2, 'by 105 %');
  assert.equal(statusWrites(), before, 'nothing changed: no status write');
  await a.controller.stop();
});

test('controller: a run waiting for its status write leaves its worker to the next deployment', async () => {
  // Two workers: one namespace may keep one of them, so without the hand-over the second waits.
  const a = agent();
  a.git.commit([configMap('a', { x: '1' })]);
  const gate = Promise.withResolvers<void>();
  const patchStatus = a.home.patchStatus.bind(a.home);
  let first = true;
  a.home.patchStatus = async (...args: Parameters<typeof patchStatus>) => {
    if (first) {
      first = false;
      await gate.promise;
    }
    return patchStatus(...args);
  };
  a.home.seed(continuousDeployment({ pullInterval: '1m', targetNamespace: 'other-apps' }, 'other') as unknown as KubeObject);
  await start(a);
  assert.equal(a.runs(), 2, 'the second deployment ran while the first waited for its status write');
  gate.resolve();
  await settle(30);
  assert.equal((await a.read())?.status?.sync?.status, 'Synced');
  await a.controller.stop();
});

test('controller: a terminal failure waits for the interval; a transient one backs off, capped by the interval', async () => {
  const a = agent();
  a.git.commit([configMap('bad', {})]);
  a.home.fail('dryRun', { name: 'bad' }, new KubeApiError(422, 'Invalid', 'nope'));
  await start(a);
  assert.equal(a.ready(await a.read())?.reason, 'ObjectInvalid');
  await a.clock.advance(0.9 * MINUTE);
  assert.equal(a.runs(), 1, 'terminal: no retry before the interval');
  await a.clock.advance(0.2 * MINUTE);
  assert.equal(a.runs(), 2);
  await a.controller.stop();

  const b = agent({ pullInterval: '5s' });
  b.git.commit([configMap('a', {})]);
  b.git.failResolve = transient('GitUnreachable', 'no route to host');
  await start(b);
  assert.equal(b.ready(await b.read())?.reason, 'GitUnreachable');
  await b.clock.advance(900);
  assert.equal(b.runs(), 2, 'first retry after ~750 ms');
  await b.clock.advance(1_700);
  assert.equal(b.runs(), 3, 'second after ~1.5 s');
  await b.clock.advance(30_000);
  // 3 s, then capped at the 5 s interval: about 6 more in 30 s, never fewer than 30/5.
  assert.ok(b.runs() >= 3 + 6 && b.runs() <= 3 + 8, `runs: ${b.runs()}`);
  b.git.failResolve = undefined;
  await b.clock.advance(5_000);
  assert.equal(b.ready(await b.read())?.status, 'True');
  await b.controller.stop();
});

test('controller: sync.status is Unknown while the source cannot be read (Git or its credentials); the revision stays', async () => {
  const a = agent({ pullInterval: '5s', secretRef: 'git-creds' });
  const sha = a.git.commit([configMap('a', {})]);
  await start(a);
  assert.equal((await a.read())?.status?.sync?.status, 'Synced');

  a.git.failResolve = transient('GitUnreachable', 'no route to host');
  await a.clock.advance(5_500);
  let status = (await a.read())?.status;
  assert.equal(a.ready(await a.read())?.reason, 'GitUnreachable');
  assert.equal(status?.sync?.status, 'Unknown', 'Git unreachable: nothing to compare with');
  assert.equal(status?.sync?.revision, `main@sha1:${sha}`, 'the last known revision is kept');
  assert.equal(status?.health?.status, 'Healthy', 'the last known health is kept');

  a.git.failResolve = undefined;
  await a.clock.advance(5_500);
  assert.equal((await a.read())?.status?.sync?.status, 'Synced');

  a.secrets.error = new TidemarkError('SecretNotFound', 'secret agent/git-creds not found', { kind: 'terminal' });
  await a.clock.advance(5_500);
  status = (await a.read())?.status;
  assert.equal(a.ready(await a.read())?.reason, 'SecretNotFound');
  assert.equal(status?.sync?.status, 'Unknown', 'credentials unreadable: the source cannot be read either');
  assert.equal(status?.sync?.revision, `main@sha1:${sha}`);
  await a.controller.stop();
});

test('controller: a spec change, a sync request and a managed object change each run at once', async () => {
  const a = agent({ syncPolicy: { manual: true } });
  a.git.commit([configMap('a', {})]);
  await start(a);
  assert.equal((await a.read())?.status?.sync?.status, 'OutOfSync');
  assert.equal(await a.home.get(CM, 'apps', 'a'), undefined, 'manual: nothing applied');

  await a.home.patchMetadata(CD, 'agent', 'web', { annotations: { 'tidemark.dev/requestedAt': '1' } });
  await settle(30);
  assert.equal(a.runs(), 2);
  const requested = await a.read();
  assert.equal(requested?.status?.sync?.status, 'Synced');
  assert.equal(requested?.status?.lastHandledRequestedAt, '1');

  const cd = (await a.read())!;
  await a.home.apply(CD, { ...cd, spec: { ...cd.spec, syncPolicy: { manual: false } } });
  await settle(30);
  assert.equal(a.runs(), 3, 'a new generation');

  const lookups = a.lookups();
  a.controller.onObjectChange((await a.home.get(CM, 'apps', 'a'))!);
  await settle(30);
  assert.equal(a.runs(), 4, 'self-heal trigger');
  assert.equal(a.lookups(), lookups, 'drift repair inside the interval asks Git nothing');
  await a.controller.stop();
});

test('controller: the copy of a managed object last seen in sync wakes nobody; an edit or a deletion of it does', async () => {
  const a = agent();
  a.git.commit([configMap('a', { x: '1' })]);
  await start(a);
  const applied = (await a.home.get(CM, 'apps', 'a'))!;
  const runs = a.runs();
  a.controller.onObjectChange(applied, undefined, 'upsert');
  await settle(30);
  assert.equal(a.runs(), runs, 'the echo of our own apply: no run');

  a.controller.onObjectChange(applied, undefined, 'delete');
  await settle(30);
  assert.equal(a.runs(), runs + 1, 'the same copy, gone');

  const edited = await a.home.apply(CM, { ...applied, data: { x: 'drifted' } });
  a.controller.onObjectChange(edited, undefined, 'upsert');
  await settle(30);
  assert.equal(a.runs(), runs + 2, 'another copy: self-heal');
  assert.equal(((await a.home.get(CM, 'apps', 'a'))?.data as Record<string, string> | undefined)?.x, '1', 'healed');
  await a.controller.stop();
});

test("controller: the credentials Secret read beside the run's GET counts only when the fresh copy names it", async () => {
  const a = agent({ secretRef: 'old' });
  a.git.commit([configMap('a', { x: '1' })]);
  // The spec changes between the watch event and the run's own read of it.
  const get = a.home.get.bind(a.home);
  let swapped = false;
  a.home.get = async (...args: Parameters<typeof get>) => {
    const found = await get(...args);
    if (!swapped && found?.kind === 'ContinuousDeployment') {
      swapped = true;
      return { ...found, metadata: { ...found.metadata, generation: 2 }, spec: { ...(found.spec as object), secretRef: 'new' } };
    }
    return found;
  };
  await start(a);
  assert.deepEqual(a.secrets.read, ['old', 'new'], 'the early read of the watched spec, then the fresh one');
  assert.deepEqual(a.auths[0], { username: 'new', password: 'p' }, "Git is asked with the fresh spec's Secret");

  a.secrets.read.length = 0;
  await a.clock.advance(1.1 * MINUTE);
  assert.equal(a.runs(), 2);
  assert.deepEqual(a.secrets.read, ['old'], 'unchanged spec: one read per run');
  await a.controller.stop();
});

test('controller: a suspended deployment reads no credentials Secret, not even beside its GET', async () => {
  const a = agent({ secretRef: 'git-creds', suspend: true });
  a.git.commit([configMap('a', { x: '1' })]);
  await start(a);
  assert.equal(a.runs(), 1);
  assert.equal(a.ready(await a.read())?.reason, 'Suspended');
  assert.deepEqual(a.secrets.read, []);
  await a.controller.stop();
});

test('controller: a managed object that changes during the run that first applies it still wakes its owner', async () => {
  const a = agent();
  a.git.commit([configMap('a', { x: '1' })]);
  // The Pod becoming ready while the first sync is still finishing: the object is applied, but
  // neither the status write nor the watched copy of the ContinuousDeployment names it yet.
  const patchStatus = a.home.patchStatus.bind(a.home);
  let changed = false;
  a.home.patchStatus = async (...args: Parameters<typeof patchStatus>) => {
    const applied = await a.home.get(CM, 'apps', 'a');
    if (!changed && applied) {
      changed = true;
      a.controller.onObjectChange(applied);
    }
    return patchStatus(...args);
  };
  await start(a);
  assert.ok(changed, 'the change came before the first status write');
  assert.equal(a.runs(), 2, 'the change woke the owner once its inventory named the object');
  await a.controller.stop();
});

test('controller: deleting the ContinuousDeployment deletes what it deployed, then releases the finalizer', async () => {
  const a = agent();
  a.git.commit([configMap('a', {})]);
  await start(a);
  await a.home.delete(CD, 'agent', 'web', 'background');
  await settle(30);
  assert.equal(await a.read(), undefined);
  assert.equal(await a.home.get(CM, 'apps', 'a'), undefined);
  await a.controller.stop();
});

test('bug: a remote deployment whose spec no longer parses keeps its finalizer and says how to get out', async () => {
  const a = agent({ kubeConfig: { secretRef: { name: 'remote', key: 'value' } } });
  a.git.commit([configMap('a', {})]);
  await start(a);
  assert.deepEqual((await a.read())?.status?.location, { cluster: 'remote', namespace: 'apps' });
  assert.ok(await a.remote.get(CM, 'apps', 'a'));

  const cd = (await a.read())!;
  await a.home.apply(CD, { ...cd, spec: { ...cd.spec, url: '' } });
  await settle(30);
  await a.home.delete(CD, 'agent', 'web', 'background');
  await settle(30);
  const stuck = await a.read();
  assert.deepEqual(stuck?.metadata.finalizers, ['tidemark.dev/finalizer'], 'the finalizer stays');
  assert.equal(a.ready(stuck)?.reason, 'DeletionFailed');
  assert.match(a.ready(stuck)?.message ?? '', /cluster remote.*fix the spec, or annotate tidemark\.dev\/deletion-policy: orphan/);
  assert.ok(a.events.some((e) => e.reason === 'DeletionFailed'));
  assert.ok(await a.remote.get(CM, 'apps', 'a'), 'nothing deleted, nothing lost track of');

  await a.home.patchMetadata(CD, 'agent', 'web', { annotations: { 'tidemark.dev/deletion-policy': 'orphan' } });
  await settle(30);
  assert.equal(await a.read(), undefined, 'orphan lets it go');
  assert.ok(await a.remote.get(CM, 'apps', 'a'), 'and keeps the objects');
  await a.controller.stop();
});

test('bug: a home deployment whose spec no longer parses is still cleaned up from the last deployed location', async () => {
  const a = agent();
  a.git.commit([configMap('a', {})]);
  await start(a);
  const cd = (await a.read())!;
  await a.home.apply(CD, { ...cd, spec: { ...cd.spec, url: '' } });
  await settle(30);
  await a.home.delete(CD, 'agent', 'web', 'background');
  await settle(30);
  assert.equal(await a.read(), undefined);
  assert.equal(await a.home.get(CM, 'apps', 'a'), undefined);
  await a.controller.stop();
});

/**
 * Issue 21 item 7: a Git server that never answers held a worker for as long as the spec's
 * timeout said, unbounded. Now the run's budget (spec.timeout, at most 1h) ends it.
 */
test('controller: Git that never answers ends at spec.timeout with a transient ReconcileTimeout', async () => {
  const a = agent({ timeout: '10s' });
  a.git.commit([configMap('a', { x: '1' })]);
  a.git.hang = true;
  await start(a);
  assert.equal(a.ready(await a.read())?.reason, undefined, 'still waiting for Git');
  await a.clock.advance(10_000);
  await settle(30);
  const ready = a.ready(await a.read());
  assert.equal(ready?.reason, 'ReconcileTimeout', ready?.message);
  assert.match(ready?.message ?? '', /spec\.timeout \(10s\)/);
  assert.equal(await a.home.get(CM, 'apps', 'a'), undefined, 'nothing applied');
  await a.controller.stop();
});

/*
 * Issue 14, the newest commit wins: a run waiting for health (here wave 1, a Deployment no
 * controller ever makes ready, before wave 2) ends when a newer spec, sync request or commit
 * comes, instead of waiting out its 10 minutes of spec.timeout; the next run starts at once.
 */
function stuckWave(spec: Partial<ContinuousDeploymentSpec> = {}) {
  const a = agent({ timeout: '10m', ...spec });
  const wave = (n: number) => ({ annotations: { 'argocd.argoproj.io/sync-wave': String(n) } });
  const api: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api', ...wave(1) }, spec: { replicas: 1 } };
  a.git.commit([api, configMap('after', {}, wave(2))]);
  return { a, fixed: () => a.git.commit([configMap('after', { fixed: 'yes' }, wave(2))]) };
}

/** Lets the fake time run (250 ms steps, two minutes at most) until `done`; the time it took. */
async function until(a: ReturnType<typeof agent>, done: () => Promise<boolean>): Promise<number> {
  const start = a.clock.now();
  while (!(await done()) && a.clock.now() - start < 2 * MINUTE) await a.clock.advance(250);
  return a.clock.now() - start;
}

async function waitingInWave1(a: ReturnType<typeof agent>): Promise<void> {
  await start(a);
  await a.clock.advance(5000);
  assert.ok(await a.home.get(Resources.Deployment, 'apps', 'api'), 'wave 1 applied');
  assert.equal(await a.home.get(CM, 'apps', 'after'), undefined, 'wave 2 waits');
  assert.equal(a.runs(), 1);
}

test('newest wins: a spec change ends the health wait of the run in progress; it reports Superseded and the next run starts', async () => {
  const { a } = stuckWave();
  await waitingInWave1(a);
  const cd = (await a.read())!;
  await a.home.apply(CD, { ...cd, spec: { ...cd.spec, timeout: '9m' } });
  const took = await until(a, async () => a.ready(await a.read())?.reason === 'Superseded');
  assert.ok(took < MINUTE, `superseded after ${took} ms, not at spec.timeout`);
  const ready = a.ready(await a.read());
  assert.equal(ready?.status, 'Unknown');
  assert.match(ready?.message ?? '', /^superseded by generation 2 of the spec while waiting for sync wave 1 to be healthy/);
  assert.ok(a.events.some((e) => e.type === 'Normal' && e.reason === 'Superseded' && /\(revision main@sha1:0+1\)$/.test(e.message)));
  assert.ok(!a.events.some((e) => e.reason === 'SyncWaveTimeout'));
  await until(a, () => Promise.resolve(a.runs() === 2));
  assert.equal(a.runs(), 2, 'the next run started at once');
  await a.controller.stop();
});

test('newest wins: a sync request ends the wait; the superseded run does not count as its answer', async () => {
  const { a } = stuckWave({ syncPolicy: { manual: true } });
  // Manual: only a requested sync writes, so the first run answers the request 'first'.
  a.cd.metadata.annotations = { 'tidemark.dev/requestedAt': 'first' };
  await waitingInWave1(a);
  await a.home.patchMetadata(CD, 'agent', 'web', { annotations: { 'tidemark.dev/requestedAt': 'second' } });
  const took = await until(a, async () => a.ready(await a.read())?.reason === 'Superseded');
  assert.ok(took < MINUTE, `superseded after ${took} ms`);
  assert.match(a.ready(await a.read())?.message ?? '', /^superseded by the sync request of second /);
  assert.equal((await a.read())?.status?.lastHandledRequestedAt, undefined, 'not answered by a run that stopped');
  await until(a, () => Promise.resolve(a.runs() === 2));
  assert.equal(a.runs(), 2);
  await a.controller.stop();
});

test('newest wins: a new commit, seen by the pull-interval look during the wait, ends it; the next run applies it', async () => {
  const { a, fixed } = stuckWave({ pullInterval: '1m' });
  await waitingInWave1(a);
  const commit = fixed();
  const took = await until(
    a,
    async () => ((await a.home.get(CM, 'apps', 'after'))?.data as Record<string, string> | undefined)?.['fixed'] === 'yes',
  );
  assert.ok(took <= 1.1 * MINUTE, `the new commit applied ${took} ms after it was pushed: at the next look, not at spec.timeout`);
  assert.ok(a.events.some((e) => e.reason === 'Superseded' && e.message.startsWith(`superseded by revision main@sha1:${commit} `)));
  assert.equal((await a.read())?.status?.lastAppliedRevision, `main@sha1:${commit}`);
  await a.controller.stop();
});

test('newest wins: a new commit announced by an image push ends the wait at once', async () => {
  const { a, fixed } = stuckWave({ pullInterval: '1h' });
  await waitingInWave1(a);
  const commit = fixed();
  a.controller.refresh('agent', 'web');
  const took = await until(
    a,
    async () => ((await a.home.get(CM, 'apps', 'after'))?.data as Record<string, string> | undefined)?.['fixed'] === 'yes',
  );
  assert.ok(took < 10_000, `applied ${took} ms after the push`);
  assert.equal((await a.read())?.status?.lastAppliedRevision, `main@sha1:${commit}`);
  await a.controller.stop();
});
