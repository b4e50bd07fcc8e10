import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageAutomationRow, imagePolicyRow, imageRepositoryRow } from './images.ts';

const ready = { type: 'Ready', status: 'True', reason: 'Succeeded', message: 'ok', lastTransitionTime: 't' };

test('an ImageRepository row: the newest five tags of the last scan, its time and Ready', () => {
  const row = imageRepositoryRow({
    apiVersion: 'tidemark.dev/v1alpha1',
    kind: 'ImageRepository',
    metadata: { name: 'shop', namespace: 'apps' },
    spec: { image: 'registry.example/shop' },
    status: { lastScanResult: { tagCount: 12, scanTime: 'T', latestTags: ['7', '6', '5', '4', '3', '2'] }, conditions: [ready] },
  });
  assert.deepEqual(row, {
    namespace: 'apps',
    name: 'shop',
    image: 'registry.example/shop',
    latestTags: ['7', '6', '5', '4', '3'],
    tagCount: 12,
    lastScan: 'T',
    ready: { status: 'True', reason: 'Succeeded', message: 'ok' },
  });
});

test('an ImagePolicy row names its repository, its policy in words and the chosen image', () => {
  const row = imagePolicyRow({
    apiVersion: 'tidemark.dev/v1alpha1',
    kind: 'ImagePolicy',
    metadata: { name: 'shop', namespace: 'apps' },
    spec: { imageRepositoryRef: { name: 'shop' }, policy: { semver: { range: '>=1.0.0' } } },
    status: { latestRef: { name: 'registry.example/shop', tag: '1.2.0' } },
  });
  assert.deepEqual(
    [row.repository, row.policy, row.latest, row.ready],
    ['apps/shop', 'semver >=1.0.0', 'registry.example/shop:1.2.0', undefined],
  );
});

test('an ImageUpdateAutomation row: its deployment, last run and last bot commit', () => {
  const row = imageAutomationRow({
    apiVersion: 'tidemark.dev/v1alpha1',
    kind: 'ImageUpdateAutomation',
    metadata: { name: 'shop', namespace: 'apps' },
    spec: { sourceRef: { name: 'web' } },
    status: { lastAutomationRunTime: 'R', lastPushCommit: 'abc', lastPushTime: 'P' },
  });
  assert.deepEqual([row.source, row.lastRun, row.lastPushCommit, row.lastPushTime], ['web', 'R', 'abc', 'P']);
});
