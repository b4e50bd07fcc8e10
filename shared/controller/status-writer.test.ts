import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Resources } from '../api/resources.ts';
import { KubeApiError } from '../kube/errors.ts';
import { FakeKubePort } from '../kube/fake-port.ts';
import { registry } from '../metrics/index.ts';
import { parseTextFormat } from '../metrics/text-format.ts';
import { ownedFieldsEqual, writeStatus } from './status-writer.ts';

const FIELDS = ['phase', 'conditions', 'latest'] as const;
const target = { resource: Resources.ImagePolicy, namespace: 'ns', name: 'web' };

function withPolicy(status: Record<string, unknown>): FakeKubePort {
  const kube = new FakeKubePort([Resources.ImagePolicy]);
  kube.seed({ apiVersion: 'tidemark.dev/v1alpha1', kind: 'ImagePolicy', metadata: { name: 'web', namespace: 'ns' }, status });
  return kube;
}
const statusOf = (kube: FakeKubePort) => kube.peek('tidemark.dev/v1alpha1', 'ImagePolicy', 'ns', 'web')?.status;

describe('writeStatus', () => {
  it('writes nothing when no owned field changed', async () => {
    const previous = { phase: 'Ready', conditions: [{ type: 'Ready', status: 'True' }], other: 1 };
    const kube = withPolicy(previous);
    const next = { conditions: [{ status: 'True', type: 'Ready' }], phase: 'Ready', latest: undefined, other: 2 };
    assert.equal(await writeStatus(kube, { ...target, previous, next, fields: FIELDS }), false);
    assert.deepEqual(kube.writes(), []);
  });

  it('patches the status with every owned field, removing the ones left out and leaving the rest', async () => {
    const kube = withPolicy({ phase: 'Ready', latest: 'a', other: 1 });
    const wrote = await writeStatus(kube, {
      ...target,
      previous: { phase: 'Ready', latest: 'a' },
      next: { phase: 'Failed' },
      fields: FIELDS,
    });
    assert.equal(wrote, true);
    assert.deepEqual(statusOf(kube), { phase: 'Failed', other: 1 });
  });

  it('writes the first status of an object', async () => {
    const kube = withPolicy({});
    assert.equal(await writeStatus(kube, { ...target, previous: undefined, next: { phase: 'Ready' }, fields: FIELDS }), true);
    assert.deepEqual(statusOf(kube), { phase: 'Ready' });
  });

  it('treats a deleted object as nothing to write, and lets other failures through', async () => {
    const gone = new FakeKubePort([Resources.ImagePolicy]);
    assert.equal(await writeStatus(gone, { ...target, previous: undefined, next: { phase: 'Ready' }, fields: FIELDS }), false);
    const down = withPolicy({});
    down.fail('patchStatus', { kind: 'ImagePolicy' }, new KubeApiError(503, 'ServiceUnavailable', 'down'));
    await assert.rejects(writeStatus(down, { ...target, previous: undefined, next: { phase: 'Ready' }, fields: FIELDS }), /down/);
  });
});

describe('ownedFieldsEqual', () => {
  it('ignores key order, undefined members and fields it does not own, but not values or list order', () => {
    assert.equal(ownedFieldsEqual({ a: 1, b: { c: [1, 2], d: undefined } }, { b: { c: [1, 2] }, a: 1, z: 9 }, ['a', 'b']), true);
    assert.equal(ownedFieldsEqual({ a: [1, 2] }, { a: [2, 1] }, ['a']), false);
    assert.equal(ownedFieldsEqual({ a: '1' }, { a: 1 }, ['a']), false);
    assert.equal(ownedFieldsEqual(undefined, { a: null }, ['a']), true);
  });
});

describe('writeStatus and the info gauge', () => {
  it('sets the object’s tidemark_resource_info series from the status, written or not', async () => {
    const kube = withPolicy({});
    const ready = { type: 'Ready', status: 'False', reason: 'Suspended', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' };
    const status = { phase: 'Ready', conditions: [ready] };
    await writeStatus(kube, { ...target, name: 'info-probe', previous: status, next: status, fields: FIELDS });
    const info = parseTextFormat(await registry.metrics())
      .get('tidemark_resource_info')
      ?.samples.filter((s) => s.labels.name === 'info-probe');
    assert.deepEqual(kube.writes(), []);
    assert.deepEqual(info, [
      {
        name: 'tidemark_resource_info',
        labels: { kind: 'ImagePolicy', name: 'info-probe', namespace: 'ns', ready: 'False', suspended: 'true', revision: '' },
        value: 1,
      },
    ]);
  });
});
