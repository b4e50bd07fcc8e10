import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { API_VERSION } from '../../shared/api/constants.ts';
import type { ImageRef } from '../../shared/api/image.ts';
import { Resources } from '../../shared/api/resources.ts';
import { EventRecorder } from '../../shared/kube/events.ts';
import { FakeKubePort } from '../../shared/kube/fake-port.ts';
import type { KubeRest } from '../../shared/kube/rest.ts';
import { silentLogger } from '../../shared/log/index.ts';
import type { Clock } from '../../shared/time/clock.ts';
import type { RegistryClient } from '../../shared/registry/index.ts';
import { readImageRepositorySpec } from '../specs.ts';
import type { PolicyObject, RepositoryObject } from './object-types.ts';
import { ImagePolicyController } from './policy.ts';
import type { AccessResolver } from './registry-access.ts';
import { MemoryTagStore } from './tag-store.ts';

const clock: Clock = { now: () => Date.parse('2024-05-01T12:00:00Z'), sleep: () => Promise.resolve() };
const IMAGE = 'registry.example.test/team/app';
/** Events are posted here and dropped. */
const rest = { request: () => Promise.resolve({}) } as unknown as KubeRest;

const repository: RepositoryObject = {
  apiVersion: API_VERSION,
  kind: 'ImageRepository',
  metadata: { name: 'app', namespace: 'apps', uid: 'repo-uid', generation: 1 },
  spec: { image: IMAGE },
};
/** The copy a watch delivered before any status was written: it stays without status throughout. */
const policy: PolicyObject = {
  apiVersion: API_VERSION,
  kind: 'ImagePolicy',
  metadata: { name: 'app', namespace: 'apps', uid: 'policy-uid', generation: 1 },
  spec: { imageRepositoryRef: { name: 'app' }, policy: { numerical: { order: 'asc' } } },
};

function setup() {
  const port = new FakeKubePort([Resources.ImagePolicy]);
  port.seed(policy);
  const store = new MemoryTagStore();
  const changed: string[] = [];
  const controller = new ImagePolicyController({
    port,
    clock,
    log: silentLogger,
    workers: 1,
    // Never used: the digest is not reflected (digestReflectionPolicy defaults to Never).
    registry: {} as RegistryClient,
    access: {} as AccessResolver,
    store,
    events: new EventRecorder(rest, { component: 'test', clock, log: silentLogger }),
    repositories: { runner: { get: () => repository }, config: (obj) => readImageRepositorySpec(obj.spec) },
    onLatestChanged: (namespace, name) => changed.push(`${namespace}/${name}`),
  });
  const scan = (tags: string[]) =>
    store.set('apps/app', { uid: 'repo-uid', generation: 1, image: IMAGE, canonicalImageName: IMAGE, tags, scanTimeMs: clock.now() });
  const reconcile = () => controller.reconcile(policy, new AbortController().signal);
  const stored = () => port.peek(API_VERSION, 'ImagePolicy', 'apps', 'app')?.status as { latestRef?: ImageRef } | undefined;
  return { controller, changed, scan, reconcile, stored };
}

describe('ImagePolicyController tells the automations', () => {
  it('when the latest image changes, and only then', async () => {
    const { controller, changed, scan, reconcile } = setup();
    await reconcile();
    assert.deepEqual(changed, [], 'no scan yet: nothing chosen');

    await scan(['1', '2']);
    await reconcile();
    assert.deepEqual(changed, ['apps/app']);
    await reconcile();
    assert.deepEqual(changed, ['apps/app'], 'the same choice again is no news');

    await scan(['1', '2', '3']);
    await reconcile();
    assert.deepEqual(changed, ['apps/app', 'apps/app']);

    await scan(['x']);
    await reconcile();
    assert.deepEqual(changed, ['apps/app', 'apps/app'], 'no tag qualifies: the last choice stays');
    assert.deepEqual(controller.latestRef(policy), { name: IMAGE, tag: '3' });
  });

  it('answers latestRef with its own choice before the watch brings the status back', async () => {
    const { controller, scan, reconcile, stored } = setup();
    await scan(['7']);
    await reconcile();
    assert.equal(policy.status, undefined);
    assert.deepEqual(controller.latestRef(policy), { name: IMAGE, tag: '7' });
    assert.deepEqual(stored()?.latestRef, { name: IMAGE, tag: '7' });
  });

  it('reads a latestRef it did not write only when it is well formed', () => {
    const { controller } = setup();
    const written = (latestRef: unknown): PolicyObject => ({
      ...policy,
      metadata: { ...policy.metadata, uid: 'other' },
      status: { latestRef } as never,
    });
    assert.deepEqual(controller.latestRef(written({ name: IMAGE, tag: '1' })), { name: IMAGE, tag: '1' });
    assert.equal(controller.latestRef(written({ name: IMAGE })), undefined);
    assert.equal(controller.latestRef(written({ name: IMAGE, tag: '1', digest: 5 })), undefined);
  });
});
