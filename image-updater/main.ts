import type { Server } from 'node:http';
import { API_VERSION, Kinds } from '../shared/api/constants.ts';
import { createKubeClient, loadKubeConfig } from '../shared/kube/client.ts';
import { EventRecorder } from '../shared/kube/events.ts';
import { createLogger, type Logger } from '../shared/log/index.ts';
import { systemClock, type Clock } from '../shared/time/clock.ts';
import {
  createAccessResolver,
  ImagePolicyController,
  ImageRepositoryController,
  imageObjectsDeriver,
  INLINE_FIELD_MANAGER,
  InlineController,
  MemoryTagStore,
  type InlineDeriver,
  type TagStore,
} from './controllers/index.ts';
import { RegistryClient, type RegistryClientOptions } from './registry/index.ts';
import { automationDeriver, ImageUpdateAutomationController } from './automation/index.ts';

export interface ImageUpdaterOptions {
  kubeconfigPath?: string | undefined;
  context?: string | undefined;
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
}

export interface RunningImageUpdater {
  repositories: ImageRepositoryController;
  policies: ImagePolicyController;
  inline: InlineController;
  automations: ImageUpdateAutomationController;
  healthServer: Server | undefined;
  /** Every controller has listed its objects once. */
  ready(): boolean;
  stop(): Promise<void>;
}

/**
 * Wires the image updater to one cluster: ImageRepository scans feed ImagePolicies, and
 * ContinuousDeployments' inline blocks are turned into both. Nothing below reads flags or env.
 */
export async function startImageUpdater(options: ImageUpdaterOptions): Promise<RunningImageUpdater> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? createLogger({ name: 'image-updater' });
  const workers = options.workers !== undefined && Number.isInteger(options.workers) && options.workers > 0 ? options.workers : 4;
  const kube = createKubeClient(loadKubeConfig({ kubeconfigPath: options.kubeconfigPath, context: options.context }), {
    fieldManager: INLINE_FIELD_MANAGER,
    clock,
  });
  const registry = new RegistryClient({ clock, logger: log.child({ component: 'registry' }), ...options.registry });
  const store = options.store ?? new MemoryTagStore();
  const events = new EventRecorder(kube.rest, { component: 'tidemark-image-updater', clock, log });
  const access = createAccessResolver(kube.rest);
  const common = { rest: kube.rest, port: kube.port, clock, log, workers, namespace: options.namespace, events };

  let policies: ImagePolicyController | undefined;
  const repositories = new ImageRepositoryController({
    ...common,
    registry,
    access,
    store,
    onScanned: (namespace, name) => policies?.triggerFor(namespace, name),
  });
  policies = new ImagePolicyController({ ...common, registry, access, store, repositories });
  const policyController = policies;
  const automations = new ImageUpdateAutomationController(common);

  // Each deriver turns part of a ContinuousDeployment's spec into objects it owns.
  const derivers: InlineDeriver[] = [
    imageObjectsDeriver({
      imageRepository: {
        apiVersion: API_VERSION,
        kind: Kinds.ImageRepository.kind,
        plural: Kinds.ImageRepository.plural,
        lookup: (namespace, name) => repositories.get(namespace, name),
        ready: () => repositories.ready,
      },
      imagePolicy: {
        apiVersion: API_VERSION,
        kind: Kinds.ImagePolicy.kind,
        plural: Kinds.ImagePolicy.plural,
        lookup: (namespace, name) => policyController.get(namespace, name),
        ready: () => policyController.ready,
      },
    }),
    automationDeriver({
      apiVersion: API_VERSION,
      kind: Kinds.ImageUpdateAutomation.kind,
      plural: Kinds.ImageUpdateAutomation.plural,
      lookup: (namespace, name) => automations.get(namespace, name),
      ready: () => automations.ready,
    }),
  ];
  const inline = new InlineController({ ...common, derivers });

  repositories.start();
  policyController.start();
  inline.start();
  automations.start();
  const sweeper = setInterval(
    () => {
      repositories.sweep().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'sweep failed'));
      policyController.sweep();
      automations.sweep();
    },
    options.sweepIntervalMs ?? 5 * 60_000,
  );
  sweeper.unref();

  const ready = () => repositories.ready && policyController.ready && inline.ready && automations.ready;
  let healthServer: Server | undefined;
  if (options.healthAddress) {
    // Loaded only when asked for: the agent's module graph is not otherwise needed here.
    const { serveHealth } = await import('../shared/http/health.ts');
    healthServer = await serveHealth(options.healthAddress, ready);
  }
  log.info({ namespace: options.namespace ?? '*', server: kube.rest.server }, 'image updater started');

  return {
    repositories,
    policies: policyController,
    inline,
    automations,
    healthServer,
    ready,
    async stop() {
      clearInterval(sweeper);
      await Promise.all([inline.stop(), automations.stop(), policyController.stop(), repositories.stop()]);
      const server = healthServer;
      if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
      await registry.close();
      await kube.close();
    },
  };
}
