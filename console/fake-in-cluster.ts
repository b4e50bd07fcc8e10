/**
 * The console's unit tests over the in-memory API server: the console's Kubernetes port on a
 * FakeKubePort, a deployment fixture, and an in-cluster console whose "API server" judges tokens
 * by their first word. Tests only; nothing in the product imports it.
 */
import { API_VERSION } from '../shared/api/constants.ts';
import type { ContinuousDeployment } from '../shared/api/continuous-deployment.ts';
import { KubeApiError } from '../shared/kube/errors.ts';
import { FakeKubePort } from '../shared/kube/fake-port.ts';
import type { KubeObject } from '../shared/kube/object.ts';
import { isObject } from '../shared/kube/object.ts';
import { silentLogger } from '../shared/log/index.ts';
import type { Clock } from '../shared/time/clock.ts';
import { systemClock } from '../shared/time/clock.ts';
import { startConsole } from './index.ts';
import type { InClusterConsole, RunningConsole } from './index.ts';
import { CD_RESOURCE } from './kube.ts';
import type { ConsoleKube } from './kube.ts';
import { RepositoryLabel } from './repositories.ts';
import type { CdEvent } from './view.ts';

/** RFC 7386 JSON merge patch, as the API server applies `application/merge-patch+json`. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

const SECRETS = { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true };

/** The console's Kubernetes port over the in-memory API server. */
export function fakeConsoleKube(fake: FakeKubePort, events: CdEvent[]): ConsoleKube {
  return {
    port: fake,
    getCd: async (ns, name) => (await fake.get(CD_RESOURCE, ns, name)) as unknown as ContinuousDeployment | undefined,
    async patchCd(ns, name, patch) {
      const live = await fake.get(CD_RESOURCE, ns, name);
      if (!live) throw new KubeApiError(404, 'NotFound', `continuousdeployments "${name}" not found`);
      await fake.replace(CD_RESOURCE, mergePatch(live, patch) as KubeObject);
    },
    deleteCd: (ns, name) => fake.delete(CD_RESOURCE, ns, name, 'background'),
    async createCd(obj, dryRun) {
      if (await fake.get(CD_RESOURCE, obj.metadata.namespace, obj.metadata.name)) throw new KubeApiError(409, 'AlreadyExists', 'exists');
      if (!dryRun) await fake.create(CD_RESOURCE, obj);
    },
    async replaceCd(obj, dryRun) {
      if (dryRun) {
        if (!(await fake.get(CD_RESOURCE, obj.metadata.namespace, obj.metadata.name))) throw new KubeApiError(404, 'NotFound', 'not found');
        return;
      }
      await fake.replace(CD_RESOURCE, obj);
    },
    events: () => Promise.resolve(events),
    listRepositories: async (namespace) => (await fake.list(SECRETS, { namespace, labelSelector: `${RepositoryLabel}=true` })).items,
    listTidemark: () => Promise.resolve([]),
    async createSecret(obj, dryRun) {
      if (await fake.get(SECRETS, obj.metadata.namespace, obj.metadata.name)) throw new KubeApiError(409, 'AlreadyExists', 'exists');
      // As the API server stores it: stringData becomes base64 data.
      const text = isObject(obj.stringData) ? obj.stringData : {};
      const data = Object.fromEntries(Object.entries(text).map(([k, v]) => [k, Buffer.from(String(v)).toString('base64')]));
      const stored: KubeObject = { ...obj, data };
      delete stored.stringData;
      if (!dryRun) await fake.create(SECRETS, stored);
    },
  };
}

/** A synced, healthy deployment as the agent leaves it. */
export function cdFixture(namespace: string, name: string, extra: Partial<ContinuousDeployment> = {}): KubeObject {
  return {
    apiVersion: API_VERSION,
    kind: 'ContinuousDeployment',
    metadata: { name, namespace, annotations: { 'kubesphere.io/alias-name': `${name} app` } },
    spec: { url: 'https://git.example/site.git', path: 'deploy' },
    status: {
      sync: { status: 'Synced', revision: 'main@sha1:0123456789abcdef0123456789abcdef01234567' },
      health: { status: 'Healthy' },
      location: { cluster: 'in-cluster', namespace },
      resources: [{ version: 'v1', kind: 'ConfigMap', namespace, name: 'site', status: 'Synced', health: { status: 'Healthy' } }],
    },
    ...extra,
  };
}

/** The in-cluster settings a test chooses; the API server, CA, listen address and `connect` are the fake's. */
export type FakeInClusterSettings = Omit<InClusterConsole, 'server' | 'ca' | 'listenHost' | 'connect' | 'planner'>;

export interface FakeInCluster {
  running: RunningConsole;
  /** The in-memory API server every session reads. */
  fake: FakeKubePort;
  /** Every token the "API server" was asked about (its access review), in order. */
  asked: string[];
  /** Every token a cluster connection was made for, in order: a refusal before the API server makes none. */
  connected: string[];
  /** The token of every session cluster closed, in order. */
  closed: string[];
  /** `TOKEN NAMESPACE/NAME` of every comparison a session's planner made. */
  planned: string[];
  /** Moves the console's clock on. */
  advance(ms: number): void;
}

/**
 * An in-cluster console whose "API server" accepts tokens starting with `good`, cannot be reached
 * for tokens starting with `down`, and answers 401 to any other. Session ids are `sess1`, `sess2`, ...
 */
export async function startFakeInCluster(settings: FakeInClusterSettings, seed: readonly KubeObject[] = []): Promise<FakeInCluster> {
  let now = 1_000_000;
  const clock: Clock = { now: () => now, sleep: (ms, signal) => systemClock.sleep(ms, signal) };
  const fake = new FakeKubePort();
  for (const obj of seed) fake.seed(obj);
  const asked: string[] = [];
  const connected: string[] = [];
  const closed: string[] = [];
  const planned: string[] = [];
  let n = 0;
  const running = await startConsole({
    inCluster: {
      ...settings,
      server: 'https://unused.invalid',
      ca: undefined,
      listenHost: '127.0.0.1',
      connect: (token) => {
        connected.push(token);
        // The access review the login starts with is the check of the token.
        const canI: typeof fake.canI = (attributes) => {
          asked.push(token);
          if (token.startsWith('down')) return Promise.reject(new Error('connect ECONNREFUSED 10.0.0.1:443'));
          return token.startsWith('good') ? fake.canI(attributes) : Promise.reject(new KubeApiError(401, 'Unauthorized', 'Unauthorized'));
        };
        const kube = fakeConsoleKube(fake, []);
        return {
          kube: { ...kube, port: { ...fake, list: fake.list.bind(fake), watch: fake.watch.bind(fake), canI } },
          planner: (cd) => {
            planned.push(`${token} ${cd.metadata.namespace}/${cd.metadata.name}`);
            return Promise.resolve({ revision: 'main@sha1:x', commit: undefined, changes: [], notes: [], problem: undefined });
          },
          close: () => Promise.resolve(void closed.push(token)),
        };
      },
    },
    log: silentLogger,
    clock,
    tokens: () => `sess${++n}`,
  });
  return { running, fake, asked, connected, closed, planned, advance: (ms) => void (now += ms) };
}
