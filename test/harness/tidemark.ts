import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import { API_VERSION, FIELD_MANAGER } from '../../shared/api/constants.ts';
import { silentLogger, createLogger } from '../../shared/log/index.ts';
import type { Logger } from '../../shared/log/index.ts';
import { systemClock } from '../../shared/time/clock.ts';
import { createKubeClient } from '../../shared/kube/client.ts';
import { connectionFromText } from '../../shared/kube/kubeconfig/index.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import type { KubeConnection } from '../../shared/kube/kubeconfig/index.ts';
import { isNotFound } from '../../shared/kube/errors.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import type { ClusterAccess } from './control-plane.ts';
import { kubeconfigYaml } from './control-plane.ts';
import { waitFor } from './process.ts';

const CRD_DIR = new URL('../../charts/tidemark/crds/', import.meta.url).pathname;

/** A client for tests, with the admin token unless a user is named. */
export function testClient(cluster: ClusterAccess, user?: string): KubeClient {
  return createKubeClient(testConnection(cluster, user), { fieldManager: 'tidemark-test', clock: systemClock });
}

/** Tidemark's own connection (not client-node's KubeConfig) for a token user, admin by default. */
export function testConnection(cluster: ClusterAccess, user = 'admin'): KubeConnection {
  return connectionFromText(kubeconfigYaml(cluster.info, user, cluster.userToken(user)), { what: `test kubeconfig of ${user}` });
}

/** Installs (server-side applies) every CRD of the chart and waits until each is established. */
export async function installCrds(cluster: ClusterAccess): Promise<void> {
  const kube = testClient(cluster);
  try {
    const names: string[] = [];
    for (const file of (await readdir(CRD_DIR)).filter((f) => f.endsWith('.yaml')).sort()) {
      for (const doc of parseAllDocuments(await readFile(join(CRD_DIR, file), 'utf8'))) {
        const crd = doc.toJS() as KubeObject | null;
        if (!crd) continue;
        names.push(crd.metadata.name);
        await kube.rest.request({
          method: 'PATCH',
          path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`,
          query: { fieldManager: 'tidemark-test', force: true },
          contentType: 'application/apply-patch+yaml',
          body: crd,
        });
      }
    }
    await waitFor(
      async () => {
        for (const name of names) {
          const crd = await kube.rest.request<KubeObject>({
            method: 'GET',
            path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`,
          });
          const conditions = (crd.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? [];
          if (!conditions.some((c) => c.type === 'Established' && c.status === 'True')) return false;
        }
        return true;
      },
      { timeoutMs: 60_000, what: 'CRDs established' },
    );
  } finally {
    await kube.close();
  }
}

export function cdPath(namespace: string, name?: string): string {
  return `/apis/${API_VERSION}/namespaces/${namespace}/continuousdeployments${name ? `/${name}` : ''}`;
}

export async function applyCd(
  kube: KubeClient,
  cd: {
    metadata: { name: string; namespace: string; annotations?: Record<string, string>; labels?: Record<string, string> };
    spec: Record<string, unknown>;
  },
): Promise<void> {
  await kube.rest.request({
    method: 'PATCH',
    path: cdPath(cd.metadata.namespace, cd.metadata.name),
    query: { fieldManager: 'tidemark-test', force: true },
    contentType: 'application/apply-patch+yaml',
    body: { apiVersion: API_VERSION, kind: 'ContinuousDeployment', ...cd },
  });
}

export async function getCd(kube: KubeClient, namespace: string, name: string): Promise<ContinuousDeployment | undefined> {
  try {
    return await kube.rest.request<ContinuousDeployment>({ method: 'GET', path: cdPath(namespace, name) });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Polls a ContinuousDeployment until `check` holds; the error says what the status was. */
export async function waitForCd(
  kube: KubeClient,
  namespace: string,
  name: string,
  check: (cd: ContinuousDeployment) => boolean,
  what: string,
  timeoutMs = 90_000,
): Promise<ContinuousDeployment> {
  let last: ContinuousDeployment | undefined;
  try {
    await waitFor(
      async () => {
        last = await getCd(kube, namespace, name);
        return last !== undefined && check(last);
      },
      { timeoutMs, intervalMs: 100, what },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; last status: ${JSON.stringify(last?.status ?? null)}`, { cause: err });
  }
  return last as ContinuousDeployment;
}

/** Polls until the attempt at `revision` (`<branch>@sha1:<sha>`) has failed: Ready False with it attempted. */
export function waitForFailedAttempt(
  kube: KubeClient,
  namespace: string,
  name: string,
  revision: string,
  what: string,
): Promise<ContinuousDeployment> {
  return waitForCd(
    kube,
    namespace,
    name,
    (c) => c.status?.lastAttemptedRevision === revision && condition(c, 'Ready')?.status === 'False',
    what,
  );
}

/** Asks for a sync now, as the CLI does. */
export async function requestSync(kube: KubeClient, namespace: string, name: string): Promise<string> {
  const stamp = `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  await kube.rest.request({
    method: 'PATCH',
    path: cdPath(namespace, name),
    contentType: 'application/merge-patch+json',
    body: { metadata: { annotations: { 'tidemark.dev/requestedAt': stamp } } },
  });
  return stamp;
}

export function condition(cd: ContinuousDeployment | undefined, type: string) {
  return cd?.status?.conditions?.find((c) => c.type === type);
}

export async function getObject(kube: KubeClient, path: string): Promise<KubeObject | undefined> {
  try {
    return await kube.rest.request<KubeObject>({ method: 'GET', path });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

type TestEvent = { type: string; reason: string; message: string };

export async function listEvents(kube: KubeClient, namespace: string, name: string): Promise<TestEvent[]> {
  const list = await kube.rest.request<{
    items: Array<{ type: string; reason: string; message: string; involvedObject: { name: string } }>;
  }>({ method: 'GET', path: `/api/v1/namespaces/${namespace}/events` });
  return list.items.filter((e) => e.involvedObject.name === name);
}

/**
 * Waits until an Event for `name` matches, then returns all of them. The agent records Events after
 * its status write, so a test that has just seen the status must wait for the Event, not read once.
 */
export async function waitForEvent(
  kube: KubeClient,
  namespace: string,
  name: string,
  match: (event: TestEvent) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<TestEvent[]> {
  let events: TestEvent[] = [];
  try {
    await waitFor(
      async () => {
        events = await listEvents(kube, namespace, name);
        return events.some(match);
      },
      { timeoutMs, intervalMs: 100, what },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; Events: ${JSON.stringify(events)}`, { cause: err });
  }
  return events;
}

/** A test logger: silent unless TIDEMARK_TEST_LOG=1. */
export function testLogger(): Logger {
  return process.env.TIDEMARK_TEST_LOG ? createLogger({ level: 'debug', destination: process.stderr }) : silentLogger;
}

export { FIELD_MANAGER };
