/**
 * Item 9, the shape of Flux's public benchmark: N ContinuousDeployments of 4 objects each (a
 * ServiceAccount, a ConfigMap, a headless Service and a Deployment of 0 replicas, so health needs
 * no node), each at its own path of one repository, all created at once. Measured: the time from
 * the first create to the moment every one is Ready and Synced at the commit, the agent's peak
 * resident set (VmHWM), its API request rate (its own /metrics), and how late the last one came
 * compared with the median (a starved deployment shows as a long tail).
 */
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { parseTextFormat } from '../../shared/metrics/text-format.ts';
import { freePort } from '../../test/harness/ports.ts';
import { cdPath } from '../../test/harness/tidemark.ts';
import { AgentProcess } from '../lib/agent-process.ts';
import type { CdObject } from '../lib/cd.ts';
import { createCd, describeCd, isSyncedAt, watchCds } from '../lib/cd.ts';
import type { BenchEnv } from '../lib/env.ts';
import { deleteNamespaceAndWait, gitSecret } from '../lib/env.ts';
import type { Files } from '../lib/manifests.ts';
import { readProcMemory } from '../lib/proc.ts';

/** Flux's published figures for 1,000 Kustomizations (github.com/fluxcd/flux-benchmark), a 16-core runner. */
export const FLUX_PUBLISHED = { n: 1000, ms: 253_000, rssMiB: 223, cores: 16 } as const;

export const LOAD_OBJECTS_PER_CD = 4;
/** Creates in flight: "at once" as a client can send them without being the bottleneck. */
const CREATE_CONCURRENCY = 16;

export interface LoadResult {
  n: number;
  objects: number;
  /** First create sent → every ContinuousDeployment Ready and Synced at the commit. */
  allReadyMs: number;
  /** Per ContinuousDeployment, create sent → Ready and Synced: the median, 95th percentile and the last. */
  readyP50Ms: number;
  readyP95Ms: number;
  readyMaxMs: number;
  idleRssKiB: number;
  peakRssKiB: number;
  /** The agent's own API requests over the run, by verb (its tidemark_kube_requests_total). */
  requests: Record<string, number>;
  requestsTotal: number;
  /** requestsTotal over allReadyMs, per second. */
  requestRate: number;
  /** The most requests the agent sent in any one second of the run (sampled once a second). */
  peakRequestRate: number;
  reconciles: number;
  failedReconciles: number;
}

function app(i: number): string {
  return `app-${String(i).padStart(4, '0')}`;
}

/** Four objects per app directory; deterministic. */
export function loadManifests(n: number): Files {
  const files: Files = {};
  for (let i = 0; i < n; i++) {
    const name = app(i);
    files[`apps/${name}/objects.yaml`] = `apiVersion: v1
kind: ServiceAccount
metadata:
  name: ${name}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
data:
  APP: ${name}
  REVISION: "${i}"
---
apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  clusterIP: None
  selector:
    app: ${name}
  ports:
    - name: http
      port: 80
      targetPort: 8080
      protocol: TCP
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: 0
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      serviceAccountName: ${name}
      containers:
        - name: main
          image: registry.example.test/team/${name}:1.0.0
          envFrom:
            - configMapRef:
                name: ${name}
`;
  }
  return files;
}

