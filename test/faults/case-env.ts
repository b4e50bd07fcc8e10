import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { Annotations } from '../../shared/api/constants.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import type { AgentProcess } from '../harness/agent-process.ts';
import { startAgentProcess } from '../harness/agent-process.ts';
import { testCluster } from '../harness/cluster.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { startGitServers } from '../harness/git.ts';
import type { GitServers } from '../harness/git.ts';
import type { KubeFaultProxy } from '../harness/kube-fault-proxy.ts';
import { startKubeFaultProxy } from '../harness/kube-fault-proxy.ts';
import { waitFor } from '../harness/process.ts';
import { cdPath, getCd, installCrds, listEvents, testClient } from '../harness/tidemark.ts';
import type { Reason } from '../../shared/errors/reasons.ts';

/** What an agent fault case runs against: the shared control plane, an admin client, a Git server. */
export interface FaultEnv {
  cluster: ClusterAccess;
  admin: KubeClient;
  git: GitServers;
}

/**
 * Registers a describe block's before/after hooks for agent fault cases (CRDs installed, an
 * anonymous-read smart-HTTP Git server) and returns the environment once `before` has run.
 */
export function useFaultEnv(): () => FaultEnv {
  let env: FaultEnv | undefined;
  before(async () => {
    const cluster = await testCluster();
    await installCrds(cluster);
    env = { cluster, admin: testClient(cluster), git: await startGitServers({ http: { allowAnonymousRead: true }, ssh: false }) };
  });
  after(async () => {
    await env?.git.stop();
    await env?.admin.close();
  });
  return () => {
    if (!env) throw new Error('the fault environment is used before its before() hook ran');
    return env;
  };
}

/**
 * Lets a case's ContinuousDeployment go while its agent still runs: `orphan`, so the agent only
 * removes its finalizer and the namespace takes the objects. Cleanup never throws: a failing
 * cleanup must not hide why the case failed.
 */
export async function releaseDeployment(admin: KubeClient, ns: string, name: string, timeoutMs = 60_000): Promise<void> {
  await admin.rest
    .request({
      method: 'PATCH',
      path: cdPath(ns, name),
      contentType: 'application/merge-patch+json',
      body: { metadata: { annotations: { [Annotations.deletionPolicy]: 'orphan' } } },
    })
    .then(() => admin.rest.request({ method: 'DELETE', path: cdPath(ns, name) }))
    .then(() => waitFor(async () => (await getCd(admin, ns, name)) === undefined, { timeoutMs, what: 'finalized' }))
    .catch(() => undefined);
}

/**
 * The agent as its own process (as in a Pod), watching `ns` and reaching the API server only
 * through a fault proxy; its kubeconfig and Git cache live in `workDir`. The proxy is closed
 * again if the agent does not start.
 */
export async function startProxiedAgent(
  cluster: ClusterAccess,
  ns: string,
  workDir: string,
): Promise<{ proxy: KubeFaultProxy; agent: AgentProcess }> {
  const proxy = await startKubeFaultProxy(cluster.info);
  try {
    const kubeconfig = join(workDir, 'kubeconfig');
    await writeFile(kubeconfig, proxy.kubeconfig(cluster.adminToken), { mode: 0o600 });
    return { proxy, agent: await startAgentProcess({ kubeconfig, namespace: ns, cacheDir: join(workDir, 'git') }) };
  } catch (err) {
    await proxy.close();
    throw err;
  }
}

/** The Event is recorded after the condition is written: it is waited for, not expected at once. */
export async function waitEvent(kube: KubeClient, ns: string, name: string, reason: Reason): Promise<void> {
  let seen: string[] = [];
  try {
    await waitFor(
      async () => {
        const events = await listEvents(kube, ns, name);
        seen = events.map((e) => `${e.type}/${e.reason}`);
        return events.some((e) => e.reason === reason && e.type === 'Warning');
      },
      { timeoutMs: 15_000, intervalMs: 100, what: `a Warning Event with reason ${reason}` },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; events: ${JSON.stringify(seen)}`, { cause: err });
  }
}

/** The `v` value of each ConfigMap named `<prefix>-…` (or `<prefix>`) in `ns`: what a fault case compares with its commit. */
export async function liveConfigMaps(admin: KubeClient, ns: string, prefix = 'cm'): Promise<Map<string, string>> {
  const list = await admin.rest.request<{ items: KubeObject[] }>({ method: 'GET', path: `/api/v1/namespaces/${ns}/configmaps` });
  const live = new Map<string, string>();
  for (const item of list.items) {
    if (!item.metadata.name.startsWith(`${prefix}-`) && item.metadata.name !== prefix) continue;
    live.set(item.metadata.name, String((item as KubeObject & { data?: Record<string, string> }).data?.['v']));
  }
  return live;
}

/** Names whose live value differs from `want`, plus live names `want` lacks. */
export function diff(want: Map<string, string>, live: Map<string, string>): string[] {
  return [...[...want].filter(([name, v]) => live.get(name) !== v).map(([name]) => name), ...[...live.keys()].filter((n) => !want.has(n))];
}
