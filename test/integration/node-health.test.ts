import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Annotations } from '../../shared/api/constants.ts';
import type { HealthStatus } from '../../shared/api/continuous-deployment.ts';
import { useAgentWorld } from '../harness/agent-world.ts';
import { pushAppImage } from '../harness/node-images.ts';
import { waitFor } from '../harness/process.ts';
import { applyCd, getCd } from '../harness/tidemark.ts';

/**
 * Health judged from a real kubelet: Pods really start, crash and fail to pull, and the
 * Deployment's own status (not a fixture) drives the ContinuousDeployment's health.
 */

interface PodStatusView {
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    containerStatuses?: Array<{ ready?: boolean; state?: { waiting?: { reason?: string }; running?: unknown } }>;
  };
}

/**
 * `neverReady`: a readiness probe that always fails. A container that crashes at once can still be
 * seen running (and so Ready, having no probe) for an instant between restarts; each such instant
 * counts as rollout progress and restarts the progress deadline, so whether the Deployment ever
 * reached ProgressDeadlineExceeded depended on the kubelet's timing (once not in 240 s on a loaded run).
 */
function deployment(
  name: string,
  image: string,
  extra: { command?: string[]; progressDeadlineSeconds?: number; neverReady?: boolean } = {},
): string {
  const probe = extra.neverReady ? `          readinessProbe: {exec: {command: ["false"]}, periodSeconds: 1}\n` : '';
  const command = (extra.command ? `          command: ${JSON.stringify(extra.command)}\n` : '') + probe;
  const deadline = extra.progressDeadlineSeconds === undefined ? '' : `  progressDeadlineSeconds: ${extra.progressDeadlineSeconds}\n`;
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: 1
${deadline}  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: main
          image: ${image}
${command}`;
}

describe('health on a real node', () => {
  const world = useAgentWorld('node-health', { node: true, workers: 4 });

  /** Pushes the manifests to their own repo and branch and points a ContinuousDeployment at it. */
  async function deploy(name: string, manifest: string, pullInterval = '3s'): Promise<void> {
    const { kube, git, ns } = world();
    await git.repos.createRepo(name, { 'app/deployment.yaml': manifest }, { branch: 'main' });
    await applyCd(kube, {
      metadata: { name, namespace: ns },
      // A short interval by default: health is assessed on each run, and the tests watch it change.
      spec: { repoType: 'git', url: git.repos.fileUrl(name), pullInterval, git: { branch: 'main' }, path: './app' },
    });
  }

  /**
   * Every health the ContinuousDeployment reports, in order, until `until` shows up; with
   * `revisionSuffix`, only what it reports for that commit.
   */
  async function healthUntil(
    name: string,
    until: HealthStatus,
    timeoutMs: number,
    revisionSuffix?: string,
  ): Promise<{ seen: string[]; message: string }> {
    const { kube, ns } = world();
    const seen: string[] = [];
    let message = '';
    try {
      await waitFor(
        async () => {
          const status = (await getCd(kube, ns, name))?.status;
          const health = status?.health;
          if (!health) return false;
          if (revisionSuffix !== undefined && !status.sync?.revision?.endsWith(revisionSuffix)) return false;
          if (seen.at(-1) !== health.status) seen.push(health.status);
          message = health.message ?? '';
          return health.status === until;
        },
        { what: `${name} health ${until}`, timeoutMs, intervalMs: 100 },
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; health seen: ${seen.join(' → ')} (${message})`, { cause: err });
    }
    return { seen, message };
  }

  async function podOf(app: string): Promise<PodStatusView | undefined> {
    const { kube, ns } = world();
    const list = await kube.rest.request<{ items: PodStatusView[] }>({
      method: 'GET',
      path: `/api/v1/namespaces/${ns}/pods`,
      query: { labelSelector: `app=${app}` },
    });
    return list.items[0];
  }

  async function waitForPod(app: string, what: string, check: (pod: PodStatusView) => boolean): Promise<PodStatusView> {
    let last: PodStatusView | undefined;
    try {
      await waitFor(
        async () => {
          last = await podOf(app);
          return last !== undefined && check(last);
        },
        { what, timeoutMs: 180_000, intervalMs: 250 },
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; last pod status: ${JSON.stringify(last?.status ?? null)}`, { cause: err });
    }
    return last as PodStatusView;
  }

  const waiting = (pod: PodStatusView): string | undefined => pod.status?.containerStatuses?.[0]?.state?.waiting?.reason;

  it('a rollout goes Progressing → Healthy once its Pod runs on the node', async (t) => {
    const { node, kube, git, ns } = world();
    if (!node.ok) return t.skip(node.reason);
    const { registryUrl, registryHost } = node.node;
    await pushAppImage(registryUrl, `health/${ns}`, ['v1']);
    await deploy('rollout', deployment('rollout', `${registryHost}/health/${ns}:v1`));
    const { seen } = await healthUntil('rollout', 'Healthy', 240_000);
    assert.ok(seen.includes('Progressing'), `health seen: ${seen.join(' → ')}`);
    assert.equal(seen.at(-1), 'Healthy');
    const pod = await podOf('rollout');
    assert.equal(pod?.status?.phase, 'Running', JSON.stringify(pod?.status));
    assert.equal(pod?.spec?.nodeName, node.node.name);
    assert.equal(pod?.status?.containerStatuses?.[0]?.ready, true);

    // An update rolls out the same way: the new commit is first Progressing, then Healthy with the
    // new image running.
    await pushAppImage(registryUrl, `health/${ns}`, ['v2'], { label: 'v2' });
    const sha = await git.repos.commitFiles(
      'rollout',
      'main',
      { 'app/deployment.yaml': deployment('rollout', `${registryHost}/health/${ns}:v2`) },
      'v2',
    );
    const update = await healthUntil('rollout', 'Healthy', 240_000, sha);
    assert.deepEqual(update.seen, ['Progressing', 'Healthy']);
    const pods = await kube.rest.request<{ items: Array<PodStatusView & { spec?: { containers?: Array<{ image?: string }> } }> }>({
      method: 'GET',
      path: `/api/v1/namespaces/${ns}/pods`,
      query: { labelSelector: 'app=rollout' },
    });
    const running = pods.items.filter((p) => p.status?.phase === 'Running');
    assert.ok(
      running.some((p) => p.spec?.containers?.[0]?.image === `${registryHost}/health/${ns}:v2`),
      JSON.stringify(pods.items.map((p) => [p.spec?.containers?.[0]?.image, p.status?.phase])),
    );
  });

  it('with pullInterval 1h, health follows the rollout by itself: the managed Deployment changing wakes its owner', async (t) => {
    const { node, kube, ns } = world();
    if (!node.ok) return t.skip(node.reason);
    // No timer run and no sync request inside the test: only the Deployment's own status
    // changes (watched by the object cache) can move status.health from Progressing to Healthy.
    await deploy('follow', deployment('follow', node.node.appImage), '1h');
    const { seen } = await healthUntil('follow', 'Healthy', 240_000);
    assert.ok(seen.includes('Progressing'), `health seen: ${seen.join(' → ')}`);
    assert.equal(seen.at(-1), 'Healthy');
    const pod = await podOf('follow');
    assert.equal(pod?.status?.containerStatuses?.[0]?.ready, true, JSON.stringify(pod?.status));
    const cd = await getCd(kube, ns, 'follow');
    assert.equal(cd?.metadata.annotations?.[Annotations.requestedAt], undefined);
  });

  it('a crash-looping container makes the deployment Degraded', async (t) => {
    const { node } = world();
    if (!node.ok) return t.skip(node.reason);
    await deploy(
      'crasher',
      deployment('crasher', node.node.appImage, {
        command: ['sh', '-c', 'echo failing; exit 3'],
        progressDeadlineSeconds: 10,
        neverReady: true,
      }),
    );
    const pod = await waitForPod('crasher', 'the crasher Pod in CrashLoopBackOff', (p) => waiting(p) === 'CrashLoopBackOff');
    assert.equal(pod.spec?.nodeName, node.node.name);
    const { message } = await healthUntil('crasher', 'Degraded', 240_000);
    assert.match(message, /exceeded its progress deadline/);
  });

  it('a tag that does not exist gives ImagePullBackOff, then Degraded', async (t) => {
    const { node, ns } = world();
    if (!node.ok) return t.skip(node.reason);
    await deploy(
      'no-such-tag',
      deployment('no-such-tag', `${node.node.registryHost}/health/${ns}:does-not-exist`, { progressDeadlineSeconds: 10 }),
    );
    await waitForPod('no-such-tag', 'the Pod in ImagePullBackOff', (p) => waiting(p) === 'ImagePullBackOff');
    const { message } = await healthUntil('no-such-tag', 'Degraded', 240_000);
    assert.match(message, /exceeded its progress deadline/);
  });
});
