import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide, type LeaseRecord, type LeaseTimings } from './leader-election.ts';

const T: LeaseTimings = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };
const NOW = Date.parse('2026-12-06T10:00:00.000Z');
const held = (holder: string, renewTime = '2026-12-06T09:59:59.000000Z'): LeaseRecord => ({
  holderIdentity: holder,
  leaseDurationSeconds: 15,
  acquireTime: '2026-12-06T09:00:00.000000Z',
  renewTime,
  leaseTransitions: 3,
});

describe('leader election: decide', () => {
  it('creates a missing lease as the first holder, with MicroTime stamps and no transition', () => {
    assert.deepEqual(decide({}, undefined, NOW, 'me', T), {
      action: 'take',
      record: {
        holderIdentity: 'me',
        leaseDurationSeconds: 15,
        acquireTime: '2026-12-06T10:00:00.000000Z',
        renewTime: '2026-12-06T10:00:00.000000Z',
        leaseTransitions: 0,
      },
    });
  });

  it('renews its own lease, keeping when it was acquired', () => {
    const decision = decide(held('me'), undefined, NOW, 'me', T);
    assert.equal(decision.action, 'renew');
    assert.equal(decision.action === 'renew' && decision.record.acquireTime, '2026-12-06T09:00:00.000000Z');
    assert.equal(decision.action === 'renew' && decision.record.renewTime, '2026-12-06T10:00:00.000000Z');
  });

  it("waits on another holder's lease seen for the first time, whatever its renewTime says (clock skew)", () => {
    const stale = held('other', '2020-01-01T00:00:00.000000Z');
    assert.deepEqual(decide(stale, undefined, NOW, 'me', T), { action: 'wait', holder: 'other' });
  });

  it('waits while the same record was seen less than a lease duration ago, takes it once that has passed', () => {
    const record = held('other');
    assert.equal(decide(record, { record, atMs: NOW - 14_999 }, NOW, 'me', T).action, 'wait');
    const taken = decide(record, { record, atMs: NOW - 15_000 }, NOW, 'me', T);
    assert.equal(taken.action, 'take');
    assert.equal(taken.action === 'take' && taken.record.leaseTransitions, 4);
    assert.equal(taken.action === 'take' && taken.record.holderIdentity, 'me');
  });

  it('counts a renewal it has not seen before as fresh: the wait starts again', () => {
    const before = held('other', '2026-12-06T09:59:00.000000Z');
    const renewed = held('other', '2026-12-06T09:59:58.000000Z');
    assert.equal(decide(renewed, { record: before, atMs: NOW - 60_000 }, NOW, 'me', T).action, 'wait');
  });

  it("honours the holder's own lease duration, and takes a released lease at once", () => {
    const long = { ...held('other'), leaseDurationSeconds: 60 };
    assert.equal(decide(long, { record: long, atMs: NOW - 30_000 }, NOW, 'me', T).action, 'wait');
    const released = { ...held(''), leaseDurationSeconds: 1 };
    const taken = decide(released, undefined, NOW, 'me', T);
    assert.equal(taken.action, 'take');
    assert.equal(taken.action === 'take' && taken.record.leaseTransitions, 4);
  });
});
