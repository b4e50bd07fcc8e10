import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AddressInfo } from 'node:net';
import { startImageUpdater, type RunningImageUpdater } from '../../image-updater/index.ts';
import { API_VERSION } from '../../shared/api/constants.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import { METRICS } from '../../shared/metrics/index.ts';
import { parseTextFormat, type MetricFamily, type Sample } from '../../shared/metrics/text-format.ts';
import type { AgentProcess } from '../harness/agent-process.ts';
import { startAgentProcess } from '../harness/agent-process.ts';
import { testCluster } from '../harness/cluster.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { startGitServers, type GitServers } from '../harness/git.ts';
import { configMapYaml } from '../harness/manifests.ts';
import { startRegistry, type TestRegistry } from '../harness/registry.ts';
import { waitFor } from '../harness/process.ts';
import { applyCd, condition, installCrds, testClient, testLogger, waitForCd } from '../harness/tidemark.ts';

const find = (families: Map<string, MetricFamily>, name: string, labels: Record<string, string>): Sample[] =>
  (families.get(name)?.samples ?? []).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));

/**
 * The agent as a Pod runs it, scraped at /metrics on its health port after a real sync (a file://
 * repository, the real API server), and read with the strict text-format reader: every family the
 * definitions name is there, with the labels they name and values the sync explains.
 */
describe('metrics: a real agent scraped at /metrics', () => {
  let cluster: ClusterAccess;
  let kube: KubeClient;
  let git: GitServers;
  let agent: AgentProcess;
  let ns: string;
  let apps: string;
  let cacheDir: string;

  before(async () => {
    cluster = await testCluster();
    await installCrds(cluster);
    kube = testClient(cluster);
    git = await startGitServers({ http: true });
    ns = await cluster.createNamespace('metrics');
    apps = await cluster.createNamespace('metrics-apps');
    cacheDir = await mkdtemp(join(tmpdir(), 'tidemark-metrics-'));
    agent = await startAgentProcess({ kubeconfig: cluster.kubeconfigPath, namespace: ns, cacheDir });
  });

  after(async () => {
    await agent?.stop();
    await git?.stop();
    await kube?.close();
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  });

  async function scrape(): Promise<{ families: Map<string, MetricFamily>; contentType: string | null }> {
    const res = await fetch(`${agent.healthUrl()}/metrics`);
    assert.equal(res.status, 200);
    return { families: parseTextFormat(await res.text()), contentType: res.headers.get('content-type') };
  }

  it('exposes every defined family, and the sync in reconciles, API requests, Git operations and the info gauge', async () => {
    await git.repos.createRepo('app', { 'deploy/settings.yaml': configMapYaml('settings', { color: 'blue' }) }, { branch: 'main' });
    await applyCd(kube, {
      metadata: { name: 'app', namespace: ns },
      spec: { url: git.repos.fileUrl('app'), git: { branch: 'main' }, path: 'deploy', pullInterval: '1h', targetNamespace: apps },
    });
    const cd = await waitForCd(kube, ns, 'app', (c) => condition(c, 'Ready')?.status === 'True', 'first sync');
    assert.ok(cd.status?.lastAppliedRevision);

    // The status (Ready) is written inside the reconcile; the runner counts the reconcile when it
    // returns, a moment later. Scrape until that count is in.
    let scraped = await scrape();
    const counted = (families: Map<string, MetricFamily>) =>
      find(families, 'tidemark_reconcile_total', { kind: 'ContinuousDeployment', result: 'success', reason: 'none' }).length > 0;
    await waitFor(
      async () => {
        scraped = await scrape();
        return counted(scraped.families);
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'the first reconcile counted' },
    ).catch(() => undefined);
    const { families, contentType } = scraped;
    assert.match(contentType ?? '', /^text\/plain; version=0\.0\.4/);
    for (const metric of Object.values(METRICS)) {
      const family = families.get(metric.name);
      assert.ok(family, `${metric.name} is exposed`);
      assert.equal(family.type, metric.type, metric.name);
      assert.equal(family.help, metric.help, metric.name);
      for (const sample of family.samples) {
        const labels = Object.keys(sample.labels).filter((l) => l !== 'le');
        assert.deepEqual(labels.sort(), [...metric.labels].sort(), `${sample.name} labels`);
      }
    }

    const successes = find(families, 'tidemark_reconcile_total', { kind: 'ContinuousDeployment', result: 'success', reason: 'none' });
    assert.ok((successes[0]?.value ?? 0) >= 1, `successful reconciles: ${JSON.stringify(successes)}`);
    const durations = find(families, 'tidemark_reconcile_duration_seconds', { kind: 'ContinuousDeployment' }).filter((s) =>
      s.name.endsWith('_count'),
    );
    const total = find(families, 'tidemark_reconcile_total', { kind: 'ContinuousDeployment' }).reduce((n, s) => n + s.value, 0);
    assert.equal(
      durations.reduce((n, s) => n + s.value, 0),
      total,
      'one duration per counted reconcile',
    );

    assert.deepEqual(find(families, 'tidemark_resource_info', { kind: 'ContinuousDeployment', name: 'app' }), [
      {
        name: 'tidemark_resource_info',
        labels: {
          kind: 'ContinuousDeployment',
          name: 'app',
          namespace: ns,
          ready: 'True',
          suspended: 'false',
          revision: cd.status?.sync?.revision ?? '',
        },
        value: 1,
      },
    ]);
    assert.match(find(families, 'tidemark_resource_info', { name: 'app' })[0]?.labels.revision ?? '', /^main@sha1:[0-9a-f]{40}$/);
    assert.deepEqual(
      find(families, 'tidemark_managed_objects', { name: 'app', namespace: ns }).map((s) => s.value),
      [1],
    );
    const waits = find(families, 'tidemark_queue_wait_seconds', { kind: 'ContinuousDeployment' }).filter((s) => s.name.endsWith('_count'));
    assert.ok((waits[0]?.value ?? 0) >= 1, `queue waits: ${JSON.stringify(waits)}`);

    // The apply is a server-side apply (PATCH) answered 200 or 201; the status write a PATCH too.
    const patches = find(families, 'tidemark_kube_requests_total', { verb: 'PATCH' }).filter((s) => s.labels.code?.startsWith('2'));
    assert.ok(patches.reduce((n, s) => n + s.value, 0) >= 2, JSON.stringify(patches));
    assert.ok((find(families, 'tidemark_kube_requests_total', { verb: 'WATCH', code: '200' })[0]?.value ?? 0) >= 1, 'watches counted');

    const fetches = find(families, 'tidemark_git_operations_total', { result: 'success' });
    assert.ok(
      fetches.some((s) => s.labels.operation === 'fetch' && s.value >= 1),
      `Git operations: ${JSON.stringify(families.get('tidemark_git_operations_total')?.samples)}`,
    );
    assert.deepEqual(find(families, 'tidemark_queue_depth', { kind: 'ContinuousDeployment' }).length, 1);
  });

  it('counts a failing sync under its Reason and drops the info series of a deleted deployment', async () => {
    await applyCd(kube, {
      metadata: { name: 'missing', namespace: ns },
      spec: { url: git.http!.url('no-such-repository'), path: '.', pullInterval: '1h', targetNamespace: apps },
    });
    const cd = await waitForCd(kube, ns, 'missing', (c) => condition(c, 'Ready')?.status === 'False', 'failed sync');
    const reason = condition(cd, 'Ready')?.reason ?? '';
    const { families } = await scrape();
    assert.deepEqual(
      find(families, 'tidemark_resource_info', { name: 'missing' }).map((s) => s.labels.ready),
      ['False'],
    );
    const gitFailures = find(families, 'tidemark_git_operations_total', { result: reason });
    assert.ok(
      gitFailures.length >= 1,
      `a Git operation failed with ${reason}: ${JSON.stringify(families.get('tidemark_git_operations_total')?.samples)}`,
    );

    await kube.rest.request({ method: 'DELETE', path: `/apis/tidemark.dev/v1alpha1/namespaces/${ns}/continuousdeployments/missing` });
    await waitFor(async () => find((await scrape()).families, 'tidemark_resource_info', { name: 'missing' }).length === 0, {
      timeoutMs: 30_000,
      what: 'the info series of the deleted deployment to go',
    });
  });
});

