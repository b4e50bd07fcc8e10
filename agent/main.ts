import { readCachedCommit } from '../shared/git/commit-summary.ts';
import type { Server } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { FIELD_MANAGER } from '../shared/api/constants.ts';
import type { Logger } from '../shared/log/index.ts';
import { createLogger } from '../shared/log/index.ts';
import type { Clock } from '../shared/time/clock.ts';
import { systemClock } from '../shared/time/clock.ts';
import { createKubeClient } from '../shared/kube/client.ts';
import { KubeRest } from '../shared/kube/rest.ts';
import { loadKubeconfig } from '../shared/kube/kubeconfig/index.ts';
import { EventRecorder } from '../shared/kube/events.ts';
import { ContinuousDeploymentController } from './controller.ts';
import { createTargetResolver } from './targets.ts';
import { createAgentSource } from './source.ts';
import { createRenderer } from './renderer.ts';
import { CrdFactsReader } from './crd-facts.ts';
import { createHealthAssessor } from './health-assessor.ts';
import { serveHealth } from '../shared/http/health.ts';
import { readSecretData } from '../shared/kube/secrets.ts';
import { readConfigMapData } from '../shared/kube/config-maps.ts';
import { RenderCache } from './render-cache.ts';
import { rememberCommitSubjects } from './commit-subjects.ts';
import { watchImagePushes } from './image-pushes.ts';
import { lazyRegistry } from './lazy-registry.ts';
import type { RenderLimitOptions } from './render/index.ts';
import type { RateLimit } from '../shared/kube/rate-limit.ts';
import { DEFAULT_RATE_LIMIT } from '../shared/kube/rate-limit.ts';
import { ShardMembership } from '../shared/controller/membership.ts';
import type { LeaseTimings } from '../shared/controller/lease-timings.ts';
import { watchShardOwnedKeys } from '../shared/metrics/index.ts';

export interface AgentOptions {
  /** `--kubeconfig`; without it KUBECONFIG, the service account, then ~/.kube/config. */
  kubeconfigPath?: string | undefined;
  context?: string | undefined;
  /** Where KUBECONFIG, HOME and the in-cluster variables are read; default process.env. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Watch only this namespace. */
  namespace?: string | undefined;
  /** Reconcile only the ContinuousDeployments this label selector picks (one shard of several agents). */
  watchLabelSelector?: string | undefined;
  /**
   * `--shard-auto`: this agent is one replica of a group that splits the deployments among its
   * live members by rendezvous hashing over member Leases (ADR 0012).
   */
  autoSharding?: AutoShardingOptions | undefined;
  workers?: number | undefined;
  concurrency?: number | undefined;
  cacheDir?: string | undefined;
  kustomizeCommand?: string[] | undefined;
  /** The helm executable for charts; default `helm` on PATH. */
  helmBinary?: string | undefined;
  /**
   * Files, bytes and objects one render may take (defaults: 10,000 files and directories, 64 MiB,
   * 20,000 objects); its deadline is each deployment's spec.timeout.
   */
  renderLimits?: Omit<RenderLimitOptions, 'timeoutMs'> | undefined;
  /** host:port for /healthz and /readyz; none when omitted. */
  healthAddress?: string | undefined;
  /**
   * Lockdown (`--default-service-account`): deployments that name no ServiceAccount act as this
   * one of their own namespace, except in `agentIdentityNamespaces`. Omitted: they act as the agent.
   */
  defaultServiceAccount?: string | undefined;
  /** `--agent-identity-namespaces`: whose deployments may still act as the agent itself. */
  agentIdentityNamespaces?: readonly string[] | undefined;
  /**
   * `--no-cross-namespace-refs`: a ContinuousDeployment names its Secrets (Git, kubeconfig) by name
   * only, always read from its own namespace; the flag refuses a spec.dependsOn entry in another
   * namespace (a problem of the spec).
   */
  noCrossNamespaceRefs?: boolean | undefined;
  /** `--allow-local-git`: accept file:// repository URLs (tests and the local demo). */
  allowLocalGit?: boolean | undefined;
  clusterName?: string | undefined;
  /**
   * Client-side limit of the API requests to each cluster (`--kube-api-qps`, `--kube-api-burst`),
   * so a storm of new deployments cannot overload an API server; default DEFAULT_RATE_LIMIT.
   */
  kubeApiRateLimit?: RateLimit | undefined;
  log?: Logger;
  clock?: Clock;
}

export interface AutoShardingOptions {
  /** Where the member Leases live. */
  namespace: string;
  /** Replicas with the same group share its deployments (`<release>-tidemark-agent`). */
  group: string;
  /** This replica's name in the group; default the host name and a random suffix. */
  identity?: string | undefined;
  timings?: LeaseTimings | undefined;
}

export interface RunningAgent {
  controller: ContinuousDeploymentController;
  healthServer: Server | undefined;
  /** The deployments have been listed once. */
  ready(): boolean;
  /** Under automatic sharding: resolves with why once this replica lost its member Lease and must exit. */
  lost?: Promise<string>;
  stop(): Promise<void>;
}

