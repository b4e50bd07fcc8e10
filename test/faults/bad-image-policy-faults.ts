/**
 * Bad image policies against the image updater (in this process, as the registry faults run it)
 * and the real registry: regular expressions that RE2 cannot run or that backtrack exponentially
 * elsewhere, and semver ranges that do not fit or are too long. Each case starts from a good
 * ImagePolicy that chose the newest tag; then its spec turns bad. While it is bad: the Ready
 * condition and an Event carry the precise reason (or the API server refuses the spec), the last
 * chosen tag stays, the process's memory stays under a bound, and another policy of the same
 * updater follows a tag pushed meanwhile. Once fixed, the policy chooses the newest tag again.
 */
import assert from 'node:assert/strict';
import { API_VERSION, Annotations } from '../../shared/api/constants.ts';
import type { ImagePolicyStatus, ImageRepositoryStatus } from '../../shared/api/image.ts';
import type { Condition } from '../../shared/conditions/index.ts';
import type { Reason } from '../../shared/errors/reasons.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { startImageUpdater, type RunningImageUpdater } from '../../image-updater/index.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { waitFor } from '../harness/process.ts';
import { startRegistry, type TestRegistry } from '../harness/registry.ts';
import { testClient, testLogger } from '../harness/tidemark.ts';
import { waitEvent } from './case-env.ts';
import type { FaultRow } from './report.ts';

/** The resident memory of the process running the image updater may not pass this during a case. */
export const MAX_UPDATER_RSS_BYTES = 512 * 1024 * 1024;
const REPO = 'team/app';
const WAIT_MS = 60_000;
/** 60 a's and a dash: `^(a+)+$` takes 2^60 steps on it in a backtracking engine. */
const EVIL_TAG = `${'a'.repeat(60)}-`;

export interface BadPolicy {
  name: string;
  /** A JSON merge patch of the good spec. */
  spec: Record<string, unknown>;
  /** The API server refuses the spec at admission; its message must match. */
  refused?: RegExp;
  expect?: { reason: Reason; message: RegExp };
}

const GOOD_SPEC = { imageRepositoryRef: { name: 'app' }, policy: { semver: { range: '>=1.0.0' } } };

export const BAD_POLICIES: readonly BadPolicy[] = [
  {
    name: 'image policy: a regex with a backreference (not RE2)',
    spec: { filterTags: { pattern: '^(a+)\\1$' } },
    expect: { reason: 'InvalidFilterPattern', message: /spec\.filterTags\.pattern/ },
  },
  {
    name: 'image policy: a regex that backtracks exponentially, over a 61-character tag',
    spec: { filterTags: { pattern: '^(a+)+$' } },
    // RE2 runs it in linear time: the answer is that nothing matched, at once.
    expect: { reason: 'NoMatchingTags', message: /none of the \d+ tags passed the exclusion list and filterTags\.pattern "\^\(a\+\)\+\$"/ },
  },
  {
    name: 'image policy: extract names a group the pattern lacks',
    spec: { filterTags: { pattern: '^(?P<v>.*)$', extract: '$nope' } },
    expect: { reason: 'InvalidFilterExtract', message: /spec\.filterTags\.extract/ },
  },
  {
    name: 'image policy: a semver range beyond 64 bits',
    spec: { policy: { semver: { range: '>=18446744073709551616' } } },
    expect: { reason: 'InvalidSemverRange', message: /spec\.policy\.semver\.range .*does not fit in 64 bits/ },
  },
  {
    name: 'image policy: a semver range of 600 characters',
    spec: { policy: { semver: { range: Array(50).fill('>=1.0.0 <2').join(' || ') } } },
    refused: /spec\.policy\.semver\.range in body should be at most 512 chars long/,
  },
];

type Obj<S> = KubeObject & { status?: S };
const policyPath = (ns: string, name?: string) => `/apis/${API_VERSION}/namespaces/${ns}/imagepolicies${name ? `/${name}` : ''}`;
const repoPath = (ns: string, name: string) => `/apis/${API_VERSION}/namespaces/${ns}/imagerepositories/${name}`;
const conditionOf = (status: { conditions?: Condition[] } | undefined, type: string) => status?.conditions?.find((c) => c.type === type);

export interface BadPolicyEnv {
  kube: KubeClient;
  ns: string;
  registry: TestRegistry;
  /** The newest tag pushed so far (every tag is 1.N.0). */
  newest(): string;
  /** Pushes 1.(N+1).0 and scans; the healthy policy must choose it. */
  bumpHealthy(): Promise<void>;
  stop(): Promise<void>;
}

