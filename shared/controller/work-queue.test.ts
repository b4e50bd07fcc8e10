import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../time/fake-clock.ts';
import { MAX_TIMER_MS } from '../time/timer.ts';
import { WorkQueue } from './work-queue.ts';

test('one key never runs twice at once; an add during a run runs it once more after', async () => {
  let running = 0;
  let maxRunning = 0;
  let runs = 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const queue = new WorkQueue(4, async () => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    runs++;
    if (runs === 1) await gate;
    running--;
  });
  queue.add('a');
  queue.add('a'); // already queued or running: coalesced
  await new Promise((r) => setImmediate(r));
  queue.add('a'); // while running: marked dirty
  queue.add('a');
  release();
  await queue.idle();
  await new Promise((r) => setImmediate(r));
  await queue.idle();
  assert.equal(maxRunning, 1);
  assert.equal(runs, 2);
  await queue.stop();
});

test('concurrency bounds how many keys run together', async () => {
  let running = 0;
  let maxRunning = 0;
  const queue = new WorkQueue(2, async () => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    await new Promise((r) => setTimeout(r, 5));
    running--;
  });
  for (const key of ['a', 'b', 'c', 'd', 'e']) queue.add(key);
  await queue.idle();
  assert.equal(maxRunning, 2);
  await queue.stop();
});

test('forget drops a delayed key; addAfter keeps the earliest time', async () => {
  const seen: string[] = [];
  const queue = new WorkQueue(1, (key) => {
    seen.push(key);
    return Promise.resolve();
  });
  queue.addAfter('gone', 5);
  queue.forget('gone');
  queue.addAfter('soon', 10_000);
  queue.addAfter('soon', 1);
  await new Promise((r) => setTimeout(r, 30));
  await queue.idle();
  assert.deepEqual(seen, ['soon']);
  await queue.stop();
});

/**
 * Issue 21 item 8: `pullInterval: 1000h` became a setTimeout over 2^31-1 ms, which Node fires
 * after 1 ms: 892 reconciles a second. The queue holds every delay to what a timer can hold.
 */
test('a delay longer than a timer can hold waits MAX_TIMER_MS, never a 1 ms loop', async () => {
  const clock = new FakeClock();
  const start = clock.now();
  const runs: string[] = [];
  const queue = new WorkQueue(
    1,
    (key) => {
      runs.push(key);
      return Promise.resolve();
    },
    clock,
  );
  queue.addAfter('long', 1000 * 3_600_000);
  queue.addAfter('nan', Number.NaN);
  queue.addAfter('forever', Infinity);
  assert.equal(queue.dueAt('long'), start + MAX_TIMER_MS);
  assert.equal(queue.dueAt('nan'), start + MAX_TIMER_MS);
  assert.equal(queue.dueAt('forever'), start + MAX_TIMER_MS);
  assert.deepEqual(clock.pending(), [start + MAX_TIMER_MS, start + MAX_TIMER_MS, start + MAX_TIMER_MS]);
  await clock.advance(60 * 60_000);
  assert.deepEqual(runs, [], 'nothing runs within the first hour');
  await clock.advance(MAX_TIMER_MS);
  await queue.idle();
  assert.deepEqual(runs.sort(), ['forever', 'long', 'nan']);
  await queue.stop();
});

/**
 * Issue 21 item 7: four deployments that wait (for health, for a CRD) filled the agent's four
 * workers. A run that parks its wait gives its worker to other keys, and takes one back first.
 */
test('a parked run does not hold a worker; other keys run meanwhile, and the parked key still never runs twice', async () => {
  const clock = new FakeClock();
  const started: string[] = [];
  let working = 0;
  let mostWorking = 0;
  const queue = new WorkQueue(
    1,
    async (key, park) => {
      started.push(key);
      working++;
      mostWorking = Math.max(mostWorking, working);
      if (key.startsWith('slow')) {
        working--;
        await park(() => clock.sleep(3_600_000));
        working++;
        mostWorking = Math.max(mostWorking, working);
      }
      working--;
    },
    clock,
  );
  queue.add('slow-1');
  queue.add('slow-2');
  queue.add('fast');
  await clock.advance(0);
  assert.deepEqual(started, ['slow-1', 'slow-2', 'fast'], 'both waits parked; the fast key ran with the one worker');
  assert.equal(queue.running, 2, 'the two parked runs are still in progress');
  queue.add('slow-1'); // while parked: runs again after, not beside
  await clock.advance(0);
  assert.deepEqual(started, ['slow-1', 'slow-2', 'fast']);
  await clock.advance(3_600_000);
  assert.deepEqual(started, ['slow-1', 'slow-2', 'fast', 'slow-1'], 'slow-1 ran again once its first run ended');
  assert.equal(queue.running, 1);
  await clock.advance(3_600_000);
  await queue.idle();
  assert.equal(mostWorking, 1, 'never more working runs than workers');
  assert.equal(queue.running, 0);
  await queue.stop();
});

test('stop waits for parked runs too', async () => {
  const clock = new FakeClock();
  const stop = new AbortController();
  let finished = false;
  const queue = new WorkQueue(
    1,
    async (_key, park) => {
      await park(() => clock.sleep(3_600_000, stop.signal)).catch(() => undefined);
      finished = true;
    },
    clock,
  );
  queue.add('a');
  await clock.advance(0);
  const stopped = queue.stop();
  stop.abort(new Error('stopping'));
  await stopped;
  assert.equal(finished, true);
});

/**
 * Issue 21 item 7: a tenant controls one namespace. With a share per namespace below the worker
 * count, its slow objects (a Git server that never answers) cannot take every worker.
 */
test('one group never takes every worker: the last one serves the other groups', async () => {
  const clock = new FakeClock();
  const started: string[] = [];
  const queue = new WorkQueue(
    4,
    async (key) => {
      started.push(key);
      if (key.startsWith('tenant/')) await clock.sleep(3_600_000);
    },
    clock,
    { groupOf: (key) => key.slice(0, key.indexOf('/')), perGroup: 3 },
  );
  for (let i = 0; i < 10; i++) queue.add(`tenant/slow-${i}`);
  queue.add('team-a/app');
  queue.add('team-b/app');
  await clock.advance(0);
  assert.deepEqual(started, ['tenant/slow-0', 'tenant/slow-1', 'tenant/slow-2', 'team-a/app', 'team-b/app']);
  await clock.advance(3_600_000);
  assert.equal(started.filter((k) => k.startsWith('tenant/')).length, 6, 'the tenant goes on three at a time');
  const stopped = queue.stop();
  await clock.advance(3_600_000);
  await stopped;
});
