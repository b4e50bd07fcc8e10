import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startAgent, type RunningAgent } from '../../agent/index.ts';
import { startImageUpdater, type RunningImageUpdater } from '../../image-updater/index.ts';
import { startNotification, webhookPath, type RunningNotification } from '../../notification/index.ts';
import { API_VERSION, Annotations } from '../../shared/api/constants.ts';
import type { ImageRepositoryStatus } from '../../shared/api/image.ts';
import type { ReceiverStatus } from '../../shared/api/receiver.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { registry as metrics } from '../../shared/metrics/index.ts';
import { parseTextFormat } from '../../shared/metrics/text-format.ts';
import { testCluster } from '../harness/cluster.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { startGitServers, type GitServers } from '../harness/git.ts';
import { freePort } from '../harness/ports.ts';
import { waitFor } from '../harness/process.ts';
import { startRegistry, type TestRegistry } from '../harness/registry.ts';
import { applyCd, getCd, installCrds, testClient, testLogger, waitForCd } from '../harness/tidemark.ts';

/*
 * Issue 14, webhook receivers on the real servers: docker-registry posts its notifications to a
 * distribution Receiver, a signed GitHub push event is posted to a github Receiver, and the image
 * updater and the agent (both with hour-long intervals) act on the annotation the receiver writes.
 */

const TOKEN = 'receiver-test-token-0123456789abcdef';
const WAIT_MS = 30_000;
const ROUNDS = 3;

type Repo = KubeObject & { status?: ImageRepositoryStatus };
type ReceiverObject = KubeObject & { status?: ReceiverStatus };

