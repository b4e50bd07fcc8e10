import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseDuration } from './duration.ts';
import { backoffDelay, jittered, retry } from './backoff.ts';
import type { Clock } from './clock.ts';
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
