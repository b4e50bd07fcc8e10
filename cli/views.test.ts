import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContinuousDeployment } from '../shared/api/continuous-deployment.ts';
import { forDisplay } from './commands/cd.ts';
import { cdTable, cdStatus } from './views.ts';
import { age, renderTable, shortRevision } from './table.ts';
import { unifiedDiff } from './text-diff.ts';

const now = Date.parse('2026-11-25T12:00:00Z');

/** Column alignment is what these views are about: compare literally, every space counted. */
function assertContains(text: string, expected: string): void {
  assert.ok(text.includes(expected), `expected ${JSON.stringify(expected)} in:\n${text}`);
}

const cd = (
  name: string,
  status: ContinuousDeployment['status'],
  spec: Partial<ContinuousDeployment['spec']> = {},
): ContinuousDeployment => ({
  apiVersion: 'tidemark.dev/v1alpha1',
  kind: 'ContinuousDeployment',
  metadata: { name, namespace: 'default', creationTimestamp: '2026-11-25T11:00:00Z' },
  spec: { url: 'https://git.example.com/org/config', ...spec },
  ...(status === undefined ? {} : { status }),
});

const infra = cd('infra-gitops', {
  sync: { status: 'Synced', revision: 'infra@sha1:5b1c0e8f0f3c2b8d8a1d0c9e7f6a5b4c3d2e1f00' },
  health: { status: 'Healthy' },
  lastSyncTime: '2026-11-25T11:59:48Z',
  location: { cluster: 'in-cluster', namespace: 'apps' },
  conditions: [
    {
      type: 'Ready',
      status: 'True',
      reason: 'ReconciliationSucceeded',
      message: 'Applied revision',
      lastTransitionTime: '2026-11-25T11:59:48Z',
    },
  ],
  resources: [
    {
      group: 'apps',
      version: 'v1',
      kind: 'Deployment',
      namespace: 'apps',
      name: 'web',
      status: 'Synced',
      health: { status: 'Healthy' },
    },
  ],
});
const image = cd('image-gitops', {
  sync: { status: 'OutOfSync', revision: 'image@sha1:0123456789abcdef0123456789abcdef01234567' },
  health: { status: 'Progressing', message: 'Deployment/apps/my-app is Progressing' },
  location: { cluster: 'in-cluster', namespace: 'apps' },
  conditions: [
    {
      type: 'Ready',
      status: 'False',
      reason: 'ManualSyncRequired',
      message: '1 objects differ',
      lastTransitionTime: '2026-11-25T11:00:00Z',
    },
  ],
});

test('get cd prints the KubeSphere columns (golden)', () => {
  assert.equal(
    cdTable([infra, image, cd('new', undefined, { suspend: true })], { nowMs: now, allNamespaces: false }),
    [
      'NAME           HEALTH        SYNC        LOCATION          REVISION        UPDATED   READY',
      'infra-gitops   Healthy       Synced      in-cluster/apps   infra@5b1c0e8   12s       True',
      'image-gitops   Progressing   OutOfSync   in-cluster/apps   image@0123456   -         False (ManualSyncRequired)',
      'new            Suspended     Unknown                                       -         Unknown',
      '',
    ].join('\n'),
  );
});

test('status shows source, sync, health, resources and events', () => {
  const text = cdStatus(
    infra,
    [
      {
        type: 'Normal',
        reason: 'ReconciliationSucceeded',
        message: 'Applied revision infra@sha1:5b1c: created 1',
        lastTimestamp: '2026-11-25T11:59:48Z',
      },
    ],
    now,
  );
  assert.ok(text.startsWith('About:\n  Name:       infra-gitops\n'), text);
  assertContains(text, '  URL:        https://git.example.com/org/config\n  Ref:        branch main\n  Path:       ./\n');
  assertContains(text, '  Sync:       Synced  infra@sha1:5b1c0e8f0f3c2b8d8a1d0c9e7f6a5b4c3d2e1f00\n');
  assertContains(
    text,
    '  KIND         NAMESPACE   NAME   SYNC     HEALTH    MESSAGE\n  Deployment   apps        web    Synced   Healthy\n',
  );
  assertContains(text, '  Normal   ReconciliationSucceeded   12s   Applied revision');
});

test('ages, revisions and tables format like kubectl', () => {
  assert.equal(age('2026-11-25T11:59:00Z', now), '60s');
  assert.equal(age('2026-11-25T10:00:00Z', now), '2h');
  assert.equal(age('2026-11-22T12:00:00Z', now), '3d');
  assert.equal(age('2026-10-01T12:00:00Z', now), '55d');
  assert.equal(shortRevision('main@sha1:abcdef0123'), 'main@abcdef0');
  assert.equal(shortRevision('sha1:abcdef0123'), 'abcdef0');
  assert.equal(renderTable(['a', 'bb'], [['xxx', 'y']]), 'A     BB\nxxx   y\n');
});

test('unified diff shows changed lines with context, nothing for equal texts', () => {
  const before = 'a\nb\nc\nd\ne\nf\ng\nh\n';
  const after = 'a\nb\nc\nD\ne\nf\ng\nh\n';
  assert.equal(unifiedDiff(before, after, { from: 'live', to: 'git' }), '--- live\n+++ git\n a\n b\n c\n-d\n+D\n e\n f\n g\n');
  assert.equal(unifiedDiff(before, before, { from: 'live', to: 'git' }), '');
});

test('status lists spec.healthChecks objects with their health, only when there are any', () => {
  assert.ok(!cdStatus(infra, [], now).includes('Health checks:'));
  const checked = cd('checked', {
    ...infra.status,
    healthChecks: [
      {
        apiVersion: 'helm.toolkit.fluxcd.io/v2',
        kind: 'HelmRelease',
        namespace: 'dev',
        name: 'backend',
        health: { status: 'Progressing', message: 'spec.healthCheckExprs[0]: no expression is true yet' },
      },
    ],
  });
  assertContains(
    cdStatus(checked, [], now),
    'Health checks:\n  KIND          NAMESPACE   NAME      HEALTH        MESSAGE\n' +
      '  HelmRelease   dev         backend   Progressing   spec.healthCheckExprs[0]: no expression is true yet\n',
  );
});

test('the CLI never prints a password from spec.url, in a table or as JSON', () => {
  const leaky: ContinuousDeployment = { ...infra, spec: { ...infra.spec, url: 'https://deploy:hunter2hunter2@git.example/infra.git' } };
  const shown = forDisplay(leaky);
  assert.equal(shown.spec.url, 'https://deploy:***@git.example/infra.git');
  assert.doesNotMatch(cdStatus(shown, [], now) + JSON.stringify(shown), /hunter2/);
  assert.equal(forDisplay(infra), infra, 'a URL without a password is left as it is');
});
