import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContinuousDeployment } from '../shared/api/continuous-deployment.ts';
import { cdDetails, cdRow, eventOf, historyRow } from './view.ts';

const base: ContinuousDeployment = {
  apiVersion: 'tidemark.dev/v1alpha1',
  kind: 'ContinuousDeployment',
  metadata: { name: 'web', namespace: 'apps', creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: { url: 'https://git.example/site.git' },
};

describe('a list row', () => {
  it('a new deployment: Unknown health and sync, located in its own namespace, updated at creation', () => {
    const row = cdRow(base);
    assert.deepEqual(row, {
      namespace: 'apps',
      name: 'web',
      alias: '',
      description: '',
      health: 'Unknown',
      sync: 'Unknown',
      suspended: false,
      keepsObjectsOnDelete: false,
      cluster: 'in-cluster',
      targetNamespace: 'apps',
      revision: '',
      updated: '2026-01-01T00:00:00Z',
      ready: undefined,
      deleting: false,
    });
  });

  it('reads the alias and description KubeSphere writes, the status location, the last sync', () => {
    const row = cdRow({
      ...base,
      metadata: {
        ...base.metadata,
        annotations: { 'kubesphere.io/alias-name': 'Web shop', 'kubesphere.io/description': 'the <b>shop</b>' },
        deletionTimestamp: '2026-01-03T00:00:00Z',
      },
      spec: { ...base.spec, targetNamespace: 'shop' },
      status: {
        sync: { status: 'OutOfSync', revision: 'main@sha1:abc' },
        health: { status: 'Degraded', message: 'crash' },
        location: { cluster: 'edge', namespace: 'shop-edge' },
        lastSyncTime: '2026-01-02T00:00:00Z',
        conditions: [{ type: 'Ready', status: 'False', reason: 'ApplyFailed', message: 'no', lastTransitionTime: '2026-01-02T00:00:01Z' }],
      },
    });
    assert.equal(row.alias, 'Web shop');
    assert.equal(row.description, 'the <b>shop</b>', 'kept as text: the page escapes it');
    assert.equal(row.health, 'Degraded');
    assert.equal(row.sync, 'OutOfSync');
    assert.equal(`${row.cluster}/${row.targetNamespace}`, 'edge/shop-edge');
    assert.equal(row.revision, 'main@sha1:abc');
    assert.equal(row.updated, '2026-01-02T00:00:00Z');
    assert.deepEqual(row.ready, { status: 'False', reason: 'ApplyFailed', message: 'no' });
    assert.equal(row.deleting, true);
  });

  it('suspended: health says so, and deleting keeps the objects (as the agent decides)', () => {
    const row = cdRow({ ...base, spec: { ...base.spec, suspend: true }, status: { health: { status: 'Healthy' } } });
    assert.equal(row.health, 'Suspended');
    assert.equal(row.keepsObjectsOnDelete, true);
    const orphan = cdRow({ ...base, metadata: { ...base.metadata, annotations: { 'tidemark.dev/deletion-policy': 'orphan' } } });
    assert.equal(orphan.keepsObjectsOnDelete, true);
  });
});

describe('the details', () => {
  it('source, sync mode, conditions, resources, newest events first', () => {
    const details = cdDetails(
      {
        ...base,
        spec: { ...base.spec, git: { tag: 'v1.2.0' }, path: 'deploy', prune: false, syncPolicy: { manual: true, selfHeal: false } },
        status: {
          resources: [
            { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'apps', name: 'web', status: 'OutOfSync', message: 'drift' },
            { version: 'v1', kind: 'Namespace', name: 'apps', status: 'Synced', health: { status: 'Healthy' } },
          ],
        },
      },
      [
        eventOf({ reason: 'A', message: 'old', lastTimestamp: '2026-01-01T00:00:00Z' }),
        eventOf({ type: 'Warning', reason: 'B', message: 'new', eventTime: '2026-01-02T00:00:00Z', count: 3 }),
      ],
    );
    assert.deepEqual(details.source, {
      url: 'https://git.example/site.git',
      ref: 'tag v1.2.0',
      path: 'deploy',
      revision: '',
      lastAppliedRevision: '',
      pullInterval: '5m',
    });
    assert.equal(details.syncMode, 'manual, no prune, no self-heal');
    assert.deepEqual(
      details.resources.map((r) => [r.kind, r.namespace, r.name, r.sync, r.health, r.message]),
      [
        ['Deployment', 'apps', 'web', 'OutOfSync', '', 'drift'],
        ['Namespace', '', 'apps', 'Synced', 'Healthy', ''],
      ],
    );
    assert.deepEqual(
      details.events.map((e) => [e.type, e.reason, e.count]),
      [
        ['Warning', 'B', 3],
        ['Normal', 'A', 1],
      ],
    );
  });
});

describe('the sync history', () => {
  const entry = {
    revision: 'main@sha1:1111111111111111111111111111111111111111',
    startedAt: '2026-12-06T10:00:00Z',
    finishedAt: '2026-12-06T10:00:05Z',
  };

  it('a failed sync shows its reason and message; a webhook names its receiver', () => {
    const row = historyRow({
      ...entry,
      subject: 'bump web',
      result: 'Failed',
      reason: 'ApplyFailed',
      message: 'denied',
      trigger: 'Webhook',
      requestedBy: 'receiver/apps/hook',
    });
    assert.deepEqual(row, {
      ...entry,
      subject: 'bump web',
      result: 'Failed',
      detail: 'ApplyFailed: denied',
      trigger: 'webhook (receiver/apps/hook)',
    });
  });

  it('a bot commit is called one; a superseded run does not repeat its result as the reason', () => {
    assert.equal(historyRow({ ...entry, result: 'Succeeded', trigger: 'ImagePush' }).trigger, 'bot commit (image update)');
    const superseded = historyRow({
      ...entry,
      result: 'Superseded',
      reason: 'Superseded',
      message: 'superseded by a new commit',
      trigger: 'Interval',
    });
    assert.equal(superseded.detail, 'superseded by a new commit');
  });
});
