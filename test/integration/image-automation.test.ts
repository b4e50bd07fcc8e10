import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { API_VERSION } from '../../shared/api/constants.ts';
import type { Condition } from '../../shared/conditions/index.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { startImageUpdater, type ImageUpdateAutomationStatus, type RunningImageUpdater } from '../../image-updater/index.ts';
import { startAgent, type RunningAgent } from '../../agent/index.ts';
import { testCluster } from '../harness/cluster.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { startGitServers, type GitServers, type LogEntry } from '../harness/git.ts';
import { waitFor } from '../harness/process.ts';
import { startRegistry, type TestRegistry } from '../harness/registry.ts';
import { applyCd, getCd, getObject, installCrds, listEvents, testClient, testLogger, waitForEvent } from '../harness/tidemark.ts';

/**
 * Seed 003 end to end, with nothing mocked: tags pushed to a real registry are scanned by the
 * image updater, the automation rewrites the marked value in a real Git repository (smart HTTP
 * with a read-write user, and SSH), pushes a bot commit, asks the ContinuousDeployment to sync,
 * and the agent applies the new image to the real control plane.
 */

const WAIT_MS = 120_000;
const REPO = 'team/app';
const BASE_TS = 1_700_000_000;
const SEED_MESSAGE = 'Image: {{range .Updated.Images}}{{println .}}{{end}}';

function masterTag(i: number): string {
  const sha = createHash('sha1').update(`commit-${i}`).digest('hex').slice(0, 7);
  return `master-${sha}-${BASE_TS + i * 60}`;
}

const appManifest = (ns: string, policy: string, image = 'nginx') => `apiVersion: apps/v1
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
          image: ${image} # {"$imagepolicy": "${ns}:${policy}"}
`;

type Obj<S> = KubeObject & { status?: S };
const automationPath = (ns: string, name: string) => `/apis/${API_VERSION}/namespaces/${ns}/imageupdateautomations/${name}`;
const conditionOf = (status: { conditions?: Condition[] } | undefined, type: string) => status?.conditions?.find((c) => c.type === type);

/** The one line a bot commit may change, as `git diff` would show it. */
function changedLines(before: string, after: string): Array<[string, string]> {
  const a = before.split('\n');
  const b = after.split('\n');
  assert.equal(a.length, b.length, 'no lines added or removed');
  return a.flatMap((line, i) => (line === b[i] ? [] : [[line, b[i] as string] as [string, string]]));
}

