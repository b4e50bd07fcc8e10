import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { API_VERSION } from '../shared/api/constants.ts';
import type { ImageRef } from '../shared/api/image.ts';
import { Resources } from '../shared/api/resources.ts';
import { KubeApiError } from '../shared/kube/errors.ts';
import { EventRecorder } from '../shared/kube/events.ts';
import { FakeKubePort } from '../shared/kube/fake-port.ts';
import type { KubeObject } from '../shared/kube/object.ts';
import type { KubeRequest, KubeRest } from '../shared/kube/rest.ts';
import { silentLogger } from '../shared/log/index.ts';
import { systemClock } from '../shared/time/clock.ts';
import { createAccessResolver, MemoryTagStore } from './controllers/index.ts';
import type { RegistryClient } from '../shared/registry/index.ts';
import { wireControllers, type ImageControllers } from './wiring.ts';

const IMAGE = 'registry.example.test/team/app';
const object = (kind: string, namespace: string, name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: API_VERSION,
  kind,
  metadata: { name, namespace, uid: `${namespace}-${name}-${kind}` },
  spec,
});
const automation = (namespace: string, source: string) =>
  object('ImageUpdateAutomation', namespace, 'auto', { sourceRef: { kind: 'ContinuousDeployment', name: source }, interval: '1h' });

/** The REST calls besides the port's: Events are accepted, and every source is missing. */
function restStub(): { rest: KubeRest; sent: KubeRequest[] } {
  const sent: KubeRequest[] = [];
  const request = (req: KubeRequest) => {
    sent.push(req);
    if (req.method === 'GET' && req.path.includes('/continuousdeployments/'))
      return Promise.reject(new KubeApiError(404, 'NotFound', 'not found'));
    return Promise.resolve({});
  };
  return { rest: { request } as unknown as KubeRest, sent };
}

async function until(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('the image updater tells its controllers in process', () => {
  const port = new FakeKubePort([Resources.ImageRepository, Resources.ImagePolicy, Resources.ImageUpdateAutomation]);
  const { rest, sent } = restStub();
  const store = new MemoryTagStore();
  let controllers: ImageControllers;
  /** Each automation run starts by reading its source; missing, so each run is one GET and a failed status. */
  const sourceReads = (namespace: string, source: string) =>
    sent.filter((r) => r.method === 'GET' && r.path === `/apis/${API_VERSION}/namespaces/${namespace}/continuousdeployments/${source}`)
      .length;
  const observedPolicies = (namespace: string) =>
    (
      port.peek(API_VERSION, 'ImageUpdateAutomation', namespace, 'auto')?.status as
        { observedPolicies?: Record<string, ImageRef> } | undefined
    )?.observedPolicies;

  before(async () => {
    // Suspended: the repository is never scanned here; the test puts its tags in the store.
    port.seed(object('ImageRepository', 'apps', 'app', { image: IMAGE, suspend: true }));
    port.seed(object('ImagePolicy', 'apps', 'app', { imageRepositoryRef: { name: 'app' }, policy: { numerical: { order: 'asc' } } }));
    port.seed(automation('apps', 'site'));
    port.seed(automation('elsewhere', 'other-site'));
    controllers = wireControllers({
      port,
      rest,
      clock: systemClock,
      log: silentLogger,
      workers: 2,
      registry: {} as RegistryClient,
      access: createAccessResolver(rest),
      store,
      events: new EventRecorder(rest, { component: 'test', clock: systemClock, log: silentLogger }),
      // A missing source is looked for again after an hour: only a notification runs an automation sooner.
      automation: { dependencyRetryMs: 3_600_000 },
    });
    for (const runner of controllers.runners) runner.start();
    await until('every controller has listed', () => controllers.runners.every((r) => r.ready));
    await until('both automations ran once', () => observedPolicies('apps') !== undefined && observedPolicies('elsewhere') !== undefined);
  });

  after(async () => {
    await Promise.all(controllers.runners.map((r) => r.stop()));
    await controllers.automations.close();
  });

  it('a scan runs the policy, whose new image runs the automations of its namespace with that image', async () => {
    assert.deepEqual(observedPolicies('apps'), {}, 'before the scan the policy has chosen nothing');
    assert.equal(sourceReads('apps', 'site'), 1);
    await store.set('apps/app', {
      uid: 'apps-app-ImageRepository',
      generation: 1,
      image: IMAGE,
      canonicalImageName: IMAGE,
      tags: ['1', '3', '2'],
      scanTimeMs: Date.now(),
    });
    // What the repository controller calls after a scan.
    controllers.policies.triggerFor('apps', 'app');
    await until('the automation ran with the new image', () => observedPolicies('apps')?.['apps/app'] !== undefined);
    assert.deepEqual(observedPolicies('apps'), { 'apps/app': { name: IMAGE, tag: '3' } });
    assert.equal(sourceReads('apps', 'site'), 2);
    assert.equal(sourceReads('elsewhere', 'other-site'), 1, 'an automation of another namespace does not run');
  });

  it('keeps no watch of its own on ImagePolicies: one list, by the policy controller', () => {
    assert.equal(port.calls.filter((c) => c.op === 'list' && c.kind === 'ImagePolicy').length, 1);
  });
});