export async function startBadPolicyEnv(cluster: ClusterAccess): Promise<BadPolicyEnv> {
  const kube = testClient(cluster);
  let ns = '';
  let registry: TestRegistry | undefined;
  let updater: RunningImageUpdater | undefined;
  const stop = async () => {
    await updater?.stop();
    await registry?.stop();
    if (ns) await cluster.deleteNamespace(ns).catch(() => undefined);
    await kube.close();
  };
  try {
    ns = await cluster.createNamespace('badpolicy');
    registry = await startRegistry({ auth: 'none' });
    let minor = 2;
    await registry.pushImage(REPO, ['1.0.0', '1.1.0', '1.2.0', EVIL_TAG]);
    updater = await startImageUpdater({ kubeconfigPath: cluster.kubeconfigPath, namespace: ns, log: testLogger(), workers: 2 });
    const image = `${registry.host}/${REPO}`;
    let scans = 0;
    const scan = async (tags: number) => {
      const token = `scan-${++scans}`;
      await kube.rest.request({
        method: 'PATCH',
        path: repoPath(ns, 'app'),
        query: { fieldManager: 'tidemark-faults', force: true },
        contentType: 'application/apply-patch+yaml',
        body: {
          apiVersion: API_VERSION,
          kind: 'ImageRepository',
          metadata: { name: 'app', namespace: ns, annotations: { [Annotations.requestedAt]: token } },
          spec: { image, interval: '1h', insecure: true },
        },
      });
      await waitFor(
        async () => {
          const repo = await kube.rest.request<Obj<ImageRepositoryStatus>>({ method: 'GET', path: repoPath(ns, 'app') });
          return repo.status?.lastHandledRequestedAt === token && repo.status.lastScanResult?.tagCount === tags;
        },
        { timeoutMs: WAIT_MS, intervalMs: 50, what: `scan ${token}` },
      );
    };
    await scan(4);
    await createPolicy(kube, ns, 'healthy');
    await waitPolicy(kube, ns, 'healthy', (s) => s.latestRef?.tag === '1.2.0', 'the healthy policy chose 1.2.0');
    const reg = registry;
    const bumpHealthy = async () => {
      minor++;
      await reg.pushImage(REPO, [`1.${minor}.0`]);
      await scan(minor + 2);
      await waitPolicy(kube, ns, 'healthy', (s) => s.latestRef?.tag === `1.${minor}.0`, `the healthy policy chose 1.${minor}.0`);
    };
    return { kube, ns, registry, newest: () => `1.${minor}.0`, bumpHealthy, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function createPolicy(kube: KubeClient, ns: string, name: string): Promise<void> {
  await kube.rest.request({
    method: 'POST',
    path: policyPath(ns),
    body: { apiVersion: API_VERSION, kind: 'ImagePolicy', metadata: { name, namespace: ns }, spec: GOOD_SPEC },
  });
}

async function waitPolicy(
  kube: KubeClient,
  ns: string,
  name: string,
  check: (s: ImagePolicyStatus) => boolean,
  what: string,
): Promise<ImagePolicyStatus> {
  let last: ImagePolicyStatus | undefined;
  try {
    await waitFor(
      async () => {
        last = (await kube.rest.request<Obj<ImagePolicyStatus>>({ method: 'GET', path: policyPath(ns, name) })).status;
        return last !== undefined && check(last);
      },
      { timeoutMs: WAIT_MS, intervalMs: 50, what },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; last status: ${JSON.stringify(last ?? null)}`, { cause: err });
  }
  return last as ImagePolicyStatus;
}

const patchSpec = (kube: KubeClient, ns: string, name: string, spec: Record<string, unknown>) =>
  kube.rest.request({ method: 'PATCH', path: policyPath(ns, name), contentType: 'application/merge-patch+json', body: { spec } });

/** One bad policy of its own beside the healthy one; returns the table row. */
export async function runBadPolicy(env: BadPolicyEnv, bad: BadPolicy, index: number): Promise<FaultRow> {
  const { kube, ns } = env;
  const name = `bad-${index}`;
  const good = env.newest();
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  try {
    await createPolicy(kube, ns, name);
    await waitPolicy(
      kube,
      ns,
      name,
      (s) => s.latestRef?.tag === good && conditionOf(s, 'Ready')?.status === 'True',
      `${name}: chose ${good}`,
    );

    let lost = 0;
    if (bad.refused) {
      await assert.rejects(patchSpec(kube, ns, name, bad.spec), (err: Error) => bad.refused!.test(err.message), 'refused at admission');
    } else if (bad.expect) {
      await patchSpec(kube, ns, name, bad.spec);
      const failed = await waitPolicy(kube, ns, name, (s) => conditionOf(s, 'Ready')?.status === 'False', `${name}: Ready=False`);
      const ready = conditionOf(failed, 'Ready');
      assert.equal(ready?.reason, bad.expect.reason, `the condition's reason (message: ${ready?.message})`);
      assert.match(ready?.message ?? '', bad.expect.message, 'the condition says what is wrong');
      await waitEvent(kube, ns, name, bad.expect.reason);
      if (failed.latestRef?.tag !== good) lost = 1;
      assert.equal(failed.latestRef?.tag, good, 'the last chosen tag stays');
    }

    await env.bumpHealthy();
    clearInterval(timer);
    assert.ok(peak <= MAX_UPDATER_RSS_BYTES, `the process's RSS peaked at ${mib(peak)} MiB (bound ${mib(MAX_UPDATER_RSS_BYTES)} MiB)`);

    // Fixed: the good spec back (a merge patch that clears what the bad one added).
    const fixedAt = Date.now();
    if (!bad.refused) {
      await patchSpec(kube, ns, name, { filterTags: null });
      await patchSpec(kube, ns, name, GOOD_SPEC);
    }
    const newest = env.newest();
    await waitPolicy(kube, ns, name, (s) => s.latestRef?.tag === newest && conditionOf(s, 'Ready')?.status === 'True', `${name}: fixed`);
    const recoverySeconds = (Date.now() - fixedAt) / 1000;
    return { fault: bad.name, converged: true, recoverySeconds, lostObjects: lost, orphans: 0, peakRssMiB: mib(peak) };
  } finally {
    clearInterval(timer);
    await kube.rest.request({ method: 'DELETE', path: policyPath(ns, name) }).catch(() => undefined);
  }
}

const mib = (bytes: number) => Math.round(bytes / (1024 * 1024));