/**
 * The image updater serves the same endpoint: scraped in-process (its own registry is this test
 * process's) after a scan of the real test registry.
 */
describe('metrics: the image updater scraped at /metrics', () => {
  let cluster: ClusterAccess;
  let kube: KubeClient;
  let registry: TestRegistry;
  let updater: RunningImageUpdater | undefined;
  let ns = '';

  before(async () => {
    cluster = await testCluster();
    await installCrds(cluster);
    kube = testClient(cluster);
    ns = await cluster.createNamespace('metrics-images');
    registry = await startRegistry({ auth: 'none' });
    await registry.pushImage('team/app', ['1.0.0', '1.1.0']);
    updater = await startImageUpdater({
      kubeconfigPath: cluster.kubeconfigPath,
      namespace: ns,
      log: testLogger(),
      workers: 2,
      healthAddress: '127.0.0.1:0',
    });
  });

  after(async () => {
    await updater?.stop();
    await registry?.stop();
    await kube?.close();
  });

  it('counts registry requests by host and code, and the scan as a reconcile with its info series', async () => {
    await kube.rest.request({
      method: 'PATCH',
      path: `/apis/${API_VERSION}/namespaces/${ns}/imagerepositories/app`,
      query: { fieldManager: 'tidemark-test', force: true },
      contentType: 'application/apply-patch+yaml',
      body: {
        apiVersion: API_VERSION,
        kind: 'ImageRepository',
        metadata: { name: 'app', namespace: ns },
        spec: { image: `${registry.host}/team/app`, interval: '1h', insecure: true },
      },
    });
    const port = (updater?.healthServer?.address() as AddressInfo).port;
    const scrape = async () => {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(res.status, 200);
      return parseTextFormat(await res.text());
    };
    const info = () => scrape().then((f) => find(f, 'tidemark_resource_info', { kind: 'ImageRepository', name: 'app', namespace: ns }));
    await waitFor(async () => (await info())[0]?.labels.ready === 'True', { timeoutMs: 60_000, what: 'ImageRepository app Ready' });
    const families = await scrape();
    const ok = find(families, 'tidemark_registry_requests_total', { host: registry.host, code: '200' });
    assert.ok((ok[0]?.value ?? 0) >= 1, JSON.stringify(families.get('tidemark_registry_requests_total')?.samples));
    const scans = find(families, 'tidemark_reconcile_total', { kind: 'ImageRepository', result: 'success' });
    assert.ok((scans[0]?.value ?? 0) >= 1, JSON.stringify(scans));
    const timed = find(families, 'tidemark_scan_duration_seconds', { host: registry.host, result: 'success' }).filter((s) =>
      s.name.endsWith('_count'),
    );
    assert.ok((timed[0]?.value ?? 0) >= 1, `scan durations: ${JSON.stringify(timed)}`);
    assert.deepEqual(
      find(families, 'tidemark_image_tags', { name: 'app', namespace: ns }).map((s) => s.value),
      [2],
    );
  });
});
