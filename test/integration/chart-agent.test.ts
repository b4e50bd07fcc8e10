import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { testCluster } from '../harness/cluster.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { startGitServers } from '../harness/git.ts';
import type { GitServers } from '../harness/git.ts';
import { installChartRbac } from '../harness/helm.ts';
import type { ChartRbac } from '../harness/helm.ts';
import { freePort } from '../harness/ports.ts';
import { waitFor } from '../harness/process.ts';
import { applyCd, getCd, getObject, installCrds, testClient, waitForCd } from '../harness/tidemark.ts';
import type { KubeClient } from '../../shared/kube/client.ts';

/**
 * The agent as the chart runs it: a separate `tidemark agent` process with the flags the chart
 * passes and a token of the chart's ServiceAccount — never an admin token — on the real
 * RBAC-enforcing API server. It must do its whole job: sync, report, prune, finalize.
 */
describe('agent with the chart ServiceAccount token', () => {
  let cluster: ClusterAccess;
  let admin: KubeClient;
  let git: GitServers;
  let rbac: ChartRbac;
  let agent: ChildProcess;
  let output = '';
  let ns: string;
  let cacheDir: string;

  before(async () => {
    cluster = await testCluster();
    await installCrds(cluster);
    admin = testClient(cluster);
    git = await startGitServers({ http: false, ssh: false });
    ns = await cluster.createNamespace('chart-agent');
    cacheDir = await mkdtemp(join(tmpdir(), 'tidemark-chart-agent-'));
    rbac = await installChartRbac(cluster, { namespace: ns, release: `ca-${ns.slice(-6)}` });
    const port = await freePort();
    // The chart's own args, with the kubeconfig of the ServiceAccount and loopback-only health.
    const args = rbac.agentArgs.filter((a) => !a.startsWith('--health-addr') && !a.startsWith('--cache-dir'));
    agent = spawn(
      process.execPath,
      [
        new URL('../../bin/tidemark.ts', import.meta.url).pathname,
        ...args,
        '--kubeconfig',
        rbac.agentKubeconfig,
        '--namespace',
        ns,
        '--health-addr',
        `127.0.0.1:${port}`,
        // The test's repositories are local directories; the chart never sets this.
        '--allow-local-git',
        '--cache-dir',
        cacheDir,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KUBECONFIG: '' } },
    );
    agent.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    agent.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200, {
      timeoutMs: 60_000,
      what: `agent ready; output: ${output}`,
    });
  });

  after(async () => {
    agent?.kill('SIGTERM');
    await rbac?.cleanup();
    await git?.stop();
    await admin?.close();
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  });

  it('syncs, prunes and finalizes with only the chart-granted rights', async () => {
    const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  a: "1"\n`;
    const deploy =
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector: {matchLabels: {app: web}}\n' +
      '  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: nginx}]\n';
    await git.repos.createRepo('rbac', { 'd/a.yaml': cm('a'), 'd/b.yaml': cm('b'), 'd/web.yaml': deploy }, { branch: 'main' });
    await applyCd(admin, {
      metadata: { name: 'rbac', namespace: ns },
      spec: { url: git.repos.fileUrl('rbac'), path: 'd', pullInterval: '1h' },
    });
    await waitForCd(
      admin,
      ns,
      'rbac',
      (c) => c.status?.sync?.status === 'Synced',
      `synced with the SA token; agent output: ${output.slice(-2000)}`,
    );
    assert.ok(await getObject(admin, `/apis/apps/v1/namespaces/${ns}/deployments/web`));
    const sha = await git.repos.commitFiles('rbac', 'main', { 'd/b.yaml': null }, 'drop b');
    await admin.rest.request({
      method: 'PATCH',
      path: `/apis/tidemark.dev/v1alpha1/namespaces/${ns}/continuousdeployments/rbac`,
      contentType: 'application/merge-patch+json',
      body: { metadata: { annotations: { 'tidemark.dev/requestedAt': 'now' } } },
    });
    await waitForCd(admin, ns, 'rbac', (c) => c.status?.lastAppliedRevision === `main@sha1:${sha}`, 'pruned');
    assert.equal(await getObject(admin, `/api/v1/namespaces/${ns}/configmaps/b`), undefined);
    const events = await admin.rest.request<{ items: Array<{ reason: string; involvedObject: { name: string } }> }>({
      method: 'GET',
      path: `/api/v1/namespaces/${ns}/events`,
    });
    assert.ok(
      events.items.some((e) => e.involvedObject.name === 'rbac' && e.reason === 'ReconciliationSucceeded'),
      'Events recorded with the SA token',
    );
    await admin.rest.request({
      method: 'DELETE',
      path: `/apis/tidemark.dev/v1alpha1/namespaces/${ns}/continuousdeployments/rbac`,
    });
    await waitFor(async () => (await getCd(admin, ns, 'rbac')) === undefined, { timeoutMs: 60_000, what: 'finalized' });
    assert.equal(await getObject(admin, `/api/v1/namespaces/${ns}/configmaps/a`), undefined);
    assert.doesNotMatch(output, /Forbidden/, 'no RBAC refusals in the agent log');
  });
});
