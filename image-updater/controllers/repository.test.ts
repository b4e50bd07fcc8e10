import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { API_VERSION } from '../../shared/api/constants.ts';
import type { ImageRepositoryStatus } from '../../shared/api/image.ts';
import { Resources } from '../../shared/api/resources.ts';
import type { Condition } from '../../shared/conditions/index.ts';
import { EventRecorder } from '../../shared/kube/events.ts';
import { FakeKubePort } from '../../shared/kube/fake-port.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import type { KubeRest } from '../../shared/kube/rest.ts';
import { silentLogger } from '../../shared/log/index.ts';
import type { Clock } from '../../shared/time/clock.ts';
import { RegistryClient } from '../../shared/registry/index.ts';
import { json, localServer } from '../../shared/registry/fixtures/local-server.ts';
import { createAccessResolver } from './registry-access.ts';
import { ImageRepositoryController } from './repository.ts';
import type { RepositoryObject } from './object-types.ts';
import { MemoryTagStore } from './tag-store.ts';

/** A clock whose sleeps wait until the test lets them go, so the test can look at status mid-wait. */
function heldClock() {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const waiting: Array<{ ms: number; release: () => void }> = [];
  const clock: Clock = {
    now: () => now,
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        waiting.push({
          ms,
          release: () => {
            now += ms;
            resolve();
          },
        });
      }),
  };
  return { clock, waiting };
}

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('the repository controller while a scan waits out a Retry-After', () => {
  const closers: Array<() => Promise<void>> = [];
  after(async () => {
    for (const close of closers) await close();
  });

  it('says RegistryRateLimited with the wait, keeps the last scan result, and is Ready after the wait', { timeout: 20_000 }, async () => {
    let throttled = true;
    const server = await localServer((_req, res) => {
      if (throttled) json(res, 429, { errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] }, { 'retry-after': '30' });
      else json(res, 200, { name: 'team/app', tags: ['1.0.0', '1.1.0'] });
    });
    closers.push(() => server.close());
    const { clock, waiting } = heldClock();
    const registry = new RegistryClient({ clock, backoff: { initialMs: 500, maxMs: 60_000, factor: 2, jitter: 0 } });
    closers.push(() => registry.close());
    const port = new FakeKubePort([Resources.ImageRepository]);
    const rest = { request: () => Promise.resolve({}) } as unknown as KubeRest;
    const controller = new ImageRepositoryController({
      port,
      clock,
      log: silentLogger,
      workers: 1,
      registry,
      access: createAccessResolver(rest),
      store: new MemoryTagStore(),
      events: new EventRecorder(rest, { component: 'test', clock, log: silentLogger }),
      onScanned: () => undefined,
    });
    const lastScanResult = { tagCount: 1, scanTime: '2025-12-31T00:00:00Z', latestTags: ['0.9.0'] };
    const obj: KubeObject = port.seed({
      apiVersion: API_VERSION,
      kind: 'ImageRepository',
      metadata: { name: 'app', namespace: 'apps', uid: 'u1', generation: 2 },
      spec: { image: `${server.host}/team/app`, insecure: true, interval: '1h' },
      status: { observedGeneration: 1, lastScanResult },
    });
    const statusOf = () => port.peek(API_VERSION, 'ImageRepository', 'apps', 'app')?.status as ImageRepositoryStatus | undefined;
    const condition = (type: string): Condition | undefined => statusOf()?.conditions?.find((c) => c.type === type);

    const stop = new AbortController();
    closers.unshift(() => {
      // A failed assertion must not leave the scan asleep for ever.
      stop.abort();
      for (const w of waiting) w.release();
      return Promise.resolve();
    });
    const reconciled = controller.reconcile(obj as RepositoryObject, stop.signal);
    await until('the scan sleeps', () => waiting.length === 1);
    assert.equal(waiting[0]?.ms, 30_000, 'the wait is the Retry-After');
    const expected = `waiting 30s before attempt 2 of 4 (as the registry's Retry-After asks): GET /v2/team/app/tags/list`;
    for (const type of ['Reconciling', 'Ready']) {
      const c = condition(type);
      assert.equal(c?.reason, 'RegistryRateLimited', `${type} names the throttling`);
      assert.ok(c?.message.startsWith(expected), `${type} message: ${c?.message}`);
      assert.match(c?.message ?? '', /answered 429 \(TOOMANYREQUESTS: slow down\)/);
    }
    assert.equal(condition('Reconciling')?.status, 'True');
    assert.equal(condition('Ready')?.status, 'Unknown');
    assert.deepEqual(statusOf()?.lastScanResult, lastScanResult, 'the last good scan stays while waiting');

    throttled = false;
    waiting[0]?.release();
    await reconciled;
    assert.equal(condition('Ready')?.status, 'True');
    assert.equal(condition('Ready')?.message, 'successful scan: found 2 tags');
    assert.equal(condition('Reconciling'), undefined);
    assert.equal(statusOf()?.lastScanResult?.tagCount, 2);
  });
});
