import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { terminal } from '../../shared/errors/index.ts';
import type { ImagePolicyStatus } from '../../shared/api/image.ts';
import { digestPlan, nextPolicyStatus, sameRef } from './policy-status.ts';

const ctx = { generation: 1, nowMs: Date.parse('2026-01-02T03:04:05Z') };
const IMAGE = '127.0.0.1:5000/team/app';
const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('digestPlan', () => {
  it('never looks up with Never', () => {
    assert.deepEqual(digestPlan('Never', { name: IMAGE, tag: 'v1', digest: DIGEST }, IMAGE, 'v1'), {
      lookup: false,
      digest: undefined,
    });
  });

  it('keeps the digest with IfNotPresent while the same tag stays chosen', () => {
    assert.deepEqual(digestPlan('IfNotPresent', { name: IMAGE, tag: 'v1', digest: DIGEST }, IMAGE, 'v1'), {
      lookup: false,
      digest: DIGEST,
    });
    assert.deepEqual(digestPlan('IfNotPresent', { name: IMAGE, tag: 'v1', digest: DIGEST }, IMAGE, 'v2'), {
      lookup: true,
    });
    assert.deepEqual(digestPlan('IfNotPresent', { name: IMAGE, tag: 'v1' }, IMAGE, 'v1'), { lookup: true });
    assert.deepEqual(digestPlan('IfNotPresent', { name: 'other/app', tag: 'v1', digest: DIGEST }, IMAGE, 'v1'), {
      lookup: true,
    });
  });

  it('always looks up with Always', () => {
    assert.deepEqual(digestPlan('Always', { name: IMAGE, tag: 'v1', digest: DIGEST }, IMAGE, 'v1'), { lookup: true });
  });
});

describe('nextPolicyStatus', () => {
  it('sets latestRef with a NewImage Event the first time', () => {
    const { status, events } = nextPolicyStatus(undefined, { kind: 'resolved', ref: { name: IMAGE, tag: 'v1' }, candidates: 3 }, ctx);
    assert.deepEqual(status.latestRef, { name: IMAGE, tag: 'v1' });
    assert.equal(status.observedPreviousRef, undefined);
    assert.equal(status.conditions?.[0]?.status, 'True');
    assert.match(status.conditions?.[0]?.message ?? '', /resolved to v1 \(of 3 candidate tags\)/);
    assert.deepEqual(events, [{ type: 'Normal', reason: 'NewImage', message: `latest image is ${IMAGE}:v1` }]);
  });

  it('moves the old latestRef to observedPreviousRef when the choice changes', () => {
    const first = nextPolicyStatus(undefined, { kind: 'resolved', ref: { name: IMAGE, tag: 'v1' }, candidates: 1 }, ctx).status;
    const { status, events } = nextPolicyStatus(
      first,
      { kind: 'resolved', ref: { name: IMAGE, tag: 'v2', digest: DIGEST }, candidates: 2 },
      ctx,
    );
    assert.deepEqual(status.latestRef, { name: IMAGE, tag: 'v2', digest: DIGEST });
    assert.deepEqual(status.observedPreviousRef, { name: IMAGE, tag: 'v1' });
    assert.equal(events[0]?.reason, 'NewImage');
    assert.match(events[0]?.message ?? '', /from .*:v1 to .*:v2@sha256:a+$/);
  });

  it('changes nothing about the refs and announces nothing when the choice is the same', () => {
    const first = nextPolicyStatus(undefined, { kind: 'resolved', ref: { name: IMAGE, tag: 'v1' }, candidates: 1 }, ctx).status;
    const second = nextPolicyStatus(first, { kind: 'resolved', ref: { name: IMAGE, tag: 'v1' }, candidates: 1 }, ctx);
    assert.deepEqual(second.events, []);
    assert.deepEqual(second.status.latestRef, first.latestRef);
  });

  it('keeps latestRef on failure and reports the code; Stalled only for invalid specs', () => {
    const first = nextPolicyStatus(undefined, { kind: 'resolved', ref: { name: IMAGE, tag: 'v1' }, candidates: 1 }, ctx).status;
    const invalid = nextPolicyStatus(
      first,
      {
        kind: 'failed',
        error: terminal('InvalidFilterPattern', 'spec.filterTags.pattern "(" is not valid'),
        stalled: true,
      },
      ctx,
    );
    assert.deepEqual(invalid.status.latestRef, first.latestRef);
    assert.deepEqual(
      invalid.status.conditions?.map((c) => [c.type, c.status, c.reason]),
      [
        ['Ready', 'False', 'InvalidFilterPattern'],
        ['Stalled', 'True', 'InvalidFilterPattern'],
      ],
    );
    assert.deepEqual(
      invalid.events.map((e) => e.reason),
      ['InvalidFilterPattern'],
    );
    const noMatch = nextPolicyStatus(first, { kind: 'failed', error: terminal('NoMatchingTags', 'none'), stalled: false }, ctx);
    assert.deepEqual(
      noMatch.status.conditions?.map((c) => c.type),
      ['Ready'],
    );
  });

  it('reports a missing dependency without an Event', () => {
    const previous: ImagePolicyStatus = {};
    const { status, events } = nextPolicyStatus(
      previous,
      { kind: 'waiting', message: 'ImageRepository ns/app has not been scanned yet' },
      { ...ctx, handledRequest: 'r1' },
    );
    assert.equal(status.conditions?.[0]?.reason, 'DependencyNotReady');
    assert.equal(status.lastHandledRequestedAt, 'r1');
    assert.deepEqual(events, []);
  });

  it('compares refs by name, tag and digest', () => {
    assert.equal(sameRef({ name: 'a', tag: '1' }, { name: 'a', tag: '1' }), true);
    assert.equal(sameRef({ name: 'a', tag: '1' }, { name: 'a', tag: '1', digest: DIGEST }), false);
    assert.equal(sameRef(undefined, undefined), true);
    assert.equal(sameRef(undefined, { name: 'a', tag: '1' }), false);
  });
});
