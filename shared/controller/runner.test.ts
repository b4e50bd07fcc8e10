import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Controller, type ControllerOptions, type ReconcileResult } from './runner.ts';
import { FakeKubePort } from '../kube/fake-port.ts';
import type { KubeObject } from '../kube/object.ts';
import { FakeClock, settle } from '../time/fake-clock.ts';
import { silentLogger } from '../log/index.ts';
import { transient } from '../errors/index.ts';
import { KubeApiError } from '../kube/errors.ts';
import { recordResourceInfo, registry } from '../metrics/index.ts';
import { parseTextFormat, type MetricFamily, type Sample } from '../metrics/text-format.ts';

const CM = { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };

function setup(
  reconcile: (obj: KubeObject) => ReconcileResult | Promise<ReconcileResult>,
  more: Pick<ControllerOptions<KubeObject>, 'owns'> = {},
) {
  const kube = new FakeKubePort();
  const clock = new FakeClock();
  const runs: Array<{ at: number; name: string }> = [];
  const forgotten: string[] = [];
  const controller = new Controller<KubeObject>({
    name: 'test',
    kube,
    resource: CM,
    namespace: 'apps',
    clock,
    log: silentLogger,
    workers: 2,
    reconcile: async (obj) => {
      runs.push({ at: clock.now(), name: obj.metadata.name });
      return reconcile(obj);
    },
    forget: (key) => forgotten.push(key),
    ...more,
  });
  return { kube, clock, runs, forgotten, controller, start: clock.now() };
}

const configMap = (name: string, annotations: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'apps', annotations },
  data: {},
});

test('runner: runs each listed object, then again at the requested interval (±5 %)', async () => {
  const t = setup(() => ({ requeueAfterMs: 60_000 }));
  await t.kube.apply(CM, configMap('a'));
  t.controller.start();
  await settle();
  assert.equal(t.controller.ready, true);
  assert.deepEqual(
    t.runs.map((r) => r.name),
    ['a'],
  );
  await t.clock.advance(56_000);
  assert.equal(t.runs.length, 1, 'not before 95 % of the interval');
  await t.clock.advance(8_000);
  assert.equal(t.runs.length, 2, 'by 105 % of the interval');
  await t.controller.stop();
});

test('runner: a retry backs off exponentially, capped by requeueAfterMs; success resets it', async () => {
  let fail = true;
  const t = setup(() => (fail ? { requeueAfterMs: 2_000, retry: true } : { requeueAfterMs: 60_000 }));
  await t.kube.apply(CM, configMap('a'));
  t.controller.start();
  await settle();
  await t.clock.advance(10_000);
  const gaps = t.runs.slice(1).map((r, i) => r.at - t.runs[i]!.at);
  // 750 ms ±10 %, 1.5 s ±10 %, then never more than the 2 s cap
  assert.ok(gaps[0]! >= 675 && gaps[0]! <= 825, `first retry after ${gaps[0]}`);
  assert.ok(gaps[1]! >= 1350 && gaps[1]! <= 1650, `second retry after ${gaps[1]}`);
  assert.ok(
    gaps.slice(2).every((g) => g <= 2_000),
    `capped: ${gaps.join(',')}`,
  );
  fail = false;
  const before = t.runs.length;
  await t.clock.advance(2_000);
  assert.equal(t.runs.length, before + 1);
  await t.clock.advance(50_000);
  assert.equal(t.runs.length, before + 1, 'back on the interval after a success');
  await t.controller.stop();
});

test('runner: a thrown error retries with backoff', async () => {
  let calls = 0;
  const t = setup(() => {
    calls++;
    if (calls === 1) throw new Error('boom');
    return {};
  });
  await t.kube.apply(CM, configMap('a'));
  t.controller.start();
  await settle();
  await t.clock.advance(1_000);
  assert.equal(t.runs.length, 2);
  await t.clock.advance(3_600_000);
  assert.equal(t.runs.length, 2, 'no schedule asked for: only changes run it again');
  await t.controller.stop();
});

test('runner: changes run at once by the changed predicate; a deleted object is forgotten', async () => {
  const t = setup(() => ({}));
  await t.kube.apply(CM, configMap('a'));
  t.controller.start();
  await settle();
  await t.kube.patchStatus(CM, 'apps', 'a', { seen: true });
  await settle();
  assert.equal(t.runs.length, 1, 'a status write is not a change');
  await t.kube.apply(CM, configMap('a', { poke: '1' }));
  await settle();
  assert.equal(t.runs.length, 2, 'an annotation change is');
  t.controller.trigger('apps', 'a');
  await settle();
  assert.equal(t.runs.length, 3, 'and so is a trigger');
  await t.kube.delete(CM, 'apps', 'a', 'background');
  await settle();
  assert.deepEqual(t.forgotten, ['apps/a']);
  assert.equal(t.controller.get('apps', 'a'), undefined);
  await t.controller.stop();
});

