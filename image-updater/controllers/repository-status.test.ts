import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { terminal, transient } from '../../shared/errors/index.ts';
import type { ImageRepositoryStatus } from '../../shared/api/image.ts';
import { failedStatus, latestTags, progressingStatus, scanDue, scannedStatus, suspendedStatus } from './repository-status.ts';
import type { ScanRecord } from './tag-store.ts';

const T0 = Date.parse('2026-01-02T03:04:05Z');
const MIN = 60_000;

function record(overrides: Partial<ScanRecord> = {}): ScanRecord {
  return {
    uid: 'u1',
    generation: 2,
    image: 'ghcr.io/org/app',
    canonicalImageName: 'ghcr.io/org/app',
    tags: ['a', 'b'],
    scanTimeMs: T0,
    ...overrides,
  };
}

const readyStatus: ImageRepositoryStatus = {
  observedGeneration: 2,
  conditions: [
    {
      type: 'Ready',
      status: 'True',
      reason: 'ReconciliationSucceeded',
      message: 'ok',
      lastTransitionTime: '2026-01-02T03:04:05Z',
    },
  ],
};

function due(overrides: Partial<Parameters<typeof scanDue>[0]> = {}) {
  return scanDue({
    record: record(),
    uid: 'u1',
    generation: 2,
    image: 'ghcr.io/org/app',
    requestedAt: undefined,
    status: readyStatus,
    intervalMs: 5 * MIN,
    nowMs: T0 + MIN,
    ...overrides,
  });
}

describe('latestTags', () => {
  it('takes the last ten in registry order, newest first', () => {
    const tags = Array.from({ length: 25 }, (_, i) => `t${String(i).padStart(2, '0')}`);
    assert.deepEqual(latestTags(tags), ['t24', 't23', 't22', 't21', 't20', 't19', 't18', 't17', 't16', 't15']);
  });

  it('returns all of a short list, reversed', () => {
    assert.deepEqual(latestTags(['old', 'new']), ['new', 'old']);
    assert.deepEqual(latestTags([]), []);
  });
});

describe('scanDue', () => {
  it('waits out the rest of the interval after a fresh successful scan', () => {
    assert.deepEqual(due(), { now: false, inMs: 4 * MIN });
  });

  it('scans once the interval has passed', () => {
    assert.deepEqual(due({ nowMs: T0 + 5 * MIN }), { now: true });
  });

  it('scans when there are no tags, or they belong to another object, spec or image', () => {
    assert.equal(due({ record: undefined }).now, true);
    assert.equal(due({ uid: 'u2' }).now, true);
    assert.equal(due({ generation: 3 }).now, true);
    assert.equal(due({ image: 'ghcr.io/org/other' }).now, true);
  });

  it('scans on a new requestedAt and not on one already handled', () => {
    assert.equal(due({ requestedAt: 'r1' }).now, true);
    assert.equal(due({ requestedAt: 'r1', status: { ...readyStatus, lastHandledRequestedAt: 'r1' } }).now, false);
  });

  it('scans again after a failed attempt', () => {
    const failed: ImageRepositoryStatus = {
      ...readyStatus,
      conditions: [
        {
          type: 'Ready',
          status: 'False',
          reason: 'RegistryUnavailable',
          message: 'x',
          lastTransitionTime: '2026-01-02T03:04:05Z',
        },
      ],
    };
    assert.equal(due({ status: failed }).now, true);
  });

  it('scans when the clock went backwards rather than waiting for ever', () => {
    assert.equal(due({ nowMs: T0 - MIN }).now, true);
  });
});

