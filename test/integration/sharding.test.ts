import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTextFormat } from '../../shared/metrics/text-format.ts';
import type { AgentProcess } from '../harness/agent-process.ts';
import { useAgentProcesses } from '../harness/agent-processes.ts';
import { configMapYaml } from '../harness/manifests.ts';
import { applyCd, condition, waitForCd } from '../harness/tidemark.ts';

/**
 * Sharding as Flux does it: agents started with `--watch-label-selector` each reconcile only the
 * deployments their selector picks — the main one those without the shard key — on the real API
 * server, as processes.
 */
describe('sharding: agents split the deployments by label', () => {
  const world = useAgentProcesses('shards');

  const deploymentsSeen = async (agent: AgentProcess) => {
    const { ns } = world();
    const families = parseTextFormat(await (await fetch(`${agent.healthUrl()}/metrics`)).text());
    return (families.get('tidemark_resource_info')?.samples ?? [])
      .filter((s) => s.labels.kind === 'ContinuousDeployment' && s.labels.namespace === ns)
      .map((s) => s.labels.name)
      .sort();
  };

  it('each agent reconciles exactly the deployments its selector picks', async () => {
    const { kube, git, ns, apps } = world();
    const main = await world().start(['--watch-label-selector', '!sharding.tidemark.dev/key']);
    const shard = await world().start(['--watch-label-selector', 'sharding.tidemark.dev/key in (shard1)']);

    for (const name of ['plain', 'sharded', 'other-shard']) {
      await git.repos.createRepo(name, { 'deploy/cm.yaml': configMapYaml(`${name}-settings`, { owner: name }) }, { branch: 'main' });
    }
    const labels: Record<string, Record<string, string>> = {
      plain: {},
      sharded: { 'sharding.tidemark.dev/key': 'shard1' },
      'other-shard': { 'sharding.tidemark.dev/key': 'shard2' },
    };
    for (const name of Object.keys(labels)) {
      await applyCd(kube, {
        metadata: { name, namespace: ns, labels: labels[name] ?? {} },
        spec: { url: git.repos.fileUrl(name), git: { branch: 'main' }, path: 'deploy', pullInterval: '1h', targetNamespace: apps },
      });
    }
    await waitForCd(kube, ns, 'plain', (c) => condition(c, 'Ready')?.status === 'True', 'the main agent syncs the unlabelled one');
    await waitForCd(kube, ns, 'sharded', (c) => condition(c, 'Ready')?.status === 'True', 'the shard syncs its own');
    assert.deepEqual(await deploymentsSeen(main), ['plain']);
    assert.deepEqual(await deploymentsSeen(shard), ['sharded']);
    // No agent runs shard2: its deployment is left alone, with no status at all.
    const orphan = await kube.rest.request<{ status?: unknown }>({
      method: 'GET',
      path: `/apis/tidemark.dev/v1alpha1/namespaces/${ns}/continuousdeployments/other-shard`,
    });
    assert.equal(orphan.status, undefined);
  });
});