/**
 * Issue 21 item 16: an object deleted while its run was in flight left that run's per-key state
 * behind (its backoff, its next timer, the reconciler's own memory), one entry per name for ever.
 */
test('runner: an object deleted during its run leaves nothing behind', async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const t = setup(async () => {
    await gate;
    throw new Error('the Git server is slow');
  });
  await t.kube.apply(CM, configMap('gone'));
  t.controller.start();
  await settle();
  assert.equal(t.runs.length, 1);
  await t.kube.delete(CM, 'apps', 'gone', 'background');
  await settle();
  const forgottenDuringRun = t.forgotten.length;
  release();
  await settle();
  assert.ok(t.forgotten.length > forgottenDuringRun, 'forgotten again once the run ended');
  await t.clock.advance(3_600_000);
  assert.equal(t.runs.length, 1);
  await t.controller.stop();
});

test('runner: counts reconciles by kind, result and reason, shows its queue, and drops a deleted object’s info series', async () => {
  const PROBE = { ...CM, kind: 'RunnerProbe', plural: 'runnerprobes' };
  const kube = new FakeKubePort();
  const clock = new FakeClock();
  const release = Promise.withResolvers<void>();
  const controller = new Controller<KubeObject>({
    name: 'probe',
    kube,
    resource: PROBE,
    clock,
    log: silentLogger,
    workers: 1,
    reconcile: async (obj) => {
      if (obj.metadata.name === 'a-slow') await release.promise;
      if (obj.metadata.name === 'bad') throw transient('GitUnreachable', 'cannot reach git.example');
      return {};
    },
  });
  const object = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'RunnerProbe', metadata: { name, namespace: 'apps' } });
  // The list comes back in name order: `a-slow` takes the one worker, the other two wait for it.
  await kube.apply(PROBE, object('a-slow'));
  await kube.apply(PROBE, object('good'));
  await kube.apply(PROBE, object('bad'));
  recordResourceInfo({ kind: 'RunnerProbe', namespace: 'apps', name: 'good' }, {});
  controller.start();
  await settle();
  const waiting = series(await scrape(), 'tidemark_queue_depth', { kind: 'RunnerProbe' });
  release.resolve();
  await settle();
  await kube.delete(PROBE, 'apps', 'good', 'background');
  await settle();
  const after = await scrape();
  await controller.stop();
  assert.deepEqual(
    waiting.map((s) => s.value),
    [2],
    'one worker busy: two waiting',
  );
  assert.deepEqual(
    series(after, 'tidemark_reconcile_total', { kind: 'RunnerProbe' }).map((s) => [s.labels.result, s.labels.reason, s.value]),
    [
      ['success', 'none', 2],
      ['failure', 'GitUnreachable', 1],
    ],
  );
  assert.deepEqual(series(after, 'tidemark_resource_info', { kind: 'RunnerProbe' }), []);
});

async function scrape(): Promise<Map<string, MetricFamily>> {
  return parseTextFormat(await registry.metrics());
}

function series(families: Map<string, MetricFamily>, name: string, match: Record<string, string>): Sample[] {
  const samples = families.get(name)?.samples ?? [];
  return samples.filter((s) => Object.entries(match).every(([k, v]) => s.labels[k] === v));
}

test('runner: when the API server answers again, what failed meanwhile runs at once instead of at its grown backoff', async () => {
  let down = true;
  const t = setup((obj) => {
    if (down && obj.metadata.name === 'a') throw transient('APIServerUnreachable', 'connect ECONNREFUSED');
    return { requeueAfterMs: 3_600_000 };
  });
  await t.kube.apply(CM, configMap('a'));
  await t.kube.apply(CM, configMap('b'));
  t.controller.start();
  await settle();
  // Failures at 0, ~0.75, ~2.25, ~5.25, ~11.25 s: the next waits about 12 s more.
  await t.clock.advance(12_000);
  const failed = t.runs.filter((r) => r.name === 'a').length;
  assert.ok(failed >= 5, `${failed} failed runs`);
  t.kube.fail('list', { kind: 'ConfigMap' }, new KubeApiError(503, 'ServiceUnavailable', 'etcd down'), 1);
  t.kube.dropWatches(new Error('socket hang up'));
  down = false;
  // The relist backs off 0.75 s, fails, then 1.5 s (±10 %) and works, well before a's own retry (about 23 s).
  for (let i = 0; i < 6; i++) {
    await t.clock.advance(500);
    await settle();
  }
  assert.equal(t.runs.filter((r) => r.name === 'a').length, failed + 1, 'a ran again once the list worked');
  assert.equal(t.runs.filter((r) => r.name === 'b').length, 1, 'b, which never failed, waits for its interval');
  await t.controller.stop();
});

