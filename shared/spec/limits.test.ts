import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  inlineToImageObjects,
  plainCompilers,
  validateContinuousDeploymentSpec,
  validateImageRepositorySpec,
  validateImageUpdateAutomationSpec,
  type Validated,
} from './index.ts';
import { MAX_INTERVAL_MS, MAX_SCAN_TIMEOUT_MS, MAX_TIMEOUT_MS } from './limits.ts';

type Read = (value: string) => Validated<unknown>;

/** Every interval a tenant writes, with the field path its problem names. */
const INTERVALS: [string, Read][] = [
  ['spec.pullInterval', (v) => validateContinuousDeploymentSpec({ url: 'file:///r', pullInterval: v })],
  ['spec.interval', (v) => validateImageRepositorySpec({ image: 'ghcr.io/org/app', interval: v }, plainCompilers)],
  ['spec.interval', (v) => validateImageUpdateAutomationSpec({ sourceRef: { name: 'app' }, interval: v })],
];

const messages = (read: Validated<unknown>) => (read.ok ? [] : read.errors.map((e) => `${e.code} ${e.message}`));

/**
 * Issue 21 item 8: `pullInterval: 1000h` overflowed setTimeout into a 1 ms loop (892 reconciles a
 * second). Every reader now refuses an interval over a day, with the field and the limit.
 */
test('an interval over a day is refused by every reader; a day is accepted', () => {
  assert.equal(MAX_INTERVAL_MS, 24 * 3_600_000);
  for (const [field, read] of INTERVALS) {
    assert.deepEqual(messages(read('1000h')), [`InvalidSpec ${field}: "1000h" is longer than 24h`], field);
    assert.equal(messages(read('24h0m1s')).length, 1, `${field} 24h0m1s`);
    assert.deepEqual(messages(read('24h')), [], `${field} 24h`);
    assert.deepEqual(messages(read('1439m')), [], `${field} 1439m`);
  }
  const refused = validateContinuousDeploymentSpec({ url: 'file:///r', pullInterval: '1000h' });
  assert.ok(!refused.ok);
  assert.match(refused.errors[0]?.hint ?? '', /at most 24h/);
});

test('the inline image block of a ContinuousDeployment is held to the same interval bound', () => {
  const cd = {
    apiVersion: 'tidemark.dev/v1alpha1',
    kind: 'ContinuousDeployment',
    metadata: { name: 'app', namespace: 'apps', uid: 'u1' },
    spec: { url: 'file:///r', imageRepository: { image: 'ghcr.io/org/app', interval: '1000h', policy: { numerical: { order: 'asc' } } } },
  };
  const read = inlineToImageObjects(cd as never, plainCompilers);
  assert.ok(read);
  assert.deepEqual(messages(read), ['InvalidSpec spec.imageRepository.interval: "1000h" is longer than 24h']);
});

/**
 * Issue 21 item 7: `spec.timeout` set every Git deadline and each wait of a reconcile, without
 * bound, so four deployments could hold the agent's four workers for weeks.
 */
test('spec.timeout over an hour is refused; an hour is accepted; the default stays within 5m', () => {
  const read = (timeout: string) => validateContinuousDeploymentSpec({ url: 'file:///r', timeout });
  assert.equal(MAX_TIMEOUT_MS, 3_600_000);
  assert.deepEqual(messages(read('1000h')), ['InvalidSpec spec.timeout: "1000h" is longer than 1h']);
  assert.deepEqual(messages(read('61m')), ['InvalidSpec spec.timeout: "61m" is longer than 1h']);
  const hour = read('1h');
  assert.ok(hour.ok);
  assert.equal(hour.value.timeoutMs, MAX_TIMEOUT_MS);
  const longest = validateContinuousDeploymentSpec({ url: 'file:///r', pullInterval: '24h' });
  assert.ok(longest.ok);
  assert.equal(longest.value.timeoutMs, 5 * 60_000);
});

test('an ImageRepository scan timeout is at most 10m, and defaults to the interval held to that', () => {
  const read = (spec: Record<string, unknown>) => validateImageRepositorySpec({ image: 'ghcr.io/org/app', ...spec }, plainCompilers);
  assert.equal(MAX_SCAN_TIMEOUT_MS, 10 * 60_000);
  assert.deepEqual(messages(read({ timeout: '1000h' })), ['InvalidSpec spec.timeout: "1000h" is longer than 10m']);
  const daily = read({ interval: '24h' });
  assert.ok(daily.ok);
  assert.equal(daily.value.timeoutMs, MAX_SCAN_TIMEOUT_MS);
  const quick = read({ interval: '1m' });
  assert.ok(quick.ok);
  assert.equal(quick.value.timeoutMs, 60_000);
});
