import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseDuration } from './duration.ts';
import { backoffDelay, jittered, retry } from './backoff.ts';
import { systemClock, type Clock } from './clock.ts';
import { MAX_TIMER_MS, timeoutSignal, timerDelay } from './timer.ts';
import { cachedZones, MAX_CACHED_ZONES, zone } from './zone.ts';
import { terminal, transient } from '../errors/index.ts';

test('Go durations parse to milliseconds', () => {
  assert.equal(parseDuration('5m'), 300_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('0'), 0);
  for (const bad of ['', '5', 'm', '-5m', '5 m', '1d', '1h-5m']) {
    assert.throws(
      () => parseDuration(bad),
      (err: Error & { code?: string }) => err.code === 'InvalidDuration',
      bad,
    );
  }
  assert.equal(formatDuration(5_400_000), '1h30m');
  assert.equal(formatDuration(250), '250ms');
});

test('backoff doubles from the initial delay and stops at the cap, within the jitter', () => {
  const policy = { initialMs: 1000, maxMs: 8000, factor: 2, jitter: 0.1 };
  assert.equal(
    backoffDelay(policy, 0, () => 0.5),
    1000,
  );
  assert.equal(
    backoffDelay(policy, 2, () => 0.5),
    4000,
  );
  assert.equal(
    backoffDelay(policy, 10, () => 0.5),
    8000,
  );
  assert.equal(
    backoffDelay(policy, 0, () => 0),
    900,
  );
  assert.equal(
    backoffDelay(policy, 0, () => 1),
    1100,
  );
  assert.equal(
    jittered(1000, 0.05, () => 0),
    950,
  );
});

function fakeClock(): Clock & { slept: number[] } {
  const slept: number[] = [];
  let now = 0;
  return {
    slept,
    now: () => now,
    sleep: (ms) => {
      slept.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
}

test('retry: transient errors retry, honouring Retry-After; terminal ones stop at once', async () => {
  const clock = fakeClock();
  let calls = 0;
  const result = await retry(
    () => {
      calls++;
      if (calls === 1) return Promise.reject(transient('TooManyRequests', 'slow down', undefined, 5000));
      if (calls === 2) return Promise.reject(transient('APIServerError', 'again'));
      return Promise.resolve('ok');
    },
    { policy: { initialMs: 100, maxMs: 10_000, factor: 2, jitter: 0 }, attempts: 5, clock },
  );
  assert.equal(result, 'ok');
  assert.deepEqual(clock.slept, [5000, 200]);

  let terminalCalls = 0;
  await assert.rejects(
    retry(
      () => {
        terminalCalls++;
        return Promise.reject(terminal('Forbidden', 'no'));
      },
      { policy: { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0 }, attempts: 5, clock },
    ),
    { code: 'Forbidden' },
  );
  assert.equal(terminalCalls, 1);
});

test('retry: each wait is told before it starts — the error, the delay, whether it is the Retry-After', async () => {
  const clock = fakeClock();
  const waits: Array<{ code: string; delayMs: number; nextAttempt: number; retryAfter: boolean; slept: number }> = [];
  let calls = 0;
  await retry(
    () => {
      calls++;
      if (calls === 1) return Promise.reject(transient('TooManyRequests', 'slow down', undefined, 5000));
      if (calls === 2) return Promise.reject(transient('APIServerError', 'again'));
      return Promise.resolve('ok');
    },
    {
      policy: { initialMs: 100, maxMs: 10_000, factor: 2, jitter: 0 },
      attempts: 5,
      clock,
      onRetry: (w) => {
        waits.push({
          code: w.error.code,
          delayMs: w.delayMs,
          nextAttempt: w.nextAttempt,
          retryAfter: w.retryAfter,
          slept: clock.slept.length,
        });
      },
    },
  );
  // Told before the sleep (nothing slept yet at the first call), with the delay then slept.
  assert.deepEqual(waits, [
    { code: 'TooManyRequests', delayMs: 5000, nextAttempt: 2, retryAfter: true, slept: 0 },
    { code: 'APIServerError', delayMs: 200, nextAttempt: 3, retryAfter: false, slept: 1 },
  ]);
  assert.deepEqual(clock.slept, [5000, 200]);
});

test('timer delays are held to what a Node timer can hold', () => {
  assert.equal(MAX_TIMER_MS, 2_147_483_647);
  assert.equal(timerDelay(1000 * 3_600_000), MAX_TIMER_MS);
  assert.equal(timerDelay(Infinity), MAX_TIMER_MS);
  assert.equal(timerDelay(Number.NaN), MAX_TIMER_MS);
  assert.equal(timerDelay(-5), 0);
  assert.equal(timerDelay(1500), 1500);
  assert.equal(timerDelay(MAX_TIMER_MS), MAX_TIMER_MS);
});

/** Issue 21 item 8: a sleep longer than a timer holds is slept in turns, each one a timer can hold. */
test('the system clock sleeps a delay over 2^31-1 ms in turns, never as one overflowing timer', async (t) => {
  const delays: number[] = [];
  const immediate = (fn: () => void, ms: number) => {
    delays.push(ms);
    setImmediate(fn);
    return { ref: () => undefined, unref: () => undefined } as unknown as NodeJS.Timeout;
  };
  t.mock.method(globalThis, 'setTimeout', immediate as unknown as typeof setTimeout);
  const long = 1000 * 3_600_000;
  await systemClock.sleep(long);
  t.mock.restoreAll();
  assert.ok(delays.length >= 2, `${delays.length} timers`);
  assert.ok(
    delays.every((ms) => ms > 0 && ms <= MAX_TIMER_MS),
    delays.join(', '),
  );
  assert.equal(
    delays.reduce((a, b) => a + b, 0),
    long,
  );
});

/** Issue 21 item 16: Intl takes a zone name in any case, so names alone do not bound a cache of them. */
test('the zone formatter cache stays bounded under endless spellings of one zone', () => {
  const name = 'europe/berlin';
  for (let i = 0; i < 1024; i++) {
    const spelled = [...name].map((c, bit) => ((i >> bit) & 1 ? c.toUpperCase() : c)).join('');
    assert.equal(zone(spelled).offsetAt(Date.UTC(2026, 0, 1)), 3_600_000);
  }
  assert.ok(cachedZones() <= MAX_CACHED_ZONES, `${cachedZones()} formatters kept`);
  assert.equal(zone('Europe/Berlin').offsetAt(Date.UTC(2026, 6, 1)), 7_200_000);
});

test('timeoutSignal does not fire early for a delay a timer cannot hold (AbortSignal.timeout would, after 1 ms)', async () => {
  const signal = timeoutSignal(1000 * 3_600_000);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(signal.aborted, false);
});
