import assert from 'node:assert/strict';
import { test } from 'node:test';
import { API_VERSION } from '../shared/api/constants.ts';
import { Resources } from '../shared/api/resources.ts';
import { FakeKubePort } from '../shared/kube/fake-port.ts';
import { silentLogger } from '../shared/log/index.ts';
import { FakeClock, settle } from '../shared/time/fake-clock.ts';
import { watchImagePushes } from './image-pushes.ts';

const automation = (name: string, source: string) => ({
  apiVersion: API_VERSION,
  kind: 'ImageUpdateAutomation',
  metadata: { name, namespace: 'apps' },
  spec: { sourceRef: { kind: 'ContinuousDeployment', name: source } },
});

test('a new lastPushCommit runs the source ContinuousDeployment; start-up, repeats and other changes do not', async () => {
  const kube = new FakeKubePort([Resources.ImageUpdateAutomation]);
  const { ImageUpdateAutomation: iua } = Resources;
  await kube.apply(iua, automation('app', 'app-cd'));
  await kube.patchStatus(iua, 'apps', 'app', { lastPushCommit: 'a'.repeat(40) });
  const pushes: string[] = [];
  const watcher = watchImagePushes({ kube, clock: new FakeClock(), log: silentLogger, onPush: (ns, name) => pushes.push(`${ns}/${name}`) });
  watcher.start();
  await settle();
  assert.deepEqual(pushes, [], 'a push from before the agent started: its start-up sync covers it');

  await kube.patchStatus(iua, 'apps', 'app', { lastPushCommit: 'b'.repeat(40) });
  await settle();
  assert.deepEqual(pushes, ['apps/app-cd']);

  await kube.patchStatus(iua, 'apps', 'app', { lastAutomationRunTime: '2025-01-01T00:00:00Z' });
  await settle();
  assert.deepEqual(pushes, ['apps/app-cd'], 'a run without a push');

  await kube.apply(iua, automation('other', 'other-cd'));
  await settle();
  await kube.patchStatus(iua, 'apps', 'other', { lastPushCommit: 'c'.repeat(40) });
  await settle();
  assert.deepEqual(pushes, ['apps/app-cd', 'apps/other-cd'], 'the first push of an automation created after start-up');
  await watcher.stop();
});
