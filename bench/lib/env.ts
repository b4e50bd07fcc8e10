import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ControlPlane } from '../../test/harness/control-plane.ts';
import { startControlPlane } from '../../test/harness/control-plane.ts';
import { onShutdown, waitFor } from '../../test/harness/process.ts';
import { kubectlTools } from '../../test/harness/tools.ts';
import type { KubectlTools } from '../../test/harness/tools.ts';
import { startGitServers } from '../../test/harness/git.ts';
import type { GitServers } from '../../test/harness/git.ts';
import { installCrds, testClient } from '../../test/harness/tidemark.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import { isNotFound } from '../../shared/kube/errors.ts';
import type { MetricsSource } from './metrics.ts';
import type { Files } from './manifests.ts';
import { CRD_NAME, crdManifest } from './manifests.ts';
import { parse } from 'yaml';

/** Everything the cluster-side items share: one control plane, one Git server, kubectl. */
export interface BenchEnv {
  cp: ControlPlane;
  kube: KubeClient;
  metrics: MetricsSource;
  tools: KubectlTools;
  git: GitServers;
  /** Private scratch space, removed at the end. */
  workDir: string;
  /** Progress lines on stderr, so stdout stays the report. */
  log(line: string): void;
}

export function progress(line: string): void {
  const t = new Date().toISOString().slice(11, 19);
  process.stderr.write(`[bench ${t}] ${line}\n`);
}

export async function startEnv(): Promise<BenchEnv & { stop(): Promise<void> }> {
  const workDir = await mkdtemp(join(tmpdir(), 'tidemark-bench-'));
  const unregister = onShutdown({
    name: `rm ${workDir}`,
    async: () => rm(workDir, { recursive: true, force: true }),
    sync: () => rmSync(workDir, { recursive: true, force: true }),
  });
  let cp: ControlPlane | undefined;
  let git: GitServers | undefined;
  let kube: KubeClient | undefined;
  const stop = async () => {
    await kube?.close();
    await git?.stop();
    await cp?.stop();
    await rm(workDir, { recursive: true, force: true });
    unregister();
  };
  try {
    progress('starting etcd, kube-apiserver, kube-controller-manager');
    cp = await startControlPlane({ log: (l) => progress(l) });
    const tools = await kubectlTools();
    git = await startGitServers({ http: true, ssh: false });
    await installCrds(cp);
    kube = testClient(cp);
    await installWidgetCrd(kube);
    return {
      cp,
      kube,
      metrics: { server: cp.server, caPem: cp.info.caPem, token: cp.adminToken },
      tools,
      git,
      workDir,
      log: progress,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * The benchmark's own CRD exists before any run: kubectl cannot apply a CRD and its custom
 * resources in one invocation, so both sides start with it in place (and apply it unchanged).
 */
async function installWidgetCrd(kube: KubeClient): Promise<void> {
  const path = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}`;
  await kube.rest.request({
    method: 'PATCH',
    path,
    query: { fieldManager: 'tidemark-bench', force: true },
    contentType: 'application/apply-patch+yaml',
    body: parse(crdManifest()),
  });
  await waitFor(
    async () => {
      const crd = await kube.rest.request<{ status?: { conditions?: Array<{ type: string; status: string }> } }>({
        method: 'GET',
        path,
      });
      return (crd.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True');
    },
    { what: `${CRD_NAME} established`, timeoutMs: 60_000, intervalMs: 200 },
  );
}

export async function writeFiles(root: string, files: Files): Promise<void> {
  const dirs = new Set(Object.keys(files).map((p) => dirname(join(root, p))));
  for (const d of dirs) await mkdir(d, { recursive: true });
  for (const [path, content] of Object.entries(files)) await writeFile(join(root, path), content);
}

/** Deletes a namespace and waits until it is gone, so its objects no longer load the next run. */
export async function deleteNamespaceAndWait(env: BenchEnv, name: string, timeoutMs = 180_000): Promise<number> {
  const start = performance.now();
  await env.cp.deleteNamespace(name);
  await waitFor(
    async () => {
      try {
        await env.kube.rest.request({ method: 'GET', path: `/api/v1/namespaces/${name}` });
        return false;
      } catch (err) {
        if (isNotFound(err)) return true;
        throw err;
      }
    },
    { what: `namespace ${name} deleted`, timeoutMs, intervalMs: 250 },
  );
  return performance.now() - start;
}

/** A Secret in `namespace` with the Git server's reader (or writer) credentials. */
export async function gitSecret(env: BenchEnv, namespace: string, name: string, role: 'reader' | 'writer'): Promise<void> {
  const user = role === 'reader' ? env.git.http!.reader : env.git.http!.writer;
  await env.kube.rest.request({
    method: 'POST',
    path: `/api/v1/namespaces/${namespace}/secrets`,
    body: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name },
      stringData: { username: user.username, password: user.password },
    },
  });
}

/** kubectl with the admin kubeconfig and a private discovery cache (never the user's ~/.kube). */
export function kubectlArgs(env: BenchEnv, args: readonly string[]): string[] {
  return ['--kubeconfig', env.cp.kubeconfigPath, '--cache-dir', join(env.workDir, 'kubectl-cache'), ...args];
}
