/**
 * The image updater's scans against the real registry (CNCF distribution, token auth) with faults
 * injected by a proxy in front of it: the registry down, throttling with and without Retry-After,
 * 5xx, HTML or truncated JSON instead of a tag list, 100,000 tags, the token endpoint failing, a
 * redirect to another host. Each case: the ImageRepository's condition says what happened
 * (reason and message), the last good scan result stays, no secret reaches status or Events, and
 * once the fault is lifted the next scan succeeds.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { API_VERSION, Annotations } from '../../shared/api/constants.ts';
import type { ImageRepositoryStatus } from '../../shared/api/image.ts';
import type { Condition } from '../../shared/conditions/index.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { waitFor } from '../harness/process.ts';
import { startImageUpdater, type RunningImageUpdater } from '../../image-updater/index.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import type { RegistryCall, RegistryFaultProxy, RegistryRule } from '../harness/registry-fault-proxy.ts';
import { startRegistryFaultProxy } from '../harness/registry-fault-proxy.ts';
import { startRegistry, type TestRegistry } from '../harness/registry.ts';
import { testClient, testLogger } from '../harness/tidemark.ts';
import { TOKEN_SERVICE } from '../harness/registry-token-issuer.ts';
import type { FaultRow } from './report.ts';

export const REPO = 'team/app';
export const GOOD_TAGS = ['1.0.0', '1.1.0', '1.2.0'];
const WAIT_MS = 60_000;

export interface RegistryFaultEnv {
  kube: KubeClient;
  namespace: string;
  registry: TestRegistry;
  proxy: RegistryFaultProxy;
  /** A second host the redirect case points at; it must never be contacted. */
  other: OtherHost;
}

export interface RegistryFault {
  name: string;
  rule: (env: RegistryFaultEnv) => RegistryRule;
  /** The Ready condition the fault must leave; for a fault that is not a failure, Ready=True. */
  expect: { status: 'False' | 'True'; reason: string; message: RegExp };
  /** Seen while the scan waits (the Retry-After case): the Reconciling condition. */
  whileWaiting?: { reason: string; message: RegExp };
  /** The tag count the faulted scan reports (a fault that is served, not failed). */
  tagCount?: number;
  /** Extra checks once the fault fired. */
  check?: (env: RegistryFaultEnv, calls: readonly RegistryCall[]) => void;
}

const isTagList = (call: RegistryCall) => !call.token && call.path === `/v2/${REPO}/tags/list`;
const json = (status: number, body: unknown, headers: Record<string, string> = {}) => ({ status, body: JSON.stringify(body), headers });

/** 100,000 tags served by the proxy, paged like distribution (`n`, `last`, a relative Link). */
export const MANY = 100_000;
const manyTag = (i: number) => `build-${String(i).padStart(6, '0')}`;
function manyTagsPage(call: RegistryCall) {
  const n = Math.max(1, Number(call.query.get('n') ?? '100'));
  const last = call.query.get('last');
  const start = last === null ? 0 : Number(last.slice('build-'.length)) + 1;
  const tags = Array.from({ length: Math.max(0, Math.min(n, MANY - start)) }, (_, k) => manyTag(start + k));
  const end = start + tags.length;
  const headers: Record<string, string> = end < MANY ? { link: `</v2/${REPO}/tags/list?last=${manyTag(end - 1)}&n=${n}>; rel="next"` } : {};
  return json(200, { name: REPO, tags }, headers);
}

