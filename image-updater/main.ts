import type { Server } from 'node:http';
import { createKubeClient } from '../shared/kube/client.ts';
import { loadKubeconfig } from '../shared/kube/kubeconfig/index.ts';
import { EventRecorder } from '../shared/kube/events.ts';
import { createLogger, type Logger } from '../shared/log/index.ts';
import { systemClock, type Clock } from '../shared/time/clock.ts';
import { createAccessResolver, INLINE_FIELD_MANAGER, MemoryTagStore, type TagStore } from './controllers/index.ts';
import { RegistryClient, type RegistryClientOptions } from '../shared/registry/index.ts';
import { wireControllers } from './wiring.ts';
import type { RateLimit } from '../shared/kube/rate-limit.ts';
import { DEFAULT_RATE_LIMIT } from '../shared/kube/rate-limit.ts';

export interface ImageUpdaterOptions {
  /** `--kubeconfig`; without it KUBECONFIG, the service account, then ~/.kube/config. */
  kubeconfigPath?: string | undefined;
  context?: string | undefined;
  /** Where KUBECONFIG, HOME and the in-cluster variables are read; default process.env. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Watch only this namespace; all when omitted. */
  namespace?: string | undefined;
  /** Reconciles in flight per kind; default 4. */
  workers?: number | undefined;
  /** Reserved for a persisted TagStore; the tags are kept in memory today. */
  cacheDir?: string | undefined;
  /** host:port for /healthz and /readyz; none when omitted. */
  healthAddress?: string | undefined;
  log?: Logger;
  clock?: Clock;
  registry?: RegistryClientOptions;
  store?: TagStore;
  /** How often tags, statuses and configs of deleted objects are forgotten; default 5 min. */
  sweepIntervalMs?: number;
  /**
   * `--no-cross-namespace-refs` (lockdown): an ImagePolicy may name only an ImageRepository of its
   * own namespace, whatever the repository grants with accessFrom (as Flux's flag).
   */
  noCrossNamespaceRefs?: boolean | undefined;
  /** `--allow-local-git`: push to file:// repositories (tests and the local demo). */
  allowLocalGit?: boolean | undefined;
  /** Client-side limit of the API requests (`--kube-api-qps`, `--kube-api-burst`); default DEFAULT_RATE_LIMIT. */
  kubeApiRateLimit?: RateLimit | undefined;
}

export interface RunningImageUpdater {
  healthServer: Server | undefined;
  /** Every controller has listed its objects once. */
  ready(): boolean;
  stop(): Promise<void>;
}

/**
 * Wires the image updater to one cluster (see wireControllers for who tells whom). Nothing below
 * reads flags or env.
 */
export async function startImageUpdater(options: ImageUpdaterOptions): Promise<RunningImageUpdater> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? createLogger({ name: 'image-updater' });
  const workers = options.workers !== undefined && Number.isInteger(options.workers) && options.workers > 0 ? options.workers : 4;
  const connection = loadKubeconfig({
    path: options.kubeconfigPath,
    context: options.context,
    env: options.env ?? process.env,
    prefer: 'in-cluster',
  });
  const kube = createKubeClient(connection, {
    fieldManager: INLINE_FIELD_MANAGER,
    clock,
    rateLimit: options.kubeApiRateLimit ?? DEFAULT_RATE_LIMIT,
  });
  const registry = new RegistryClient({ clock, logger: log.child({ component: 'registry' }), ...options.registry });
  const { repositories, policies, automations, runners } = wireControllers({
    rest: kube.rest,
    port: kube.port,
    clock,
    log,
    workers,
    namespace: options.namespace,
    registry,
    access: createAccessResolver(kube.rest),
    store: options.store ?? new MemoryTagStore(),
    events: new EventRecorder(kube.rest, { component: 'tidemark-image-updater', clock, log }),
    noCrossNamespaceRefs: options.noCrossNamespaceRefs === true,
    automation: { allowLocalGit: options.allowLocalGit === true },
  });

  for (const runner of runners) runner.start();
  const sweeper = setInterval(
    () => {
      repositories.sweep().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'sweep failed'));
      policies.sweep();
      automations.sweep();
    },
    options.sweepIntervalMs ?? 5 * 60_000,
  );
  sweeper.unref();

  const ready = () => runners.every((runner) => runner.ready);
  let healthServer: Server | undefined;
  if (options.healthAddress) {
    // Loaded only when asked for: the agent's module graph is not otherwise needed here.
    const { serveHealth } = await import('../shared/http/health.ts');
    healthServer = await serveHealth(options.healthAddress, ready);
  }
  log.info(
    {
      namespace: options.namespace ?? '*',
      server: kube.rest.server,
      noCrossNamespaceRefs: options.noCrossNamespaceRefs === true,
      allowLocalGit: options.allowLocalGit === true,
    },
    'image updater started',
  );

  return {
    healthServer,
    ready,
    async stop() {
      clearInterval(sweeper);
      await Promise.all(runners.map((runner) => runner.stop()));
      await automations.close();
      const server = healthServer;
      if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
      await registry.close();
      await kube.close();
    },
  };
}