const configMap = (name: string, value: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  value: "${value}"\n`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

describe('webhook receivers: a real registry and a signed GitHub call ask for work now', () => {
  let cluster: ClusterAccess;
  let kube: KubeClient;
  let registry: TestRegistry | undefined;
  let git: GitServers | undefined;
  let notification: RunningNotification | undefined;
  let updater: RunningImageUpdater | undefined;
  let agent: RunningAgent | undefined;
  let ns = '';
  let apps = '';
  let cacheDir = '';
  let receiverUrl = '';

  const path = (kind: string, name: string) => `/apis/${API_VERSION}/namespaces/${ns}/${kind}/${name}`;
  const apply = (plural: string, kind: string, name: string, spec: Record<string, unknown>) =>
    kube.rest.request({
      method: 'PATCH',
      path: path(plural, name),
      query: { fieldManager: 'tidemark-test', force: true },
      contentType: 'application/apply-patch+yaml',
      body: { apiVersion: API_VERSION, kind, metadata: { name, namespace: ns }, spec },
    });
  const getRepo = (name: string) => kube.rest.request<Repo>({ method: 'GET', path: path('imagerepositories', name) });
  const webhookCount = async (receiver: string, result: string) => {
    const samples = parseTextFormat(await metrics.metrics()).get('tidemark_webhook_requests_total')?.samples ?? [];
    return samples.find((s) => s.labels.receiver === `${ns}/${receiver}` && s.labels.result === result)?.value ?? 0;
  };
  const post = (receiver: string, body: string, headers: Record<string, string>) =>
    fetch(`${receiverUrl}${webhookPath(TOKEN, receiver, ns)}`, { method: 'POST', body, headers });

  before(async () => {
    cluster = await testCluster();
    await installCrds(cluster);
    kube = testClient(cluster);
    ns = await cluster.createNamespace('receivers');
    apps = await cluster.createNamespace('receivers-apps');
    await kube.rest.request({
      method: 'POST',
      path: `/api/v1/namespaces/${ns}/secrets`,
      body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'webhook-token' }, stringData: { token: TOKEN } },
    });
    const secretRef = { name: 'webhook-token' };
    await apply('receivers', 'Receiver', 'registry', {
      type: 'distribution',
      secretRef,
      resources: [{ kind: 'ImageRepository', name: '*' }],
    });
    await apply('receivers', 'Receiver', 'github', {
      type: 'github',
      events: ['push'],
      secretRef,
      resources: [{ kind: 'ContinuousDeployment', name: 'web' }],
    });
    await apply('receivers', 'Receiver', 'hmac', {
      type: 'generic-hmac',
      secretRef,
      resources: [{ kind: 'ContinuousDeployment', name: 'web' }],
    });
    const port = await freePort();
    notification = await startNotification({
      kubeconfigPath: cluster.kubeconfigPath,
      namespace: ns,
      receiverAddress: `127.0.0.1:${port}`,
      log: testLogger(),
    });
    receiverUrl = notification.receiverUrl;
    for (const name of ['registry', 'github', 'hmac']) {
      await waitFor(
        async () => {
          const receiver = await kube.rest.request<ReceiverObject>({ method: 'GET', path: path('receivers', name) });
          return receiver.status?.webhookPath === webhookPath(TOKEN, name, ns);
        },
        { timeoutMs: WAIT_MS, what: `Receiver ${name} serves its path` },
      );
    }
    registry = await startRegistry({ notifications: { url: `${receiverUrl}${webhookPath(TOKEN, 'registry', ns)}` } });
    git = await startGitServers({ http: false, ssh: false });
    cacheDir = await mkdtemp(join(tmpdir(), 'tidemark-receivers-agent-'));
    updater = await startImageUpdater({ kubeconfigPath: cluster.kubeconfigPath, namespace: ns, log: testLogger(), workers: 2 });
    agent = await startAgent({
      kubeconfigPath: cluster.kubeconfigPath,
      namespace: ns,
      cacheDir,
      log: testLogger(),
      allowLocalGit: true,
      workers: 2,
    });
  });

  after(async () => {
    await agent?.stop();
    await updater?.stop();
    await registry?.stop();
    await notification?.stop();
    await git?.stop();
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
    if (ns) await cluster.deleteNamespace(ns);
    if (apps) await cluster.deleteNamespace(apps);
    await kube?.close();
  });

  it('a tag pushed to the registry is scanned at once, an hour before the interval', async (t) => {
    const reg = registry as TestRegistry;
    await reg.pushImage('team/app', ['0.1.0'], { label: 'first' });
    await apply('imagerepositories', 'ImageRepository', 'app', { image: `${reg.host}/team/app`, interval: '1h', insecure: true });
    let repo = await getRepo('app');
    await waitFor(async () => (repo = await getRepo('app')).status?.lastScanResult?.tagCount === 1, {
      timeoutMs: WAIT_MS,
      what: 'first scan',
    });
    const toAnnotation: number[] = [];
    const toScan: number[] = [];
    for (let i = 1; i <= ROUNDS; i++) {
      const before = repo.metadata.annotations?.[Annotations.requestedAt];
      await reg.pushImage('team/app', [`0.${i + 1}.0`], { label: `round-${i}` });
      const pushed = performance.now();
      let annotated: number | undefined;
      await waitFor(
        async () => {
          repo = await getRepo('app');
          if (annotated === undefined && repo.metadata.annotations?.[Annotations.requestedAt] !== before) annotated = performance.now();
          return repo.status?.lastScanResult?.tagCount === i + 1;
        },
        { timeoutMs: WAIT_MS, intervalMs: 10, what: `scan of the push of 0.${i + 1}.0` },
      );
      const scanned = performance.now();
      toAnnotation.push((annotated ?? scanned) - pushed);
      toScan.push(scanned - pushed);
      assert.equal(
        repo.status?.lastHandledRequestedAt,
        repo.metadata.annotations?.[Annotations.requestedAt],
        'the scan answered the request',
      );
    }
    t.diagnostic(
      `tag push → requestedAt: median ${median(toAnnotation).toFixed(0)} ms (${toAnnotation.map((v) => v.toFixed(0)).join(', ')}); ` +
        `tag push → scan written: median ${median(toScan).toFixed(0)} ms (${toScan.map((v) => v.toFixed(0)).join(', ')})`,
    );
  });

  it('a push of another image asks for nothing', async () => {
    const reg = registry as TestRegistry;
    const repoBefore = await getRepo('app');
    const unmatched = await webhookCount('registry', 'unmatched');
    const accepted = await webhookCount('registry', 'accepted');
    await reg.pushImage('team/other', ['1.0.0'], { label: 'other' });
    // The registry's call for that push has been answered: it selected nothing.
    await waitFor(async () => (await webhookCount('registry', 'unmatched')) > unmatched, {
      timeoutMs: WAIT_MS,
      what: 'the registry posted the push of team/other',
    });
    const repoAfter = await getRepo('app');
    assert.equal(await webhookCount('registry', 'accepted'), accepted);
    assert.equal(repoAfter.metadata.annotations?.[Annotations.requestedAt], repoBefore.metadata.annotations?.[Annotations.requestedAt]);
    assert.equal(repoAfter.status?.lastScanResult?.scanTime, repoBefore.status?.lastScanResult?.scanTime);
  });

  it('a Git push and a signed GitHub push event sync a ContinuousDeployment an hour before its pullInterval', async (t) => {
    const repos = (git as GitServers).repos;
    const first = await repos.createRepo('web', { 'deploy/cm.yaml': configMap('web', 'v0') }, { branch: 'main' });
    await applyCd(kube, {
      metadata: { name: 'web', namespace: ns },
      spec: { url: repos.fileUrl('web'), path: 'deploy', targetNamespace: apps, pullInterval: '1h' },
    });
    await waitForCd(
      kube,
      ns,
      'web',
      (c) => c.status?.sync?.revision === `main@sha1:${first}` && c.status.sync.status === 'Synced',
      'first sync',
    );
    const latencies: number[] = [];
    for (let i = 1; i <= ROUNDS; i++) {
      const sha = await repos.commitFiles('web', 'main', { 'deploy/cm.yaml': configMap('web', `v${i}`) }, `round ${i}`);
      const pushed = performance.now();
      const body = JSON.stringify({ ref: 'refs/heads/main', after: sha, repository: { full_name: 'org/web' } });
      const signature = createHmac('sha256', TOKEN).update(body).digest('hex');
      const res = await post('github', body, {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-github-delivery': `delivery-${i}-${sha}`,
        'x-hub-signature-256': `sha256=${signature}`,
      });
      assert.equal(res.status, 200, await res.text());
      await waitForCd(
        kube,
        ns,
        'web',
        (c) => c.status?.sync?.revision === `main@sha1:${sha}` && c.status.sync.status === 'Synced',
        `sync of round ${i}`,
        WAIT_MS,
      );
      latencies.push(performance.now() - pushed);
    }
    t.diagnostic(`git push → synced: median ${median(latencies).toFixed(0)} ms (${latencies.map((v) => v.toFixed(0)).join(', ')})`);
  });

  it('a forged call is refused with 401 and changes nothing', async () => {
    const before = (await getCd(kube, ns, 'web'))?.metadata.annotations?.[Annotations.requestedAt];
    const body = JSON.stringify({ ref: 'refs/heads/main' });
    const forgedGithub = await post('github', body, {
      'x-github-event': 'push',
      'x-github-delivery': 'forged-1',
      'x-hub-signature-256': `sha256=${createHmac('sha256', 'not-the-token').update(body).digest('hex')}`,
    });
    assert.equal(forgedGithub.status, 401);
    await forgedGithub.text();
    const forgedHmac = await post('hmac', body, { 'x-signature': `sha256=${createHmac('sha256', 'guess').update(body).digest('hex')}` });
    assert.equal(forgedHmac.status, 401);
    await forgedHmac.text();
    const unsigned = await post('hmac', body, {});
    assert.equal(unsigned.status, 401);
    await unsigned.text();
    // The receiver answers only after it has patched: a refused call had nothing to patch.
    assert.equal((await getCd(kube, ns, 'web'))?.metadata.annotations?.[Annotations.requestedAt], before);
    assert.ok((await webhookCount('hmac', 'unauthorized')) >= 2);

    // The same call signed with the token is accepted: the refusals were about the signature.
    const good = await post('hmac', body, { 'x-signature': `sha256=${createHmac('sha256', TOKEN).update(body).digest('hex')}` });
    assert.equal(good.status, 200, await good.text());
    assert.notEqual((await getCd(kube, ns, 'web'))?.metadata.annotations?.[Annotations.requestedAt], before);
  });
});
