import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { API_VERSION } from '../../shared/api/constants.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import { parseDuration } from '../../shared/time/duration.ts';
import { startImageUpdater, type RunningImageUpdater } from '../../image-updater/index.ts';
import { startAgent, type RunningAgent } from '../../agent/index.ts';
import { testCluster } from '../harness/cluster.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { startGitServers, type GitServers, type LogEntry } from '../harness/git.ts';
import { waitFor } from '../harness/process.ts';
import { startRegistry, type TestRegistry } from '../harness/registry.ts';
import { applyCd, getObject, installCrds, testClient, testLogger } from '../harness/tidemark.ts';

/*
 * Issue 17 part 2: the seed's inline block without an `interval` of its own scans the registry
 * at the deployment's pullInterval, as KubeVela's component does; before, it scanned every 5
 * minutes whatever pullInterval said. A short pullInterval keeps the test fast; the claim is
 * the seed's ("a second tag within two pull intervals"), scaled down.
 */

// Short for a fast test, yet long against the few seconds one update takes here (scan, clone,
// rewrite, push, apply), so the bound tests the schedule and not the machine's load.
/** TIDEMARK_SEED_PULL_INTERVAL=1m runs the seed's own figure (a second tag within two minutes). */
const PULL_INTERVAL = process.env['TIDEMARK_SEED_PULL_INTERVAL'] || '15s';
const PULL_MS = parseDuration(PULL_INTERVAL);
const WAIT_MS = Math.max(120_000, 3 * PULL_MS);
const REPO = 'team/interval-app';

function masterTag(i: number): string {
  const sha = createHash('sha1').update(`interval-${i}`).digest('hex').slice(0, 7);
  return `master-${sha}-${1_700_000_000 + i * 60}`;
}

const appManifest = (ns: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: my-app
spec:
  replicas: 1
  selector:
    matchLabels:
      app: my-app
  template:
    metadata:
      labels:
        app: my-app
    spec:
      containers:
        - name: my-app
          image: nginx # {"$imagepolicy": "${ns}:image-gitops"}
`;

describe('image automation: every interval follows pullInterval', () => {
  let cluster: ClusterAccess;
  let kube: KubeClient;
  let registry: TestRegistry;
  let git: GitServers;
  let updater: RunningImageUpdater | undefined;
  let agent: RunningAgent | undefined;
  let ns = '';
  let apps = '';
  let cacheDir = '';
  let image = '';

  before(async () => {
    cluster = await testCluster();
    await installCrds(cluster);
    kube = testClient(cluster);
    ns = await cluster.createNamespace('image-interval');
    apps = await cluster.createNamespace('image-interval-apps');
    registry = await startRegistry({ auth: 'none' });
    image = `${registry.host}/${REPO}`;
    git = await startGitServers({ http: true, ssh: false });
    cacheDir = await mkdtemp(join(tmpdir(), 'tidemark-interval-agent-'));
    await kube.rest.request({
      method: 'POST',
      path: `/api/v1/namespaces/${ns}/secrets`,
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'git-writer' },
        stringData: { username: git.http!.writer.username, password: git.http!.writer.password },
      },
    });
    updater = await startImageUpdater({
      kubeconfigPath: cluster.kubeconfigPath,
      namespace: ns,
      log: testLogger(),
      allowLocalGit: true,
      workers: 2,
    });
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
    await git?.stop();
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
    if (ns) await cluster.deleteNamespace(ns);
    if (apps) await cluster.deleteNamespace(apps);
    await kube?.close();
  });

  const waitForLog = async (count: number, what: string): Promise<LogEntry[]> => {
    let log: LogEntry[] = [];
    try {
      await waitFor(async () => (log = await git.repos.readLog('interval-gitops', 'image')).length === count, {
        timeoutMs: WAIT_MS,
        intervalMs: 100,
        what,
      });
    } catch (err) {
      throw new Error(`${(err as Error).message}; log: ${JSON.stringify(log.map((e) => e.message))}`, { cause: err });
    }
    return log;
  };
  const deployedImage = async () => {
    const deployment = await getObject(kube, `/apis/apps/v1/namespaces/${apps}/deployments/my-app`);
    return (deployment?.spec as { template: { spec: { containers: Array<{ image: string }> } } } | undefined)?.template.spec.containers[0]
      ?.image;
  };
  const waitForImage = (expected: string) =>
    waitFor(async () => (await deployedImage()) === expected, {
      timeoutMs: WAIT_MS,
      intervalMs: 100,
      what: `Deployment image ${expected}`,
    });

  it(`the seed's block, no interval of its own: a tag pushed after the first update is deployed within two pull intervals`, async () => {
    await git.repos.createRepo('interval-gitops', { 'application/my-app.yaml': appManifest(ns) }, { branch: 'image' });
    const first = masterTag(1);
    await registry.pushImage(REPO, [first]);
    await applyCd(kube, {
      metadata: { name: 'image-gitops', namespace: ns },
      spec: {
        repoType: 'git',
        url: git.http!.url('interval-gitops'),
        secretRef: 'git-writer',
        pullInterval: PULL_INTERVAL,
        git: { branch: 'image' },
        path: './application',
        targetNamespace: apps,
        // The seed's block: no interval of its own.
        imageRepository: {
          image,
          insecure: true,
          filterTags: { pattern: '^master-[a-f0-9]+-(?P<ts>[0-9]+)', extract: '$ts' },
          policy: { numerical: { order: 'asc' } },
          commitMessage: 'Image: {{range .Updated.Images}}{{println .}}{{end}}',
        },
      },
    });
    await waitForLog(2, 'the first bot commit');
    await waitForImage(`${image}:${first}`);

    // The derived objects as the cluster stores them: both run at pullInterval.
    const derived = async (plural: string) =>
      (await getObject(kube, `/apis/${API_VERSION}/namespaces/${ns}/${plural}/image-gitops`))?.spec as { interval?: string } | undefined;
    assert.equal((await derived('imagerepositories'))?.interval, PULL_INTERVAL);
    assert.equal((await derived('imageupdateautomations'))?.interval, PULL_INTERVAL);

    const second = masterTag(2);
    await registry.pushImage(REPO, [second]);
    const pushedAt = Date.now();
    const log = await waitForLog(3, 'the second bot commit');
    const committedMs = Date.now() - pushedAt;
    assert.equal(log[0]?.message, `Update image automatically.\nImage: ${image}:${second}`);
    await waitForImage(`${image}:${second}`);
    const deployedMs = Date.now() - pushedAt;
    // The waits above end on the event; only the elapsed time is compared with the claim.
    process.stdout.write(`# second tag: committed after ${committedMs} ms, deployed after ${deployedMs} ms (pullInterval ${PULL_MS} ms)\n`);
    assert.ok(committedMs <= 2 * PULL_MS, `second bot commit after ${committedMs} ms, more than two pull intervals (${2 * PULL_MS} ms)`);
    assert.ok(deployedMs <= 2 * PULL_MS, `new image deployed after ${deployedMs} ms, more than two pull intervals (${2 * PULL_MS} ms)`);
  });
});
