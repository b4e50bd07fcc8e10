import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeApiError } from '../kube/errors.ts';
import type { KubePort } from '../kube/port.ts';
import type { Logger } from '../log/index.ts';
import { FakeClock, settle } from '../time/fake-clock.ts';
import { listAndWatch } from './watch.ts';

const AUTOMATIONS = {
  group: 'tidemark.dev',
  version: 'v1alpha1',
  kind: 'ImageUpdateAutomation',
  plural: 'imageupdateautomations',
  namespaced: true,
};

function recordingLogger(lines: Array<{ level: string; message: string }>): Logger {
  const log = (level: string) => (_fields: Record<string, unknown>, message: string) => void lines.push({ level, message });
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: () => logger };
  return logger;
}

test('a kind not served (no CRD) is said once at info, then watched for quietly; other errors warn each time', async () => {
  const clock = new FakeClock();
  const lines: Array<{ level: string; message: string }> = [];
  let failure: Error = new KubeApiError(404, 'NotFound', 'the server could not find the requested resource');
  let lists = 0;
  const port: Pick<KubePort, 'list' | 'watch'> = {
    list: () => {
      lists++;
      return Promise.reject(failure);
    },
    watch: () => Promise.resolve(),
  };
  const abort = new AbortController();
  const done = listAndWatch(
    port,
    AUTOMATIONS,
    { onList: () => undefined, onUpsert: () => undefined, onDelete: () => undefined },
    {
      signal: abort.signal,
      clock,
      log: recordingLogger(lines),
    },
  );
  await settle();
  for (let i = 0; i < 4; i++) await clock.advance(10 * 60_000);
  assert.ok(lists >= 4, `listed ${lists} times`);
  assert.deepEqual(lines, [{ level: 'info', message: 'kind not served; watching for it to appear' }]);

  failure = new KubeApiError(503, 'ServiceUnavailable', 'try later');
  // The backoff has reached its cap (30 s, ±10 % jitter): four minutes see several retries.
  for (let i = 0; i < 8; i++) await clock.advance(30_000);
  assert.ok(lines.filter((l) => l.level === 'warn').length >= 2, 'a real failure warns every time');
  abort.abort();
  await clock.advance(10 * 60_000);
  await done;
});

test('a watch answered 410 Gone (Expired) relists after the first backoff step each time, quietly, the cache still answering', async () => {
  const clock = new FakeClock();
  const lines: Array<{ level: string; message: string }> = [];
  const errors: unknown[] = [];
  let lists = 0;
  let watches = 0;
  const abort = new AbortController();
  const port: Pick<KubePort, 'list' | 'watch'> = {
    list: () => {
      lists++;
      return Promise.resolve({ items: [], resourceVersion: String(lists) });
    },
    // Expired five times in a row (etcd compacted past each list), then a watch that stays open.
    watch: (_resource, _opts, _onEvent, signal) => {
      watches++;
      if (watches <= 5) return Promise.reject(new KubeApiError(410, 'Expired', 'too old resource version: 1 (2)'));
      return new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
    },
  };
  const done = listAndWatch(
    port,
    AUTOMATIONS,
    { onList: () => undefined, onUpsert: () => undefined, onDelete: () => undefined },
    { signal: abort.signal, clock, log: recordingLogger(lines), onError: (err) => void errors.push(err) },
  );
  await settle();
  // The first step is 750 ms ± 10 %: a second per expiry is enough only if the delay does not grow.
  for (let i = 0; i < 5; i++) await clock.advance(1000);
  assert.equal(lists, 6, 'one list, then one after each of the five expirations');
  assert.equal(watches, 6);
  assert.deepEqual(
    lines.filter((l) => l.level === 'warn'),
    [],
    'an expired watch is routine, not a warning',
  );
  assert.deepEqual(errors, [], 'the cache keeps answering across an expiry');
  abort.abort();
  await done;
});

test('during a long outage the list is tried again at least every 33 s, and recovery is announced once', async () => {
  const clock = new FakeClock();
  let lists = 0;
  let down = true;
  let recovered = 0;
  const port: Pick<KubePort, 'list' | 'watch'> = {
    list: () => {
      lists++;
      return down ? Promise.reject(new Error('connect ECONNREFUSED')) : Promise.resolve({ items: [], resourceVersion: '1' });
    },
    watch: (_resource, _options, _onEvent, signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve())),
  };
  const abort = new AbortController();
  const done = listAndWatch(
    port,
    AUTOMATIONS,
    { onList: () => undefined, onUpsert: () => undefined, onDelete: () => undefined, onRecovered: () => recovered++ },
    { signal: abort.signal, clock, log: recordingLogger([]) },
  );
  await settle();
  // An hour down: with a reconcile's backoff (doubling to 15 min) about 12 tries; capped at 30 s, over 100.
  for (let i = 0; i < 60; i++) await clock.advance(60_000);
  assert.ok(lists > 100, `listed ${lists} times in an hour`);
  down = false;
  const before = lists;
  await clock.advance(33_000);
  await settle();
  assert.equal(lists, before + 1, 'back within one capped step');
  assert.equal(recovered, 1);
  abort.abort();
  await settle();
  await done;
});