describe('repository status', () => {
  const ctx = { generation: 2, nowMs: T0 };

  it('reports the scan result, Ready=True and an Event on the first scan', () => {
    const tags = Array.from({ length: 12 }, (_, i) => `v${i}`);
    const { status, events } = scannedStatus(
      undefined,
      { canonicalImageName: 'docker.io/library/nginx', tags, scanTimeMs: T0 },
      { ...ctx, handledRequest: 'r1' },
    );
    assert.equal(status.canonicalImageName, 'docker.io/library/nginx');
    assert.deepEqual(status.lastScanResult, {
      tagCount: 12,
      scanTime: '2026-01-02T03:04:05Z',
      latestTags: ['v11', 'v10', 'v9', 'v8', 'v7', 'v6', 'v5', 'v4', 'v3', 'v2'],
    });
    assert.equal(status.lastHandledRequestedAt, 'r1');
    assert.equal(status.observedGeneration, 2);
    assert.deepEqual(
      status.conditions?.map((c) => [c.type, c.status, c.reason]),
      [['Ready', 'True', 'ReconciliationSucceeded']],
    );
    assert.deepEqual(events, [{ type: 'Normal', reason: 'ReconciliationSucceeded', message: 'found 12 tags' }]);
  });

  it('announces a changed tag count and stays quiet when it is the same', () => {
    const first = scannedStatus(undefined, { canonicalImageName: 'x', tags: ['a'], scanTimeMs: T0 }, ctx).status;
    assert.deepEqual(scannedStatus(first, { canonicalImageName: 'x', tags: ['b'], scanTimeMs: T0 + MIN }, ctx).events, []);
    assert.deepEqual(scannedStatus(first, { canonicalImageName: 'x', tags: ['a', 'b'], scanTimeMs: T0 + MIN }, ctx).events, [
      { type: 'Normal', reason: 'ReconciliationSucceeded', message: 'found 2 tags (was 1)' },
    ]);
  });

  it('keeps the last scan result on failure and reports the error code', () => {
    const scanned = scannedStatus(undefined, { canonicalImageName: 'x', tags: ['a'], scanTimeMs: T0 }, ctx).status;
    const error = terminal('RegistryUnauthorized', 'x: the registry refused the credentials', 'check the username and password');
    const { status, events } = failedStatus(scanned, error, { ...ctx, nowMs: T0 + MIN, stalled: false });
    assert.deepEqual(status.lastScanResult, scanned.lastScanResult);
    const ready = status.conditions?.find((c) => c.type === 'Ready');
    assert.equal(ready?.status, 'False');
    assert.equal(ready?.reason, 'RegistryUnauthorized');
    assert.match(ready?.message ?? '', /refused the credentials \(check the username and password\)/);
    assert.equal(
      status.conditions?.find((c) => c.type === 'Stalled'),
      undefined,
    );
    assert.deepEqual(
      events.map((e) => [e.type, e.reason]),
      [['Warning', 'RegistryUnauthorized']],
    );
  });

  it('marks an invalid spec Stalled, and a later success clears it', () => {
    const error = terminal('InvalidExclusionPattern', 'spec.exclusionList[0]: bad');
    const stalled = failedStatus(undefined, error, { ...ctx, stalled: true }).status;
    assert.equal(stalled.conditions?.find((c) => c.type === 'Stalled')?.status, 'True');
    const healed = scannedStatus(stalled, { canonicalImageName: 'x', tags: [], scanTimeMs: T0 }, { generation: 3, nowMs: T0 }).status;
    assert.deepEqual(
      healed.conditions?.map((c) => c.type),
      ['Ready'],
    );
  });

  it('shows Reconciling while a new generation is scanned, and removes it afterwards', () => {
    const progressing = progressingStatus(undefined, 'ghcr.io/org/app', ctx);
    assert.deepEqual(progressing.conditions?.map((c) => [c.type, c.status]).sort(), [
      ['Ready', 'Unknown'],
      ['Reconciling', 'True'],
    ]);
    const done = failedStatus(progressing, transient('RegistryUnavailable', 'down'), { ...ctx, stalled: false }).status;
    assert.deepEqual(
      done.conditions?.map((c) => c.type),
      ['Ready'],
    );
  });

  it('reports suspension without dropping the last scan', () => {
    const scanned = scannedStatus(undefined, { canonicalImageName: 'x', tags: ['a'], scanTimeMs: T0 }, ctx).status;
    const suspended = suspendedStatus(scanned, { generation: 3, nowMs: T0 });
    assert.equal(suspended.lastScanResult?.tagCount, 1);
    assert.equal(suspended.conditions?.find((c) => c.type === 'Ready')?.reason, 'Suspended');
    assert.equal(suspended.observedGeneration, 3);
  });
});