export const REGISTRY_FAULTS: readonly RegistryFault[] = [
  {
    name: 'registry down (every connection cut)',
    rule: () => (call) => (call.token ? 'forward' : 'reset'),
    expect: {
      status: 'False',
      reason: 'RegistryUnreachable',
      message: /^GET http:\/\/127\.0\.0\.1:\d+\/v2\/team\/app\/tags\/list failed: /,
    },
  },
  {
    name: 'registry 429 with Retry-After: 2',
    rule: () => (call) =>
      isTagList(call) ? json(429, { errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] }, { 'retry-after': '2' }) : 'forward',
    whileWaiting: {
      reason: 'RegistryRateLimited',
      message: /^waiting 2s before attempt 2 of 3 \(as the registry's Retry-After asks\): .*answered 429/,
    },
    expect: { status: 'False', reason: 'RegistryRateLimited', message: /answered 429 \(TOOMANYREQUESTS: slow down\)/ },
  },
  {
    name: 'registry 429 without Retry-After',
    rule: () => (call) => (isTagList(call) ? json(429, { errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] }) : 'forward'),
    expect: { status: 'False', reason: 'RegistryRateLimited', message: /answered 429 \(TOOMANYREQUESTS: slow down\)/ },
  },
  {
    name: 'registry 503',
    rule: () => (call) =>
      isTagList(call) ? { status: 503, body: 'upstream connect error', headers: { 'content-type': 'text/plain' } } : 'forward',
    expect: { status: 'False', reason: 'RegistryUnavailable', message: /answered 503 \(upstream connect error\)/ },
  },
  {
    name: 'registry HTML instead of JSON',
    rule: () => (call) =>
      isTagList(call)
        ? { status: 200, body: '<html><body><h1>Welcome to the login portal</h1></body></html>', headers: { 'content-type': 'text/html' } }
        : 'forward',
    expect: {
      status: 'False',
      reason: 'RegistryBadResponse',
      message: /answered 200 with a body that is not JSON: Welcome to the login portal/,
    },
  },
  {
    name: 'registry truncated JSON',
    rule: () => (call) => (isTagList(call) ? { status: 200, body: `{"name":"${REPO}","tags":["1.0.0","1.1` } : 'forward'),
    expect: { status: 'False', reason: 'RegistryBadResponse', message: /answered 200 with a body that is not JSON/ },
  },
  {
    name: 'registry 100,000 tags',
    rule: () => (call) => (isTagList(call) ? manyTagsPage(call) : 'forward'),
    expect: { status: 'True', reason: 'ReconciliationSucceeded', message: /^successful scan: found 100000 tags$/ },
    tagCount: MANY,
  },
  {
    name: 'registry token endpoint 500',
    // The registry refuses the token it holds (expired), so the updater must fetch a new one.
    rule: (env) => (call) => {
      if (call.token) return { status: 500, body: 'token service down', headers: { 'content-type': 'text/plain' } };
      if (!isTagList(call) || !call.authorization) return 'forward';
      const scope = `repository:${REPO}:pull`;
      const challenge = `Bearer realm="${env.proxy.url}/token",service="${TOKEN_SERVICE}",scope="${scope}",error="invalid_token"`;
      return json(401, { errors: [{ code: 'UNAUTHORIZED', message: 'token expired' }] }, { 'www-authenticate': challenge });
    },
    expect: {
      status: 'False',
      reason: 'RegistryUnavailable',
      message: /getting a token for .*the token service at 127\.0\.0\.1:\d+ .*answered 500/,
    },
  },
  {
    name: 'registry redirect to another host',
    rule: (env) => (call) =>
      isTagList(call) ? { status: 307, headers: { location: `${env.other.url}/v2/${REPO}/tags/list?n=1000` } } : 'forward',
    expect: { status: 'False', reason: 'RegistryBadResponse', message: /unexpected redirect \(307\)/ },
    check: (env, calls) => {
      assert.ok(
        calls.some((c) => isTagList(c) && c.authorization),
        'the redirected request carried credentials',
      );
      assert.deepEqual(env.other.seen, [], 'the other host never sees a request, with or without Authorization');
    },
  },
];

/** A second HTTP host (127.0.0.2) that records what reaches it. */
export interface OtherHost {
  url: string;
  seen: Array<{ path: string; authorization: boolean }>;
  close(): Promise<void>;
}

