import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { KubeClient } from '../../shared/kube/client.ts';
import { startAgentProcess, type AgentProcess } from './agent-process.ts';
import { testCluster } from './cluster.ts';
import type { ClusterAccess } from './control-plane.ts';
import { startGitServers, type GitServers } from './git.ts';
import { installCrds, testClient } from './tidemark.ts';

/** What a test of several agent processes works with (leader election, shards). */
export interface AgentProcessesWorld {
  cluster: ClusterAccess;
  kube: KubeClient;
  git: GitServers;
  /** Where the ContinuousDeployments live (every agent watches it), and where they apply. */
  ns: string;
  apps: string;
  /** The agents started so far, in order. */
  agents: AgentProcess[];
  /** Starts one more agent, with a Git cache of its own and these extra flags. */
  start(args: readonly string[]): Promise<AgentProcess>;
}

/**
 * Registers a describe block's hooks for tests that run several `tidemark agent` processes
 * against the shared control plane and a file:// Git server; everything is stopped and removed
 * after the block.
 */
export function useAgentProcesses(prefix: string): () => AgentProcessesWorld {
  let world: AgentProcessesWorld | undefined;
  const cacheDirs: string[] = [];
  before(async () => {
    const cluster = await testCluster();
    await installCrds(cluster);
    const ns = await cluster.createNamespace(prefix);
    const agents: AgentProcess[] = [];
    world = {
      cluster,
      kube: testClient(cluster),
      git: await startGitServers({ http: false }),
      ns,
      apps: await cluster.createNamespace(`${prefix}-apps`),
      agents,
      async start(args) {
        const cacheDir = await mkdtemp(join(tmpdir(), `tidemark-${prefix}-${agents.length}-`));
        cacheDirs.push(cacheDir);
        const agent = await startAgentProcess({ kubeconfig: cluster.kubeconfigPath, namespace: ns, cacheDir, args });
        agents.push(agent);
        return agent;
      },
    };
  });
  after(async () => {
    await Promise.all(world?.agents.map((a) => a.stop()) ?? []);
    await world?.git.stop();
    await world?.kube.close();
    await Promise.all(cacheDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return () => {
    if (!world) throw new Error('the agent processes are used before their before() hook ran');
    return world;
  };
}
