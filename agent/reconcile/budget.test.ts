import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../shared/kube/object.ts';
import type { Park } from '../../shared/controller/work-queue.ts';
import { isTidemarkError } from '../../shared/errors/index.ts';
import { reconcile, runBudget } from './index.ts';
import { configMap, names, world } from './test-kit.ts';

const HOUR = 3_600_000;

function deployment(name: string): KubeObject {
  // No status ever comes (no controller in the fake cluster): Progressing for ever.
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name }, spec: { replicas: 1 } };
}

/** A park that counts its waits; the queue's real one is tested in shared/controller. */
function countingPark(): { park: Park; parked: () => number } {
  let parked = 0;
  return {
    park: (wait) => {
      parked++;
      return wait();
    },
    parked: () => parked,
  };
}

/**
 * Issue 21 item 7: `spec.timeout` was each wait's own deadline, so Git, the CRD wait and the
 * health wait could each take all of it. Now a run's waits end at one deadline, spec.timeout from
 * its start, and they sleep parked (without a worker).
 */
test('pruneLast waits for health until spec.timeout from the start of the run, parked, then prunes', async () => {
  const w = world({ timeout: '1h', prune: true, syncPolicy: { pruneLast: true } });
  w.git.commit([deployment('api'), configMap('stale', { v: '1' })]);
  w.record(await reconcile(w.input(), w.deps));
  assert.ok(w.kube.peek('v1', 'ConfigMap', 'apps', 'stale'));

  w.git.commit([deployment('api')]);
  const start = w.clock.now();
  // Git takes 40 minutes of the hour: the health wait gets the 20 that are left.
  const slowGit = {
    resolve: () => w.clock.sleep(40 * 60_000).then(() => w.git.resolve()),
    checkout: () => w.git.checkout(),
  };
  const budget = runBudget(w.clock, w.input().config.timeoutMs, new AbortController().signal);
  const { park, parked } = countingPark();
  let done = false;
  const run = reconcile(w.input(), { ...w.deps, source: slowGit, deadline: budget.deadline, park }).finally(() => {
    done = true;
    budget.end();
  });
  while (!done && w.clock.now() - start < 3 * HOUR) await w.clock.advance(1000);
  const outcome = await run;
  const took = w.clock.now() - start;
  assert.ok(took >= HOUR && took <= HOUR + 3000, `the run ended ${took} ms after it started, at spec.timeout`);
  assert.ok(parked() > 5, `the health wait slept parked (${parked()} waits)`);
  assert.equal(outcome.error, undefined);
  assert.deepEqual(names(outcome.changes, 'deleted'), ['stale'], 'pruned after the wait gave up');
  assert.deepEqual(w.clock.pending(), [], 'no timer is left behind');
});

test('the budget aborts Git with a transient ReconcileTimeout when spec.timeout has passed, and leaves no timer once ended', async () => {
  const w = world({ timeout: '10s' });
  const stop = new AbortController();
  const budget = runBudget(w.clock, 10_000, stop.signal);
  assert.equal(budget.deadline, w.clock.now() + 10_000);
  await w.clock.advance(9_999);
  assert.equal(budget.signal.aborted, false);
  await w.clock.advance(1);
  assert.equal(budget.signal.aborted, true);
  const reason: unknown = budget.signal.reason;
  assert.ok(isTidemarkError(reason));
  assert.equal(reason.code, 'ReconcileTimeout');
  assert.equal(reason.kind, 'transient');
  assert.match(reason.message, /longer than spec\.timeout \(10s\)/);

  const early = runBudget(w.clock, 10_000, stop.signal);
  early.end();
  await w.clock.advance(0);
  assert.deepEqual(w.clock.pending(), []);
  stop.abort(new Error('stopping'));
  assert.equal(early.signal.aborted, true, 'the caller stopping still aborts');
});