test('runner: under automatic sharding, only owned keys start; a drain aborts the moved runs and waits for them', async () => {
  const kube = new FakeKubePort();
  const clock = new FakeClock();
  let mine = new Set<string>();
  const runs: string[] = [];
  const aborted: string[] = [];
  let release = () => undefined as void;
  const controller = new Controller<KubeObject>({
    name: 'test',
    kube,
    resource: CM,
    namespace: 'apps',
    clock,
    log: silentLogger,
    workers: 4,
    owns: (key) => mine.has(key),
    reconcile: async (obj, signal) => {
      runs.push(obj.metadata.name);
      if (obj.metadata.name !== 'slow') return {};
      // A long sync that ends only when told, or when its key moves away.
      await new Promise<void>((resolve) => {
        release = resolve;
        signal.addEventListener('abort', () => {
          aborted.push(obj.metadata.name);
          setTimeout(resolve, 5);
        });
      });
      return {};
    },
  });
  for (const name of ['a', 'b', 'slow']) await kube.apply(CM, configMap(name));
  controller.start();
  await settle();
  assert.deepEqual(runs, [], 'nothing is ours until the view settles');
  assert.equal(controller.owned(), 0);

  mine = new Set(['apps/a', 'apps/slow']);
  controller.resume();
  await settle();
  assert.deepEqual(runs.sort(), ['a', 'slow']);
  assert.equal(controller.owned(), 2);

  // slow moves away: the drain ends only after its run has.
  mine = new Set(['apps/a']);
  let drained = false;
  const drain = controller.drain((key) => mine.has(key)).then(() => (drained = true));
  await settle();
  assert.deepEqual(aborted, ['slow']);
  await drain;
  assert.equal(drained, true);
  release();

  // A change to a key we do not own is watched but not run.
  runs.length = 0;
  await kube.apply(CM, configMap('b', { changed: 'yes' }));
  await settle();
  assert.deepEqual(runs, []);
  await controller.stop();
});

test('runner: dropManagedFields keeps watched copies without managedFields; by default they stay', async () => {
  const kube = new FakeKubePort();
  const clock = new FakeClock();
  const managed = {
    ...configMap('a'),
    metadata: { ...configMap('a').metadata, managedFields: [{ manager: 'kubectl', operation: 'Apply' }] },
  };
  await kube.apply(CM, managed);
  const controllers = [true, false].map(
    (drop) =>
      new Controller<KubeObject>({
        name: `drop-${drop}`,
        kube,
        resource: CM,
        namespace: 'apps',
        clock,
        log: silentLogger,
        workers: 1,
        reconcile: () => Promise.resolve({}),
        dropManagedFields: drop,
      }),
  );
  for (const controller of controllers) controller.start();
  await settle();
  assert.equal(controllers[0]?.get('apps', 'a')?.metadata.managedFields, undefined);
  assert.deepEqual(controllers[1]?.get('apps', 'a')?.metadata.managedFields, [{ manager: 'kubectl', operation: 'Apply' }]);
  for (const controller of controllers) await controller.stop();
});

/**
 * A view change used to queue every owned key again on resume: each replica joining or leaving
 * ran the whole fleet once more. Only what the change touched may run.
 */
test('runner: resume runs only the keys just gained and those skipped while unsettled, not those kept all along', async () => {
  // What membership grants: nothing while the view is unsettled, `mine` once it has settled.
  let settled = false;
  let mine = new Set<string>();
  const {
    kube,
    clock,
    controller,
    runs: all,
  } = setup(() => ({ requeueAfterMs: 600_000 }), {
    owns: (key) => settled && mine.has(key),
  });
  const runs = () => all.splice(0).map((r) => r.name);
  for (const name of ['kept', 'poked', 'moved', 'gained']) await kube.apply(CM, configMap(name));
  controller.start();
  await settle();
  mine = new Set(['apps/kept', 'apps/poked', 'apps/moved']);
  settled = true;
  controller.resume();
  await settle();
  assert.deepEqual(runs().sort(), ['kept', 'moved', 'poked'], 'the first view runs every owned key');

  // A new view: `moved` goes, `gained` comes; `poked` changes while the view is unsettled.
  settled = false;
  mine = new Set(['apps/kept', 'apps/poked', 'apps/gained']);
  await controller.drain((key) => mine.has(key));
  await kube.apply(CM, configMap('poked', { changed: 'yes' }));
  await settle();
  assert.deepEqual(runs(), [], 'nothing starts while the view is unsettled');
  settled = true;
  controller.resume();
  await settle();
  assert.deepEqual(runs().sort(), ['gained', 'poked']);

  // `kept` kept its schedule through the change.
  await clock.advance(640_000);
  const later = runs();
  assert.ok(later.includes('kept'), `kept ran on its interval: ${later.join(',')}`);
  assert.ok(!later.includes('moved'), 'a moved key’s timer was dropped by the drain');
  await controller.stop();
});