export async function startOtherHost(): Promise<OtherHost> {
  const seen: OtherHost['seen'] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', authorization: req.headers.authorization !== undefined });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: REPO, tags: ['stolen'] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.2:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

type Repo = KubeObject & { status?: ImageRepositoryStatus };
const repoPath = (ns: string, name: string) => `/apis/${API_VERSION}/namespaces/${ns}/imagerepositories/${name}`;
const conditionOf = (repo: Repo | undefined, type: string): Condition | undefined => repo?.status?.conditions?.find((c) => c.type === type);

export async function applyRepository(kube: KubeClient, ns: string, name: string, image: string, requestedAt?: string): Promise<void> {
  await kube.rest.request({
    method: 'PATCH',
    path: repoPath(ns, name),
    query: { fieldManager: 'tidemark-faults', force: true },
    contentType: 'application/apply-patch+yaml',
    body: {
      apiVersion: API_VERSION,
      kind: 'ImageRepository',
      metadata: { name, namespace: ns, ...(requestedAt ? { annotations: { [Annotations.requestedAt]: requestedAt } } : {}) },
      spec: { image, interval: '1h', insecure: true, secretRef: { name: 'registry-creds' } },
    },
  });
}

async function waitRepo(kube: KubeClient, ns: string, name: string, check: (r: Repo) => boolean, what: string): Promise<Repo> {
  let last: Repo | undefined;
  try {
    await waitFor(
      async () => {
        last = await kube.rest.request<Repo>({ method: 'GET', path: repoPath(ns, name) });
        return check(last);
      },
      { timeoutMs: WAIT_MS, intervalMs: 25, what },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; last status: ${JSON.stringify(last?.status ?? null)}`, { cause: err });
  }
  return last as Repo;
}

let requests = 0;
/** Asks for a scan now (the `requestedAt` annotation) and waits until one answered it and `check` holds. */
async function scanNow(env: RegistryFaultEnv, name: string, check: (r: Repo) => boolean, what: string): Promise<Repo> {
  const token = `fault-${Date.now()}-${++requests}`;
  await applyRepository(env.kube, env.namespace, name, `${env.proxy.host}/${REPO}`, token);
  // `check` sees every status on the way (a scan's waits are written before it handles the request).
  return waitRepo(
    env.kube,
    env.namespace,
    name,
    (r) => {
      const holds = check(r);
      return r.status?.lastHandledRequestedAt === token && holds;
    },
    what,
  );
}

/** One fault on its own ImageRepository: good scan, fault, precise condition, lift, good scan. */
export async function runRegistryFault(env: RegistryFaultEnv, fault: RegistryFault, index: number): Promise<FaultRow> {
  const name = `fault-${index}`;
  const ready = (r: Repo) => conditionOf(r, 'Ready')?.status === 'True' && r.status?.lastScanResult?.tagCount === GOOD_TAGS.length;
  env.proxy.setRule(undefined);
  const good = await scanNow(env, name, ready, `${name}: first good scan`);
  const lastGood = good.status?.lastScanResult;

  const from = env.proxy.calls.length;
  env.proxy.setRule(fault.rule(env));
  let sawWaiting: Condition | undefined;
  const faulted = await scanNow(
    env,
    name,
    (r) => {
      const waiting = conditionOf(r, 'Reconciling');
      if (fault.whileWaiting && waiting?.reason === fault.whileWaiting.reason) sawWaiting ??= waiting;
      const c = conditionOf(r, 'Ready');
      return c?.status === fault.expect.status && c.reason === fault.expect.reason;
    },
    `${name}: ${fault.name} reported`,
  );
  const calls = env.proxy.calls.slice(from);
  env.proxy.setRule(undefined);

  const condition = conditionOf(faulted, 'Ready');
  assert.match(condition?.message ?? '', fault.expect.message, `${fault.name}: the Ready message says what happened`);
  if (fault.whileWaiting) {
    assert.ok(sawWaiting, `${fault.name}: while the scan waited, Reconciling named ${fault.whileWaiting.reason}`);
    assert.match(sawWaiting.message, fault.whileWaiting.message);
  }
  let lost = 0;
  if (fault.tagCount !== undefined) assert.equal(faulted.status?.lastScanResult?.tagCount, fault.tagCount);
  else if (JSON.stringify(faulted.status?.lastScanResult) !== JSON.stringify(lastGood)) lost = 1;
  assert.equal(lost, 0, `${fault.name}: the last good scan result stays`);
  fault.check?.(env, calls);

  const after = await scanNow(env, name, ready, `${name}: good scan after ${fault.name}`);
  assert.equal(conditionOf(after, 'Ready')?.message, `successful scan: found ${GOOD_TAGS.length} tags`);

  const events = await env.kube.rest.request<{ items: unknown[] }>({ method: 'GET', path: `/api/v1/namespaces/${env.namespace}/events` });
  const seen = JSON.stringify([faulted.status, after.status, events.items]);
  const secretHits = seen.split(env.registry.password).length - 1;
  assert.equal(secretHits, 0, 'the registry password appears in no status or Event');
  return { fault: fault.name, converged: true, lostObjects: lost, orphans: 0, secretHits };
}

/**
 * The registry (token auth) with the good tags, the proxy in front of it, the other host, a pull
 * Secret for the proxy's host and the image updater in process, in a namespace of their own.
 * The CRDs must be installed.
 */
export async function startRegistryFaultEnv(cluster: ClusterAccess): Promise<RegistryFaultEnv & { stop(): Promise<void> }> {
  const kube = testClient(cluster);
  let namespace = '';
  let registry: TestRegistry | undefined;
  let proxy: RegistryFaultProxy | undefined;
  let other: OtherHost | undefined;
  let updater: RunningImageUpdater | undefined;
  const stop = async () => {
    await updater?.stop();
    await proxy?.close();
    await other?.close();
    await registry?.stop();
    if (namespace) await cluster.deleteNamespace(namespace).catch(() => undefined);
    await kube.close();
  };
  try {
    namespace = await cluster.createNamespace('registry-faults');
    registry = await startRegistry({ auth: 'token' });
    await registry.pushImage(REPO, GOOD_TAGS);
    proxy = await startRegistryFaultProxy({ url: registry.url, tokenUrl: registry.issuer?.url });
    other = await startOtherHost();
    const auth = Buffer.from(`${registry.username}:${registry.password}`).toString('base64');
    await kube.rest.request({
      method: 'POST',
      path: `/api/v1/namespaces/${namespace}/secrets`,
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'registry-creds' },
        type: 'kubernetes.io/dockerconfigjson',
        data: { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths: { [proxy.host]: { auth } } })).toString('base64') },
      },
    });
    updater = await startImageUpdater({
      kubeconfigPath: cluster.kubeconfigPath,
      namespace,
      log: testLogger(),
      workers: 2,
      // Short waits so each case is seconds: three attempts, backoff from 200 ms, Retry-After up to 3 s.
      registry: { attempts: 3, backoff: { initialMs: 200, maxMs: 3000, factor: 2, jitter: 0 }, timeoutMs: 5000 },
    });
    return { kube, namespace, registry, proxy, other, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
