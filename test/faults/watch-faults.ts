/**
 * The agent's watch of the objects it manages, expiring under it: the live stream ended early
 * and every new watch answered 410 Gone (reason Expired) a few times, as an API server does after
 * etcd compaction. Nothing asks for a sync (pullInterval 1h), so the only way a hand edit of a
 * managed ConfigMap is undone is the watch: one edit lands while watches are refused (only a
 * fresh list can see it) and one after they are let through again (only the resumed watch can).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeClient } from '../../shared/kube/client.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import type { AgentProcess } from '../harness/agent-process.ts';
import type { KubeCall, KubeFaultProxy } from '../harness/kube-fault-proxy.ts';
import { waitFor } from '../harness/process.ts';
import { applyCd, getCd, waitForCd } from '../harness/tidemark.ts';
import type { FaultRow } from './report.ts';
import { releaseDeployment, startProxiedAgent, type FaultEnv } from './case-env.ts';

export interface WatchFault {
  name: string;
  /** Watches of ConfigMaps answered 410 before they are let through again. */
  expirations: number;
  /**
   * How the 410 comes: as the HTTP status of the watch request, or as the API server sends it
   * for a resourceVersion compacted away — a 200 stream whose one event is an ERROR Status.
   */
  as: 'http' | 'event';
}

export const WATCH_FAULTS: readonly WatchFault[] = [
  { name: 'API server: ConfigMap watch ended early, then 410 Gone (Expired) 3 times', expirations: 3, as: 'http' },
  { name: 'API server: ConfigMap watch ended early, then an ERROR event 410 Expired 3 times', expirations: 3, as: 'event' },
];

const OBJECTS = 5;
const pad = (i: number) => String(i).padStart(3, '0');
const configMap = (i: number) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${pad(i)}\ndata:\n  v: git\n`;
const isConfigMapWatch = (call: KubeCall) => call.watch && call.path.endsWith('/configmaps');
const isConfigMapList = (call: KubeCall) => call.method === 'GET' && !call.watch && call.path.endsWith('/configmaps');

const expired = {
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message: 'too old resource version: 1 (2) — injected by the fault suite',
  reason: 'Expired',
  code: 410,
};

/** Runs one watch fault in a namespace of its own; returns the table row, asserting both heals. */
export async function runWatchFault(env: FaultEnv, fault: WatchFault): Promise<FaultRow> {
  const { cluster, admin, git } = env;
  const ns = await cluster.createNamespace('fault');
  const repo = `fault-${ns.slice(-6)}`;
  const cacheDir = await mkdtemp(join(tmpdir(), 'tidemark-fault-'));
  let proxy: KubeFaultProxy | undefined;
  let agent: AgentProcess | undefined;
  try {
    const files: Record<string, string> = {};
    for (let i = 0; i < OBJECTS; i++) files[`d/cm-${pad(i)}.yaml`] = configMap(i);
    const target = await git.repos.createRepo(repo, files, { branch: 'main' });
    ({ proxy, agent } = await startProxiedAgent(cluster, ns, cacheDir));

    await applyCd(admin, { metadata: { name: 'app', namespace: ns }, spec: { url: git.http!.url(repo), path: 'd', pullInterval: '1h' } });
    await waitForCd(
      admin,
      ns,
      'app',
      (cd) => cd.status?.lastAppliedRevision === `main@sha1:${target}` && cd.status?.sync?.status === 'Synced',
      'first sync',
      60_000,
    );

    let refused = 0;
    proxy.setRule({
      onRequest: (call) => {
        if (!isConfigMapWatch(call) || refused >= fault.expirations) return 'forward';
        refused++;
        if (fault.as === 'http') return { status: 410, body: expired };
        return { status: 200, raw: `${JSON.stringify({ type: 'ERROR', object: expired })}\n` };
      },
    });
    // The open watch ends as a server's watch timeout ends it; the agent's next watch is refused.
    assert.ok(proxy.endWatches() > 0, 'the agent had a watch open to end');
    await waitFor(() => Promise.resolve(refused >= 1), { timeoutMs: 20_000, what: 'the first 410' });
    // Edited while no watch runs: only a list after the 410s can see it.
    await editData(admin, ns, 'cm-001', 'by-hand-while-expired');
    await waitFor(() => Promise.resolve(refused >= fault.expirations), { timeoutMs: 20_000, what: `${fault.expirations} expirations` });
    const lastRefused = proxy.calls.filter(isConfigMapWatch).at(fault.expirations - 1)?.seq ?? 0;
    await waitFor(async () => (await dataOf(admin, ns, 'cm-001')) === 'git', { timeoutMs: 20_000, what: 'cm-001 healed after the relist' });
    const calls = proxy.calls;
    await waitFor(() => Promise.resolve(calls.some((c) => c.seq > lastRefused && isConfigMapWatch(c))), {
      timeoutMs: 20_000,
      what: 'a watch let through after the expirations',
    });
    const relisted = calls.some((c) => c.seq > lastRefused && isConfigMapList(c));
    // Edited after the watch runs again: only the resumed watch can see it.
    await editData(admin, ns, 'cm-003', 'by-hand-after');
    await waitFor(async () => (await dataOf(admin, ns, 'cm-003')) === 'git', {
      timeoutMs: 20_000,
      what: 'cm-003 healed by the resumed watch',
    });

    const cd = await getCd(admin, ns, 'app');
    const live = await Promise.all(Array.from({ length: OBJECTS }, (_, i) => dataOf(admin, ns, `cm-${pad(i)}`)));
    const wrong = live.filter((v) => v !== 'git').length;
    const warned = (agent.output().match(/watch failed/g) ?? []).length;
    assert.ok(relisted, 'the agent listed ConfigMaps again after the 410s');
    assert.equal(warned, 0, 'an expired watch is routine: no "watch failed" warning');
    assert.equal(refused, fault.expirations, 'every expiration was served');
    assert.equal(cd?.status?.lastAppliedRevision, `main@sha1:${target}`, 'still the same commit');
    assert.equal(wrong, 0, 'every ConfigMap holds what Git has');
    return { fault: fault.name, converged: true, lostObjects: wrong, orphans: 0 };
  } catch (err) {
    throw new Error(`${fault.name}: ${(err as Error).message}\nagent output (tail): ${agent?.output().slice(-3000) ?? ''}`, { cause: err });
  } finally {
    proxy?.setRule(undefined);
    await releaseDeployment(admin, ns, 'app');
    await agent?.stop();
    await proxy?.close();
    await cluster.deleteNamespace(ns).catch(() => undefined);
    await rm(cacheDir, { recursive: true, force: true });
  }
}

async function editData(admin: KubeClient, ns: string, name: string, v: string): Promise<void> {
  await admin.rest.request({
    method: 'PATCH',
    path: `/api/v1/namespaces/${ns}/configmaps/${name}`,
    contentType: 'application/merge-patch+json',
    body: { data: { v } },
  });
}

async function dataOf(admin: KubeClient, ns: string, name: string): Promise<string | undefined> {
  const cm = await admin.rest.request<KubeObject & { data?: Record<string, string> }>({
    method: 'GET',
    path: `/api/v1/namespaces/${ns}/configmaps/${name}`,
  });
  return cm.data?.['v'];
}
