import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import { parseTextFormat } from '../../shared/metrics/text-format.ts';
import type { AgentProcess } from '../harness/agent-process.ts';
import { useAgentProcesses } from '../harness/agent-processes.ts';
import { configMapYaml } from '../harness/manifests.ts';
import { waitFor } from '../harness/process.ts';
import { applyCd, condition } from '../harness/tidemark.ts';

/**
 * Automatic sharding on the real API server (#14): two `tidemark agent --shard-auto` processes
 * split 40 ContinuousDeployments between them, each reconciled by one only; when one stops
 * (SIGTERM, then SIGKILL after it came back), the other takes all 40 and applies the next commit.
 */

const COUNT = 40;
const GROUP = 'autoshard';
const names = Array.from({ length: COUNT }, (_, i) => `app-${String(i).padStart(2, '0')}`);

describe('automatic sharding: two agents split the deployments by member Leases', () => {
  const world = useAgentProcesses('autoshard');

  const scrape = async (agent: AgentProcess) => parseTextFormat(await (await fetch(`${agent.healthUrl()}/metrics`)).text());
  /** The deployments whose status this process wrote: the ones it reconciled. */
  const reconciled = async (agent: AgentProcess) => {
    const { ns } = world();
    return ((await scrape(agent)).get('tidemark_resource_info')?.samples ?? [])
      .filter((s) => s.labels.kind === 'ContinuousDeployment' && s.labels.namespace === ns)
      .map((s) => s.labels.name ?? '')
      .sort();
  };
  const owned = async (agent: AgentProcess) =>
    (await scrape(agent)).get('tidemark_shard_owned_keys')?.samples.find((s) => s.labels.kind === 'ContinuousDeployment')?.value ?? 0;
  /** Whether the process's latest settled view has `members` members (from its log). */
  const settledWith = (agent: AgentProcess, members: number) => {
    const lines = agent
      .output()
      .split('\n')
      .filter((line) => line.includes('shard view'));
    const last = lines.at(-1);
    if (last === undefined) return false;
    const entry = JSON.parse(last) as { msg?: string; members?: string[] };
    return entry.msg?.startsWith('shard view settled') === true && entry.members?.length === members;
  };
  const listCds = async () => {
    const { kube, ns } = world();
    return (
      await kube.rest.request<{ items: ContinuousDeployment[] }>({
        method: 'GET',
        path: `/apis/tidemark.dev/v1alpha1/namespaces/${ns}/continuousdeployments`,
      })
    ).items;
  };
  const allApplied = async (commit: string) => {
    const cds = await listCds();
    return (
      cds.length === COUNT &&
      cds.every((cd) => condition(cd, 'Ready')?.status === 'True' && cd.status?.lastAppliedRevision?.endsWith(commit) === true)
    );
  };
  const files = (rev: string) =>
    Object.fromEntries(names.map((name) => [`deploy/${name}/cm.yaml`, configMapYaml(`${name}-settings`, { rev })]));
  const memberLeases = async () => {
    const { kube, ns } = world();
    const list = await kube.rest.request<{ items: Array<{ metadata: { name: string } }> }>({
      method: 'GET',
      path: `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`,
      query: { labelSelector: `tidemark.dev/shard-group=${GROUP}` },
    });
    return list.items.map((lease) => lease.metadata.name);
  };

  it('splits 40 deployments, each reconciled by one agent; after a SIGTERM and a SIGKILL the other takes all', async (t) => {
    const { kube, git, ns, apps } = world();
    const flags = [
      '--shard-auto',
      '--shard-group',
      GROUP,
      '--workers',
      '4',
      '--leader-election-lease-duration',
      '3s',
      '--leader-election-renew-deadline',
      '2s',
      '--leader-election-retry-period',
      '300ms',
    ];
    const a = await world().start(flags);
    const b = await world().start(flags);
    // Both see both before any deployment exists: none is reconciled by one and then moved.
    await waitFor(() => Promise.resolve(settledWith(a, 2) && settledWith(b, 2)), {
      timeoutMs: 30_000,
      what: 'both agents in one settled view',
    });
    assert.equal((await memberLeases()).length, 2);

    const first = await git.repos.createRepo('apps', files('1'), { branch: 'main' });
    for (const name of names) {
      await applyCd(kube, {
        metadata: { name, namespace: ns },
        spec: {
          url: git.repos.fileUrl('apps'),
          git: { branch: 'main' },
          path: `deploy/${name}`,
          pullInterval: '2s',
          targetNamespace: apps,
        },
      });
    }
    await waitFor(() => allApplied(first), { timeoutMs: 180_000, what: `all ${COUNT} synced` });
    const [ofA, ofB] = [await reconciled(a), await reconciled(b)];
    t.diagnostic(`split: ${ofA.length} + ${ofB.length}`);
    assert.ok(ofA.length > 0 && ofB.length > 0, `both work: ${ofA.length} and ${ofB.length}`);
    assert.deepEqual(
      ofA.filter((name) => ofB.includes(name)),
      [],
      'no deployment reconciled by both',
    );
    assert.deepEqual([...ofA, ...ofB].sort(), names);
    assert.equal((await owned(a)) + (await owned(b)), COUNT);

    // SIGTERM: a drains, deletes its Lease, and b takes its share at once.
    const termAt = Date.now();
    await a.stop();
    await waitFor(async () => (await owned(b)) === COUNT, { timeoutMs: 30_000, intervalMs: 50, what: 'b owns all after SIGTERM' });
    const termTakeover = Date.now() - termAt;
    assert.equal((await memberLeases()).length, 1, 'the stopped agent deleted its member Lease');
    const second = await git.repos.commitFiles('apps', 'main', files('2'), 'rev 2');
    const pushedAt = Date.now();
    await waitFor(() => allApplied(second), { timeoutMs: 120_000, what: 'b applies the next commit to all 40' });
    const termApplied = Date.now() - pushedAt;
    assert.deepEqual(await reconciled(b), names);

    // a comes back (a new member), takes its share again; then it dies without a word.
    await a.restart();
    await waitFor(() => Promise.resolve(settledWith(a, 2) && settledWith(b, 2)), {
      timeoutMs: 30_000,
      what: 'the restarted agent rejoins',
    });
    await waitFor(async () => (await owned(a)) > 0 && (await owned(a)) + (await owned(b)) === COUNT, {
      timeoutMs: 30_000,
      what: 'the split again',
    });
    a.kill('SIGKILL');
    const killAt = Date.now();
    await a.exited();
    await waitFor(async () => (await owned(b)) === COUNT, { timeoutMs: 30_000, intervalMs: 50, what: 'b owns all after SIGKILL' });
    const killTakeover = Date.now() - killAt;
    const third = await git.repos.commitFiles('apps', 'main', files('3'), 'rev 3');
    const thirdAt = Date.now();
    await waitFor(() => allApplied(third), { timeoutMs: 120_000, what: 'b applies the commit after the kill to all 40' });
    const killApplied = Date.now() - thirdAt;
    const settings = await kube.rest.request<{ data?: Record<string, string> }>({
      method: 'GET',
      path: `/api/v1/namespaces/${apps}/configmaps/${names[COUNT - 1]}-settings`,
    });
    assert.equal(settings.data?.rev, '3');
    t.diagnostic(
      `takeover: SIGTERM ${(termTakeover / 1000).toFixed(1)} s (then the next commit on all 40 in ${(termApplied / 1000).toFixed(1)} s); ` +
        `SIGKILL ${(killTakeover / 1000).toFixed(1)} s with a 3 s lease (then all 40 in ${(killApplied / 1000).toFixed(1)} s)`,
    );
  });
});
