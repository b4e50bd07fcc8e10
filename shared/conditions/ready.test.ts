import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findCondition, type Condition } from './index.ts';
import { notReadyConditions, progressingConditions, readyConditions } from './ready.ts';

const T0 = Date.parse('2024-01-01T00:00:00Z');
const T1 = T0 + 60_000;
const types = (conditions: Condition[]) => conditions.map((c) => `${c.type}=${c.status}`).sort();

describe('kstatus summaries', () => {
  it('progressing: Reconciling=True and Ready=Unknown, at the generation worked on', () => {
    const conditions = progressingConditions(undefined, 'scanning', { generation: 3, nowMs: T0 });
    assert.deepEqual(types(conditions), ['Ready=Unknown', 'Reconciling=True']);
    assert.equal(findCondition(conditions, 'Ready')?.observedGeneration, 3);
    assert.equal(findCondition(conditions, 'Ready')?.reason, 'Progressing');
  });

  it('ready clears Reconciling and Stalled', () => {
    const stalled = notReadyConditions(undefined, 'InvalidPolicy', 'bad', true, { generation: 1, nowMs: T0 });
    assert.deepEqual(types(stalled), ['Ready=False', 'Stalled=True']);
    const ready = readyConditions(progressingConditions(stalled, 'again', { generation: 2, nowMs: T0 }), 'ok', {
      generation: 2,
      nowMs: T1,
    });
    assert.deepEqual(types(ready), ['Ready=True']);
    assert.equal(findCondition(ready, 'Ready')?.reason, 'ReconciliationSucceeded');
    assert.equal(findCondition(ready, 'Ready')?.lastTransitionTime, '2024-01-01T00:01:00Z');
  });

  it('not ready: Stalled only when retrying cannot help; no observedGeneration when the generation is unknown', () => {
    const retrying = notReadyConditions(undefined, 'RegistryUnavailable', 'down', false, { generation: undefined, nowMs: T0 });
    assert.deepEqual(types(retrying), ['Ready=False']);
    assert.equal('observedGeneration' in (findCondition(retrying, 'Ready') ?? {}), false);
    const stalled = notReadyConditions(retrying, 'InvalidPolicy', 'bad', true, { generation: 1, nowMs: T1 });
    assert.equal(findCondition(stalled, 'Stalled')?.reason, 'InvalidPolicy');
    // Ready was already False: its transition time stays.
    assert.equal(findCondition(stalled, 'Ready')?.lastTransitionTime, '2024-01-01T00:00:00Z');
  });
});