/** Wires the agent to one cluster. The library below never reads flags or the environment. */
export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? createLogger({ name: 'agent' });
  const connection = loadKubeconfig({
    path: options.kubeconfigPath,
    context: options.context,
    env: options.env ?? process.env,
    prefer: 'in-cluster',
  });
  const rateLimit = options.kubeApiRateLimit ?? DEFAULT_RATE_LIMIT;
  const kube = createKubeClient(connection, { fieldManager: FIELD_MANAGER, clock, rateLimit });
  const sharding = options.autoSharding;
  // Its own client, outside the rate limit: a renewal queued behind reconciles could miss its
  // deadline while this replica's other requests still get through (leader election does the same).
  const membershipRest = sharding ? new KubeRest(connection) : undefined;
  const membership = sharding
    ? new ShardMembership({
        rest: membershipRest ?? kube.rest,
        namespace: sharding.namespace,
        group: sharding.group,
        ...(sharding.identity === undefined ? {} : { identity: sharding.identity }),
        ...(sharding.timings === undefined ? {} : { timings: sharding.timings }),
        clock,
        log,
      })
    : undefined;
  const targets = createTargetResolver(kube, {
    clock,
    rateLimit,
    log,
    homeName: options.clusterName,
    // Watches start only with the controller below, so it exists by the time this is called.
    onObjectChange: (obj, serves, event) => controller.onObjectChange(obj, serves, event),
  });
  // OCI sources (repoType oci) reach registries with the image updater's client, loaded on their first call.
  const registry = lazyRegistry({ clock, logger: log, userAgent: 'tidemark-agent' });
  const sourcesDir = options.cacheDir ?? join(homedir(), '.cache', 'tidemark', 'sources');
  const controller: ContinuousDeploymentController = new ContinuousDeploymentController({
    kube: kube.port,
    targets,
    secrets: (namespace, name, identity) =>
      readSecretData(identity ? kube.rest.as(identity) : kube.rest, namespace, name, { field: 'spec.secretRef' }),
    configMaps: (namespace, name, identity) => readConfigMapData(identity ? kube.rest.as(identity) : kube.rest, namespace, name),
    renderCache: new RenderCache(),
    source: createAgentSource({ cacheDir: sourcesDir, log, registry }),
    // OCI artifacts and charts have no commit message: their history entries name the revision alone.
    commitSubject: rememberCommitSubjects(async (config, sha) =>
      config.repoType === 'git' ? (await readCachedCommit(sourcesDir, config.url, sha)).subject : undefined,
    ),
    render: createRenderer({
      kustomizeCommand: options.kustomizeCommand,
      helmBinary: options.helmBinary,
      registry,
      limits: options.renderLimits,
    }),
    health: createHealthAssessor({ clock }),
    crds: new CrdFactsReader(clock),
    events: new EventRecorder(kube.rest, { component: 'tidemark-agent', clock, log }),
    clock,
    log,
    workers: options.workers ?? 4,
    concurrency: options.concurrency ?? 8,
    namespace: options.namespace,
    watchLabelSelector: options.watchLabelSelector,
    owns: membership ? (key) => membership.owns(key) : undefined,
    tenancy: {
      defaultServiceAccount: options.defaultServiceAccount,
      agentIdentityNamespaces: options.agentIdentityNamespaces,
      noCrossNamespaceRefs: options.noCrossNamespaceRefs === true,
    },
    allowLocalGit: options.allowLocalGit,
  });
  const imagePushes = watchImagePushes({
    kube: kube.port,
    clock,
    log,
    namespace: options.namespace,
    onPush: (namespace, name) => controller.refresh(namespace, name),
  });
  controller.start();
  imagePushes.start();
  const unwatchOwned = membership ? watchShardOwnedKeys('ContinuousDeployment', () => controller.owned()) : undefined;
  try {
    await membership?.start({
      drain: () => controller.drain((key) => membership.keeps(key)),
      resume: () => controller.resume(),
    });
  } catch (err) {
    // No member Lease (RBAC, no API server): nothing of this replica may keep running.
    unwatchOwned?.();
    await imagePushes.stop();
    await controller.stop();
    await targets.close();
    await membershipRest?.close();
    await kube.close();
    throw err;
  }
  const healthServer = options.healthAddress ? await serveHealth(options.healthAddress, () => controller.ready) : undefined;
  log.info(
    {
      namespace: options.namespace ?? '*',
      watchLabelSelector: options.watchLabelSelector,
      shardGroup: sharding?.group,
      shardIdentity: membership?.identity,
      server: kube.rest.server,
      defaultServiceAccount: options.defaultServiceAccount,
      agentIdentityNamespaces: options.agentIdentityNamespaces,
      allowLocalGit: options.allowLocalGit === true,
      noCrossNamespaceRefs: options.noCrossNamespaceRefs === true,
    },
    'agent started',
  );
  return {
    controller,
    healthServer,
    ready: () => controller.ready,
    ...(membership ? { lost: membership.lost } : {}),
    async stop() {
      await imagePushes.stop();
      await controller.stop();
      // Only now, with no run left, may the others take this replica's deployments.
      unwatchOwned?.();
      await membership?.stop();
      await membershipRest?.close();
      await new Promise<void>((resolve) => (healthServer ? healthServer.close(() => resolve()) : resolve()));
      await targets.close();
      await registry.close();
      await kube.close();
    },
  };
}