function isReadyAt(cd: CdObject | undefined, revision: string): boolean {
  if (!isSyncedAt(cd, revision)) return false;
  return cd?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

/** Sums tidemark_kube_requests_total by verb from an exposition. Pure. */
export function requestsByVerb(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  const family = parseTextFormat(text).get('tidemark_kube_requests_total');
  for (const s of family?.samples ?? []) {
    const verb = s.labels.verb ?? '?';
    out[verb] = (out[verb] ?? 0) + s.value;
  }
  return out;
}

async function scrape(address: string): Promise<Record<string, number>> {
  const res = await fetch(`http://${address}/metrics`);
  if (!res.ok) throw new Error(`GET /metrics answered ${res.status}`);
  return requestsByVerb(await res.text());
}

const total = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

export async function runLoadPoint(env: BenchEnv, n: number): Promise<LoadResult> {
  const repo = `load-${n}`;
  const sha = await env.git.repos.createRepo(repo, loadManifests(n), { branch: 'main' });
  const revision = `main@sha1:${sha}`;
  const agentNs = await env.cp.createNamespace(`bench-load-${n}`);
  const target = await env.cp.createNamespace(`load-${n}-apps`);
  await gitSecret(env, agentNs, 'git-reader', 'reader');
  const address = `127.0.0.1:${await freePort()}`;
  const agent = await AgentProcess.start({
    kubeconfigPath: env.cp.kubeconfigPath,
    namespace: agentNs,
    cacheDir: await mkdtemp(join(env.workDir, 'agent-cache-')),
    healthAddress: address,
  });
  const cds = watchCds(env, agentNs);
  const names = Array.from({ length: n }, (_, i) => app(i));
  const createdAt = new Map<string, number>();
  const readyAt = new Map<string, number>();
  let rateTimer: NodeJS.Timeout | undefined;
  try {
    await cds.ready();
    await new Promise((r) => setTimeout(r, 3_000));
    const idleRssKiB = readProcMemory(agent.pid)?.rssKiB ?? 0;
    const before = await scrape(address);
    env.log(`load ${n}: ${n} ContinuousDeployments × ${LOAD_OBJECTS_PER_CD} objects, created at once`);
    let peakRequestRate = 0;
    let last = total(before);
    rateTimer = setInterval(() => {
      void scrape(address)
        .then((now) => {
          const t = total(now);
          peakRequestRate = Math.max(peakRequestRate, t - last);
          last = t;
        })
        .catch(() => undefined);
    }, 1_000);
    const start = performance.now();
    let next = 0;
    const creator = async () => {
      while (next < n) {
        const name = names[next++] as string;
        createdAt.set(name, performance.now());
        await createCd(env, {
          name,
          namespace: agentNs,
          url: env.git.http!.url(repo),
          secretRef: 'git-reader',
          path: `./apps/${name}`,
          targetNamespace: target,
          pullInterval: '10m',
        });
      }
    };
    await Promise.all(Array.from({ length: CREATE_CONCURRENCY }, creator));
    // A dead agent ends the wait at once instead of at the timeout.
    const gone = new AbortController();
    const alive = setInterval(() => {
      if (!agent.running) gone.abort();
    }, 1_000);
    const done = await cds
      .until(
        (all) => {
          const now = performance.now();
          for (const name of names) if (!readyAt.has(name) && isReadyAt(all.get(name), revision)) readyAt.set(name, now);
          return readyAt.size === n;
        },
        `${n} ContinuousDeployments Ready and Synced`,
        300_000 + n * 300,
        () =>
          `${readyAt.size} of ${n} ready; ` +
          names
            .filter((name) => !readyAt.has(name))
            .slice(0, 3)
            .map((name) => `${name}: ${describeCd(cds.objects.get(name))}`)
            .join('; '),
        gone.signal,
      )
      .catch((err: unknown) => {
        throw agent.running ? err : new Error(`the agent exited:\n${agent.tail()}`);
      })
      .finally(() => clearInterval(alive));
    clearInterval(rateTimer);
    agent.memory.sample();
    const after = await scrape(address);
    const requests: Record<string, number> = {};
    for (const [verb, count] of Object.entries(after)) {
      const delta = count - (before[verb] ?? 0);
      if (delta > 0) requests[verb] = delta;
    }
    const latencies = names.map((name) => (readyAt.get(name) as number) - (createdAt.get(name) as number)).sort((a, b) => a - b);
    const allReadyMs = done - start;
    const requestsTotal = total(requests);
    return {
      n,
      objects: n * LOAD_OBJECTS_PER_CD,
      allReadyMs,
      readyP50Ms: percentile(latencies, 50),
      readyP95Ms: percentile(latencies, 95),
      readyMaxMs: percentile(latencies, 100),
      idleRssKiB,
      peakRssKiB: Math.max(agent.memory.hwmKiB, agent.memory.peakRssKiB),
      requests,
      requestsTotal,
      requestRate: requestsTotal / (allReadyMs / 1000),
      peakRequestRate,
      reconciles: agent.lines.filter((l) => l.msg === 'reconcile finished').length,
      failedReconciles: agent.lines.filter((l) => l.msg === 'reconcile failed').length,
    };
  } finally {
    if (rateTimer) clearInterval(rateTimer);
    cds.stop();
    // One request for all of them; the agent (still running) releases each finalizer, orphaning.
    await env.kube.rest.request({ method: 'DELETE', path: cdPath(agentNs) }).catch(() => undefined);
    await waitForNone(env, agentNs, 120_000 + n * 200).catch(() => undefined);
    await agent.stop();
    await deleteNamespaceAndWait(env, target, 300_000).catch(() => undefined);
    await deleteNamespaceAndWait(env, agentNs).catch(() => undefined);
  }
}

async function waitForNone(env: BenchEnv, namespace: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const list = await env.kube.rest.request<{ items?: unknown[] }>({ method: 'GET', path: cdPath(namespace), query: { limit: '1' } });
    if ((list.items ?? []).length === 0) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`ContinuousDeployments in ${namespace} still there after ${timeoutMs} ms`);
}
