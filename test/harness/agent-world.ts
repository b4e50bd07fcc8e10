import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { startAgent, type AgentOptions, type RunningAgent } from '../../agent/index.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import { testCluster, type NodeAccess } from './cluster.ts';
import type { ClusterAccess } from './control-plane.ts';
import { startGitServers, type GitServers } from './git.ts';
import { installCrds, testClient, testLogger } from './tidemark.ts';

/** What a test of one in-process agent works with. */
export interface AgentWorld {
  cluster: ClusterAccess;
  kube: KubeClient;
  git: GitServers;
  /** Where the ContinuousDeployments live (the agent watches only it), and where they apply. */
  ns: string;
  apps: string;
  cacheDir: string;
  agent: RunningAgent;
  /** Stops the agent and starts a new one with the same options and cache dir. */
  restartAgent: () => Promise<void>;
}

/** The world of a file whose tests run Pods: the node, or why there is none (those tests skip with it). */
export interface AgentWorldWithNode extends AgentWorld {
  node: NodeAccess;
}

type Parts = Omit<AgentWorld, 'agent' | 'restartAgent'>;

export interface AgentWorldOptions {
  /** Serve the repositories over HTTP and SSH too; file:// always. */
  http?: boolean;
  ssh?: boolean;
  workers?: number;
  /**
   * The tests run Pods: the run's node is started for this file (test/run.ts finds
   * `useAgentWorld(<name>, { node: true` as it finds `testCluster({ node: true })`, so keep it
   * first), the namespaces have their default ServiceAccount before the agent starts, and they are
   * deleted after the block so their Pods leave the shared node.
   */
  node?: boolean;
  /** More `startAgent` options (a clock, lockdown flags, a helm binary); they win over the defaults. */
  agent?: Partial<AgentOptions> | ((world: Parts) => Promise<Partial<AgentOptions>>);
  /** Runs before the agent starts, e.g. to install the CRDs its deployments apply. */
  setup?: (world: Parts) => Promise<void>;
  /** Runs after the agent stopped, while the client still works, e.g. to delete those CRDs. */
  cleanup?: (world: Parts) => Promise<void>;
}

/**
 * Registers a describe block's hooks for tests of one `startAgent` in this process against the
 * shared control plane and Git servers; everything is stopped and removed after the block.
 */
export function useAgentWorld(prefix: string, options: AgentWorldOptions & { node: true }): () => AgentWorldWithNode;
export function useAgentWorld(prefix: string, options?: AgentWorldOptions): () => AgentWorld;
export function useAgentWorld(prefix: string, options: AgentWorldOptions = {}): () => AgentWorld | AgentWorldWithNode {
  let world: (AgentWorld & { node?: NodeAccess }) | undefined;
  let partial: Parts | undefined;
  before(async () => {
    const withNode = options.node ? await testCluster({ node: true }) : undefined;
    const cluster = withNode ?? (await testCluster());
    await installCrds(cluster);
    const kube = testClient(cluster);
    const git = await startGitServers({ http: options.http ?? false, ssh: options.ssh ?? false });
    const ns = await cluster.createNamespace(prefix);
    const apps = await cluster.createNamespace(`${prefix}-apps`);
    if (withNode?.node.ok) {
      await cluster.waitForDefaultServiceAccount(ns);
      await cluster.waitForDefaultServiceAccount(apps);
    }
    const cacheDir = await mkdtemp(join(tmpdir(), `tidemark-${prefix}-cache-`));
    partial = { cluster, kube, git, ns, apps, cacheDir };
    await options.setup?.(partial);
    const more = typeof options.agent === 'function' ? await options.agent(partial) : options.agent;
    const start = () =>
      startAgent({
        allowLocalGit: true,
        kubeconfigPath: cluster.kubeconfigPath,
        namespace: ns,
        cacheDir,
        log: testLogger(),
        workers: options.workers,
        ...more,
      });
    const started: AgentWorld & { node?: NodeAccess } = {
      ...partial,
      ...(withNode ? { node: withNode.node } : {}),
      agent: await start(),
      restartAgent: async () => {
        await started.agent.stop();
        started.agent = await start();
      },
    };
    world = started;
  });
  after(async () => {
    await world?.agent.stop();
    if (partial) await options.cleanup?.(partial);
    if (partial && options.node) {
      await partial.cluster.deleteNamespace(partial.ns);
      await partial.cluster.deleteNamespace(partial.apps);
    }
    await partial?.git.stop();
    await partial?.kube.close();
    if (partial) await rm(partial.cacheDir, { recursive: true, force: true });
  });
  return () => {
    if (!world) throw new Error('the agent world is used before its before() hook ran');
    return world;
  };
}
