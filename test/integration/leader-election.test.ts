import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LeaderElector, type LeaseRecord, type LeaseTimings } from '../../shared/controller/leader-election.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import type { KubeRequest } from '../../shared/kube/rest.ts';
import { parseTextFormat } from '../../shared/metrics/text-format.ts';
import { systemClock } from '../../shared/time/clock.ts';
import type { AgentProcess } from '../harness/agent-process.ts';
import { useAgentProcesses } from '../harness/agent-processes.ts';
import { testCluster } from '../harness/cluster.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { configMapYaml } from '../harness/manifests.ts';
import { waitFor } from '../harness/process.ts';
import { applyCd, condition, testClient, testLogger, waitForCd } from '../harness/tidemark.ts';

/**
 * Two replicas on the real API server: one Lease, one leader. In process first (hand-over on
 * release, take-over after a partition, the partitioned leader told it lost), then two real agent
 * processes: the standby is Ready and idle, and after the leader is killed it syncs the next commit.
 */

/** Short timings so a take-over happens in seconds; the ratios are client-go's. */
const FAST: LeaseTimings = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 300 };

interface Lease {
  spec?: LeaseRecord;
}

describe('leader election on a real Lease', () => {
  let cluster: ClusterAccess;
  let kube: KubeClient;
  let ns = '';

  before(async () => {
    cluster = await testCluster();
    kube = testClient(cluster);
    ns = await cluster.createNamespace('leader');
  });

  after(async () => {
    await kube?.close();
  });

  const lease = (name: string) =>
    kube.rest.request<Lease>({ method: 'GET', path: `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${name}` });
  const elector = (name: string, identity: string, rest: Pick<KubeClient['rest'], 'request'>) =>
    new LeaderElector({ rest, namespace: ns, name, identity, timings: FAST, clock: systemClock, log: testLogger() });

  it('one leads, the other stands by; a release hands the Lease over at once', async () => {
    const a = elector('handover', 'replica-a', kube.rest);
    const b = elector('handover', 'replica-b', kube.rest);
    await a.acquire(AbortSignal.timeout(30_000));
    const standby = new AbortController();
    const bLeads = b.acquire(standby.signal);
    // Several of b's retry periods: it must still be standing by.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal(b.isLeader, false);
    assert.equal((await lease('handover')).spec?.holderIdentity, 'replica-a');

    await a.release();
    await bLeads;
    assert.equal(b.isLeader, true);
    const spec = (await lease('handover')).spec;
    assert.equal(spec?.holderIdentity, 'replica-b');
    assert.equal(spec?.leaseTransitions, 1);
    await b.release();
    assert.equal((await lease('handover')).spec?.holderIdentity, '');
  });

  it('a partitioned leader is told it lost, and a standby takes over once the Lease expires', async () => {
    let cut = false;
    const partitionable = {
      request: <T>(req: KubeRequest): Promise<T> => (cut ? Promise.reject(new Error('connect ECONNREFUSED')) : kube.rest.request<T>(req)),
    };
    const a = elector('partition', 'replica-a', partitionable);
    const b = elector('partition', 'replica-b', kube.rest);
    await a.acquire(AbortSignal.timeout(30_000));
    const bLeads = b.acquire(AbortSignal.timeout(60_000));
    cut = true;
    const reason = await a.lost;
    const lostAt = Date.now();
    assert.match(reason, /could not renew the lease/);
    assert.equal(a.isLeader, false);
    await bLeads;
    const spec = (await lease('partition')).spec;
    assert.equal(spec?.holderIdentity, 'replica-b');
    // The renew deadline is shorter than the lease: the old leader stopped before the new one began.
    assert.ok(
      lostAt <= Date.parse(spec?.acquireTime ?? ''),
      `lost at ${new Date(lostAt).toISOString()}, taken over at ${spec?.acquireTime}`,
    );
    await b.release();
  });
});

