import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock, settle } from '../time/fake-clock.ts';
import { TokenBucket } from './rate-limit.ts';

/** Starts `count` takes in order and records when each one is let through, on the fake clock. */
async function takeMany(bucket: TokenBucket, clock: FakeClock, count: number): Promise<number[]> {
  const start = clock.now();
  const passed: number[] = [];
  for (let i = 0; i < count; i++) void bucket.take().then(() => passed.push(clock.now() - start));
  await settle();
  return passed;
}

describe('TokenBucket', () => {
  it('lets a burst through at once, then one request per 1/qps seconds, in arrival order', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ qps: 10, burst: 3 }, clock);
    const passed = await takeMany(bucket, clock, 6);
    assert.deepEqual(passed, [0, 0, 0]);
    await clock.advance(100);
    assert.deepEqual(passed, [0, 0, 0, 100]);
    await clock.advance(200);
    assert.deepEqual(passed, [0, 0, 0, 100, 200, 300]);
  });

  it('refills while idle, never beyond the burst', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ qps: 10, burst: 2 }, clock);
    await takeMany(bucket, clock, 2);
    await clock.advance(60_000);
    const passed = await takeMany(bucket, clock, 3);
    assert.deepEqual(passed, [0, 0]);
    await clock.advance(100);
    assert.equal(passed.length, 3);
  });

  it('does not limit with qps 0', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ qps: 0, burst: 1 }, clock);
    assert.equal(bucket.unlimited, true);
    const passed = await takeMany(bucket, clock, 100);
    assert.equal(passed.length, 100);
  });

  it('gives up waiting when the signal aborts', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ qps: 1, burst: 1 }, clock);
    await bucket.take();
    const abort = new AbortController();
    const waiting = bucket.take(abort.signal);
    abort.abort(new Error('stopped'));
    await assert.rejects(waiting, /stopped/);
  });
});