describe('image automation: seed 003 end to end', () => {
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
    ns = await cluster.createNamespace('image-automation');
    apps = await cluster.createNamespace('image-automation-apps');
    registry = await startRegistry({ auth: 'none' });
    image = `${registry.host}/${REPO}`;
    git = await startGitServers({ http: true, ssh: true });
    cacheDir = await mkdtemp(join(tmpdir(), 'tidemark-automation-agent-'));
    const secret = async (name: string, data: Record<string, string>) =>
      kube.rest.request({
        method: 'POST',
        path: `/api/v1/namespaces/${ns}/secrets`,
        body: { apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData: data },
      });
    await secret('git-writer', { username: git.http!.writer.username, password: git.http!.writer.password });
    await secret('git-reader', { username: git.http!.reader.username, password: git.http!.reader.password });
    await secret('git-ssh', { identity: git.ssh!.privateKey, known_hosts: git.ssh!.knownHosts });
    updater = await startImageUpdater({
      allowLocalGit: true,
      kubeconfigPath: cluster.kubeconfigPath,
      namespace: ns,
      log: testLogger(),
      workers: 2,
    });
    agent = await startAgent({
      allowLocalGit: true,
      kubeconfigPath: cluster.kubeconfigPath,
      namespace: ns,
      cacheDir,
      log: testLogger(),
      workers: 2,
    });
  });

  after(async () => {
    git?.http?.setBeforeRequest(undefined);
    await agent?.stop();
    await updater?.stop();
    await registry?.stop();
    await git?.stop();
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
    if (ns) await cluster.deleteNamespace(ns);
    if (apps) await cluster.deleteNamespace(apps);
    await kube?.close();
  });

  const inlineBlock = (extra: Record<string, unknown> = {}) => ({
    image,
    insecure: true,
    interval: '2s',
    filterTags: { pattern: '^master-[a-f0-9]+-(?P<ts>[0-9]+)', extract: '$ts' },
    policy: { numerical: { order: 'asc' } },
    commitMessage: SEED_MESSAGE,
    ...extra,
  });

  async function waitForAutomation(
    name: string,
    check: (status: ImageUpdateAutomationStatus) => boolean,
    what: string,
  ): Promise<ImageUpdateAutomationStatus> {
    let last: Obj<ImageUpdateAutomationStatus> | undefined;
    try {
      await waitFor(
        async () => {
          last = await getObject(kube, automationPath(ns, name));
          return last?.status !== undefined && check(last.status);
        },
        { timeoutMs: WAIT_MS, intervalMs: 200, what },
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; last status: ${JSON.stringify(last?.status ?? null)}`, { cause: err });
    }
    return last?.status as ImageUpdateAutomationStatus;
  }

  async function waitForLog(repo: string, branch: string, check: (log: LogEntry[]) => boolean, what: string): Promise<LogEntry[]> {
    let log: LogEntry[] = [];
    try {
      await waitFor(
        async () => {
          log = await git.repos.readLog(repo, branch);
          return check(log);
        },
        { timeoutMs: WAIT_MS, intervalMs: 200, what },
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; log: ${JSON.stringify(log.map((e) => e.message))}`, { cause: err });
    }
    return log;
  }

  async function deployedImage(): Promise<string | undefined> {
    const deployment = await getObject(kube, `/apis/apps/v1/namespaces/${apps}/deployments/my-app`);
    const spec = deployment?.spec as { template?: { spec?: { containers?: Array<{ image?: string }> } } } | undefined;
    return spec?.template?.spec?.containers?.[0]?.image;
  }

  async function waitForDeployedImage(expected: string): Promise<void> {
    let last: string | undefined;
    try {
      await waitFor(async () => (last = await deployedImage()) === expected, {
        timeoutMs: WAIT_MS,
        intervalMs: 200,
        what: `Deployment image ${expected}`,
      });
    } catch (err) {
      throw new Error(`${(err as Error).message}; deployed: ${last}`, { cause: err });
    }
  }

  it("a new master-<sha>-<ts> tag becomes a bot commit with the seed's message, and the agent applies it", async () => {
    const original = appManifest(ns, 'image-gitops');
    const marker = `# {"$imagepolicy": "${ns}:no-such-policy"}`;
    const extra = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  image: nginx ${marker}\n`;
    const base = await git.repos.createRepo(
      'kubevela-gitops',
      { 'application/my-app.yaml': original, 'application/extra.yaml': extra, 'README.md': 'demo\n' },
      { branch: 'image' },
    );
    const first = masterTag(1);
    await registry.pushImage(REPO, [masterTag(0), first, 'latest', 'feature-x-1800000000']);

    await applyCd(kube, {
      metadata: { name: 'image-gitops', namespace: ns },
      spec: {
        repoType: 'git',
        url: git.http!.url('kubevela-gitops'),
        secretRef: 'git-writer',
        pullInterval: '1h',
        git: { branch: 'image' },
        path: './application',
        targetNamespace: apps,
        imageRepository: inlineBlock(),
      },
    });

    const log = await waitForLog('kubevela-gitops', 'image', (l) => l.length === 2, 'the bot commit');
    const bot = log[0] as LogEntry;
    assert.equal(bot.message, `Update image automatically.\nImage: ${image}:${first}`);
    assert.ok(bot.message.startsWith('Update image automatically.'));
    assert.equal(bot.authorName, 'tidemark-bot');
    assert.deepEqual(bot.files, ['application/my-app.yaml']);
    assert.equal(log[1]?.sha, base);
    const updated = await git.repos.readFile('kubevela-gitops', 'image', 'application/my-app.yaml');
    assert.deepEqual(changedLines(original, updated ?? ''), [
      [
        `          image: nginx # {"$imagepolicy": "${ns}:image-gitops"}`,
        `          image: ${image}:${first} # {"$imagepolicy": "${ns}:image-gitops"}`,
      ],
    ]);

    const status = await waitForAutomation(
      'image-gitops',
      (s) => s.lastPushCommit === bot.sha && conditionOf(s, 'Ready')?.status === 'True',
      'automation reports the push',
    );
    assert.deepEqual(status.observedPolicies, { [`${ns}/image-gitops`]: { name: image, tag: first } });
    const markers = conditionOf(status, 'MarkersResolved');
    assert.deepEqual([markers?.status, markers?.reason], ['False', 'MarkerUnknownPolicy']);
    assert.match(markers?.message ?? '', /application\/extra\.yaml:6: .*no-such-policy/);
    await waitForEvent(
      kube,
      ns,
      'image-gitops',
      (e) => e.reason === 'PushSucceeded' && e.message.includes(bot.sha.slice(0, 12)),
      'the push Event',
    );
    await waitForEvent(kube, ns, 'image-gitops', (e) => e.type === 'Warning' && e.reason === 'MarkerUnknownPolicy', 'the marker Event');

    // The agent saw the push in the automation's status and applies the bot commit without waiting
    // its hour; the updater never wrote the ContinuousDeployment.
    await waitForDeployedImage(`${image}:${first}`);
    const cd = await getCd(kube, ns, 'image-gitops');
    assert.equal(cd?.metadata.annotations?.['tidemark.dev/requestedAt'], undefined, 'the updater wrote no sync request');

    // A newer tag: one more bot commit, one more value changed, applied again.
    const second = masterTag(2);
    await registry.pushImage(REPO, [second]);
    const log2 = await waitForLog('kubevela-gitops', 'image', (l) => l.length === 3, 'the second bot commit');
    assert.equal(log2[0]?.message, `Update image automatically.\nImage: ${image}:${second}`);
    assert.deepEqual(changedLines(updated ?? '', (await git.repos.readFile('kubevela-gitops', 'image', 'application/my-app.yaml')) ?? ''), [
      [
        `          image: ${image}:${first} # {"$imagepolicy": "${ns}:image-gitops"}`,
        `          image: ${image}:${second} # {"$imagepolicy": "${ns}:image-gitops"}`,
      ],
    ]);
    await waitForDeployedImage(`${image}:${second}`);
  });

  it('a human push during the update ends with both commits in history', async () => {
    const repo = 'kubevela-gitops';
    let human: string | undefined;
    git.http!.setBeforeRequest(async (req) => {
      // Right before the bot's pack reaches the server, someone else pushes.
      if (req.method === 'POST' && req.service === 'git-receive-pack' && req.path.includes(repo) && human === undefined) {
        human = await git.repos.commitFiles(repo, 'image', { 'README.md': 'demo, edited by a human\n' }, 'docs: a human edit');
      }
    });
    try {
      const third = masterTag(3);
      await registry.pushImage(REPO, [third]);
      const log = await waitForLog(
        repo,
        'image',
        (l) => l[0]?.message === `Update image automatically.\nImage: ${image}:${third}`,
        'the bot commit after the race',
      );
      assert.ok(human, "the human push happened during the bot's push");
      assert.equal(log[1]?.sha, human, 'the bot commit sits on top of the human one');
      assert.equal(log[1]?.message, 'docs: a human edit');
      assert.deepEqual(log[0]?.files, ['application/my-app.yaml']);
      assert.equal(await git.repos.readFile(repo, 'image', 'README.md'), 'demo, edited by a human\n');
      assert.match(
        (await git.repos.readFile(repo, 'image', 'application/my-app.yaml')) ?? '',
        new RegExp(`image: ${image.replace(/[.]/g, '\\.')}:${third} #`),
      );
      await waitForDeployedImage(`${image}:${third}`);
    } finally {
      git.http!.setBeforeRequest(undefined);
    }
  });

  it('a read-only credential is a clear terminal error and nothing is lost', async () => {
    const original = appManifest(ns, 'readonly');
    const base = await git.repos.createRepo('readonly', { 'deploy/app.yaml': original }, { branch: 'main' });
    await applyCd(kube, {
      metadata: { name: 'readonly', namespace: ns },
      spec: {
        url: git.http!.url('readonly'),
        secretRef: 'git-reader',
        pullInterval: '1h',
        git: { branch: 'main' },
        path: './deploy',
        targetNamespace: apps,
        suspend: true,
        imageRepository: inlineBlock(),
      },
    });
    const status = await waitForAutomation('readonly', (s) => conditionOf(s, 'Ready')?.status === 'False', 'read-only credential reported');
    const ready = conditionOf(status, 'Ready');
    assert.equal(ready?.reason, 'GitPermissionDenied');
    assert.match(ready?.message ?? '', /push/);
    assert.equal(conditionOf(status, 'Stalled')?.status, 'True', 'terminal');
    assert.equal(status.lastPushCommit, undefined);
    assert.equal(await git.repos.head('readonly', 'main'), base, 'nothing pushed');
    assert.equal(await git.repos.readFile('readonly', 'main', 'deploy/app.yaml'), original);
    const everything = JSON.stringify([status, await listEvents(kube, ns, 'readonly')]);
    assert.doesNotMatch(everything, new RegExp(git.http!.reader.password));
  });

  it('over SSH, a separate push branch is rebuilt from the base head each run and force-pushed with a lease', async () => {
    const original = appManifest(ns, 'pr-policy');
    await git.repos.createRepo('pull-requests', { 'apps/app.yaml': original, 'README.md': 'v1\n' }, { branch: 'main' });
    const apply = (plural: string, kind: string, name: string, spec: Record<string, unknown>) =>
      kube.rest.request({
        method: 'PATCH',
        path: `/apis/${API_VERSION}/namespaces/${ns}/${plural}/${name}`,
        query: { fieldManager: 'tidemark-test', force: true },
        contentType: 'application/apply-patch+yaml',
        body: { apiVersion: API_VERSION, kind, metadata: { name, namespace: ns }, spec },
      });
    await applyCd(kube, {
      metadata: { name: 'pr-source', namespace: ns },
      spec: {
        url: git.ssh!.url('pull-requests'),
        secretRef: 'git-ssh',
        pullInterval: '1h',
        git: { branch: 'main' },
        path: './apps',
        targetNamespace: apps,
        suspend: true,
      },
    });
    await apply('imagerepositories', 'ImageRepository', 'pr-repo', { image, insecure: true, interval: '2s' });
    await apply('imagepolicies', 'ImagePolicy', 'pr-policy', {
      imageRepositoryRef: { name: 'pr-repo' },
      filterTags: { pattern: '^master-[a-f0-9]+-(?P<ts>[0-9]+)', extract: '$ts' },
      policy: { numerical: { order: 'asc' } },
    });
    await apply('imageupdateautomations', 'ImageUpdateAutomation', 'pr', {
      sourceRef: { kind: 'ContinuousDeployment', name: 'pr-source' },
      interval: '1h',
      git: {
        checkout: { ref: { branch: 'main' } },
        push: { branch: 'tidemark/image-updates' },
        commit: {
          author: { name: 'Release Bot', email: 'release-bot@example.test' },
          messageTemplate: '{{range .Changed.Changes}}{{.OldValue}} -> {{.NewValue}}{{end}}',
        },
      },
      update: { path: './apps', strategy: 'Setters' },
    });

    const latest = `${image}:${masterTag(3)}`;
    const botLog = await waitForLog('pull-requests', 'tidemark/image-updates', (l) => l.length === 2, 'the bot branch');
    assert.equal(botLog[0]?.message, `Update image automatically.\nnginx -> ${latest}`);
    assert.equal(botLog[0]?.authorName, 'Release Bot');
    assert.equal((await git.repos.readLog('pull-requests', 'main')).length, 1, 'the base branch gets no bot commit');
    const cd = await getCd(kube, ns, 'pr-source');
    assert.equal(cd?.metadata.annotations?.['tidemark.dev/requestedAt'], undefined, 'no sync asked: the deployed branch did not change');

    // The base moves on; the next run rebuilds the bot branch on it instead of leaving it behind.
    const moved = await git.repos.commitFiles('pull-requests', 'main', { 'README.md': 'v2\n' }, 'base moves');
    await kube.rest.request({
      method: 'PATCH',
      path: automationPath(ns, 'pr'),
      contentType: 'application/merge-patch+json',
      body: { metadata: { annotations: { 'tidemark.dev/requestedAt': 'base-moved' } } },
    });
    const rebuilt = await waitForLog(
      'pull-requests',
      'tidemark/image-updates',
      (l) => l[1]?.sha === moved,
      'the bot branch rebuilt on the new base',
    );
    assert.deepEqual(
      rebuilt.map((e) => e.message),
      [`Update image automatically.\nnginx -> ${latest}`, 'base moves', 'Initial commit'],
    );
    const status = await waitForAutomation('pr', (s) => s.lastHandledRequestedAt === 'base-moved', 'the requested run');
    assert.equal(status.lastPushCommit, rebuilt[0]?.sha);

    // A template that fails while rendering: a condition, and nothing committed.
    const base = await git.repos.createRepo('templated', { 'apps/app.yaml': appManifest(ns, 'pr-policy') }, { branch: 'main' });
    await applyCd(kube, {
      metadata: { name: 'templated', namespace: ns },
      spec: {
        url: git.http!.url('templated'),
        secretRef: 'git-writer',
        pullInterval: '1h',
        git: { branch: 'main' },
        path: './apps',
        suspend: true,
      },
    });
    await apply('imageupdateautomations', 'ImageUpdateAutomation', 'templated', {
      sourceRef: { name: 'templated' },
      interval: '1h',
      git: { commit: { author: { email: 'bot@example.test' }, messageTemplate: 'Images: {{.Updated.Nope.Deeper}}' } },
    });
    const failed = await waitForAutomation('templated', (s) => conditionOf(s, 'Ready')?.status === 'False', 'template failure reported');
    assert.equal(conditionOf(failed, 'Ready')?.reason, 'CommitTemplateFailed');
    assert.equal(conditionOf(failed, 'Stalled')?.status, 'True');
    assert.equal(await git.repos.head('templated', 'main'), base, 'nothing committed');
  });
});