describe('leader election: two agent processes', () => {
  const world = useAgentProcesses('ha');

  const scrape = async (agent: AgentProcess) => parseTextFormat(await (await fetch(`${agent.healthUrl()}/metrics`)).text());
  const leaderGauge = async (agent: AgentProcess) =>
    (await scrape(agent)).get('tidemark_leader')?.samples.find((s) => s.labels.lease === 'tidemark-agent')?.value;
  const reconciles = async (agent: AgentProcess) =>
    ((await scrape(agent)).get('tidemark_reconcile_total')?.samples ?? [])
      .filter((s) => s.labels.kind === 'ContinuousDeployment')
      .reduce((n, s) => n + s.value, 0);

  it('the standby is Ready and idle, and takes over after the leader is killed', async () => {
    const { kube, git, ns, apps, agents } = world();
    const flags = ['--leader-elect', '--leader-election-namespace', ns];
    const timing = [
      '--leader-election-lease-duration',
      '3s',
      '--leader-election-renew-deadline',
      '2s',
      '--leader-election-retry-period',
      '300ms',
    ];
    for (let i = 0; i < 2; i++) await world().start([...flags, ...timing]);
    const holder = async () =>
      (await kube.rest.request<Lease>({ method: 'GET', path: `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/tidemark-agent` })).spec
        ?.holderIdentity ?? '';
    await waitFor(async () => (await holder()) !== '', { timeoutMs: 30_000, what: 'a leader' });
    const gauges = await Promise.all(agents.map(leaderGauge));
    assert.deepEqual([...gauges].sort(), [0, 1], `tidemark_leader of the two replicas: ${JSON.stringify(gauges)}`);
    const leader = agents[gauges.indexOf(1)]!;
    const standby = agents[gauges.indexOf(0)]!;
    assert.equal((await fetch(`${standby.healthUrl()}/readyz`)).status, 200, 'a standby is Ready');
    assert.match(standby.output(), /standing by/);

    await git.repos.createRepo('app', { 'deploy/settings.yaml': configMapYaml('settings', { color: 'blue' }) }, { branch: 'main' });
    await applyCd(kube, {
      metadata: { name: 'app', namespace: ns },
      spec: { url: git.repos.fileUrl('app'), git: { branch: 'main' }, path: 'deploy', pullInterval: '2s', targetNamespace: apps },
    });
    await waitForCd(kube, ns, 'app', (c) => condition(c, 'Ready')?.status === 'True', 'first sync by the leader');
    assert.ok((await reconciles(leader)) >= 1, 'the leader reconciled');
    assert.equal(await reconciles(standby), 0, 'the standby reconciled nothing');

    leader.kill('SIGKILL');
    await leader.exited();
    const next = await git.repos.commitFiles(
      'app',
      'main',
      { 'deploy/settings.yaml': configMapYaml('settings', { color: 'green' }) },
      'green',
    );
    await waitForCd(
      kube,
      ns,
      'app',
      (c) => c.status?.lastAppliedRevision?.endsWith(next) === true,
      'the next commit synced by the new leader',
    );
    assert.equal(await leaderGauge(standby), 1);
    assert.match(await holder(), /.+/);
    const settings = await kube.rest.request<{ data?: Record<string, string> }>({
      method: 'GET',
      path: `/api/v1/namespaces/${apps}/configmaps/settings`,
    });
    assert.equal(settings.data?.color, 'green');
  });

  it('killed in the middle of a 200-object sync, the leader is replaced and the new one finishes the commit', async (t) => {
    const { kube, git, ns, apps, agents } = world();
    const [first, second] = agents as [AgentProcess, AgentProcess];
    // After the previous case one of them is dead: it comes back as a standby.
    const dead = (await leaderGauge(first).catch(() => undefined)) === undefined ? first : second;
    const leader = dead === first ? second : first;
    await dead.restart();
    const files: Record<string, string> = {};
    for (let i = 0; i < 200; i++)
      files[`deploy/cm-${String(i).padStart(3, '0')}.yaml`] = configMapYaml(`cm-${String(i).padStart(3, '0')}`, { i: String(i) });
    const target = await git.repos.commitFiles('app', 'main', files, '200 objects');
    const count = async () =>
      (await kube.rest.request<{ items: unknown[] }>({ method: 'GET', path: `/api/v1/namespaces/${apps}/configmaps` })).items.length;
    const before = await count();
    await waitFor(async () => (await count()) >= before + 20, { timeoutMs: 60_000, intervalMs: 50, what: 'the sync under way' });
    leader.kill('SIGKILL');
    const killedAt = Date.now();
    await leader.exited();
    const applied = (await count()) - before;
    await waitForCd(
      kube,
      ns,
      'app',
      (c) => c.status?.lastAppliedRevision?.endsWith(target) === true,
      'the commit finished by the new leader',
    );
    t.diagnostic(
      `killed after ${applied} of 200 objects; the new leader finished ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`,
    );
    assert.ok(applied < 200, `the kill came mid-sync (${applied} applied before it)`);
    assert.equal((await count()) - before, 200, 'every object of the commit');
    // The old leader was dead before the new one held the Lease: no object was written by both at once.
    const lease = await kube.rest.request<Lease>({
      method: 'GET',
      path: `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/tidemark-agent`,
    });
    assert.ok(Date.parse(lease.spec?.acquireTime ?? '') >= killedAt - 1000, `taken over at ${lease.spec?.acquireTime}`);
    assert.equal(await leaderGauge(dead), 1);
  });
});
