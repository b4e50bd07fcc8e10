import type { ContinuousDeployment, ContinuousDeploymentStatus } from '../shared/api/continuous-deployment.ts';
import { Annotations, API_VERSION, Finalizers, Kinds } from '../shared/api/constants.ts';
import { Resources } from '../shared/api/resources.ts';
import { describeError, toTidemarkError } from '../shared/errors/index.ts';
import type { TidemarkError } from '../shared/errors/index.ts';
import type { Logger } from '../shared/log/index.ts';
import type { Clock } from '../shared/time/clock.ts';
import { backoffDelay, jittered, reconcileBackoff } from '../shared/time/backoff.ts';
import type { KubeObject } from '../shared/kube/object.ts';
import type { KubeClient } from '../shared/kube/client.ts';
import { isNotFound } from '../shared/kube/errors.ts';
import type { EventRecorder, InvolvedObject } from '../shared/kube/events.ts';
import { WorkQueue } from '../shared/controller/work-queue.ts';
import { listAndWatch, patchStatus } from '../shared/controller/watch.ts';
import { readSpec } from './spec.ts';
import type { DeploymentConfig } from './spec.ts';
import { reconcile } from './reconcile/index.ts';
import { ownerKeyFromLabels } from './plan.ts';
import { deepEqual } from '../shared/kube/compare.ts';
import { statusFromOutcome, suspendedStatus } from './status.ts';
import type { HealthAssessor, Renderer, ResolvedRevision, Source } from './types.ts';
import { readSecretData } from './credentials.ts';
import { credentialsFromSecretData } from '../shared/git/credentials.ts';
import { deleteInventory } from './finalize.ts';
import type { TargetResolver } from './targets.ts';
import { syncWindowState } from './sync-windows.ts';
import { RenderCache } from './render-cache.ts';

export interface ControllerDeps {
  kube: KubeClient;
  targets: TargetResolver;
  source: Source;
  render: Renderer;
  health: HealthAssessor;
  events: EventRecorder;
  clock: Clock;
  log: Logger;
  /** How many ContinuousDeployments reconcile at once. */
  workers: number;
  /** Parallel API calls inside one reconcile. */
  concurrency: number;
  /** Only watch this namespace; all namespaces when omitted. */
  namespace?: string | undefined;
}

interface KeyState {
  failures: number;
  /** Last remote lookup, reused by watch-triggered runs inside the same interval. */
  resolved?: { at: number; generation: number | undefined; revision: ResolvedRevision };
  memo: Map<string, { fingerprint: string; resourceVersion: string }>;
  generation: number | undefined;
  requestedAt: string | undefined;
  deleting: boolean;
}

const CD_PATH = `/apis/${API_VERSION}`;

/**
 * Watches ContinuousDeployments and reconciles each on its own schedule: every pullInterval
 * (±5 % jitter), at once on a spec change or a sync request, and with capped exponential backoff
 * after a failure. One object never reconciles twice at the same time.
 */
export class ContinuousDeploymentController {
  private readonly deps: ControllerDeps;
  private readonly queue: WorkQueue;
  private readonly seen = new Map<string, KeyState>();
  private readonly abort = new AbortController();
  private readonly renderCache = new RenderCache();
  private watching: Promise<void> | undefined;
  private synced = false;

  constructor(deps: ControllerDeps) {
    this.deps = deps;
    this.queue = new WorkQueue(deps.workers, (key) => this.reconcileKey(key), deps.clock);
  }

  /** True once the first list has been read: the readiness probe's signal. */
  get ready(): boolean {
    return this.synced;
  }

  start(): void {
    this.watching = this.watchLoop();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.queue.stop();
    await this.watching?.catch(() => undefined);
  }

  /** Asks for a reconcile now, e.g. from the self-heal watch. */
  trigger(key: string): void {
    this.queue.add(key);
  }

  private async watchLoop(): Promise<void> {
    await listAndWatch<ContinuousDeployment & KubeObject>(
      this.deps.kube.port,
      Resources.ContinuousDeployment,
      {
        onList: (items) => {
          const present = new Set(items.map(keyOf));
          for (const cd of items) this.observe(cd);
          for (const key of this.seen.keys()) if (!present.has(key)) this.gone(key);
          this.synced = true;
        },
        onUpsert: (cd) => this.observe(cd),
        onDelete: (cd) => this.gone(keyOf(cd)),
      },
      { signal: this.abort.signal, namespace: this.deps.namespace, clock: this.deps.clock, log: this.deps.log },
    );
  }

  /** Decides from a watched copy whether to reconcile now. Our own status writes change neither field. */
  private observe(cd: ContinuousDeployment): void {
    const key = keyOf(cd);
    const state = this.seen.get(key);
    const requestedAt = cd.metadata.annotations?.[Annotations.requestedAt];
    const deleting = Boolean(cd.metadata.deletionTimestamp);
    const changed =
      !state || state.generation !== cd.metadata.generation || state.requestedAt !== requestedAt || state.deleting !== deleting;
    this.seen.set(key, {
      ...state,
      failures: state?.failures ?? 0,
      memo: state?.memo ?? new Map(),
      generation: cd.metadata.generation,
      requestedAt,
      deleting,
    });
    if (changed) this.queue.add(key);
  }

  private gone(key: string): void {
    this.seen.delete(key);
    this.queue.forget(key);
  }

  private async reconcileKey(key: string): Promise<void> {
    const [namespace, name] = key.split('/') as [string, string];
    const log = this.deps.log.child({ cd: key });
    const cd = await this.read(namespace, name).catch((err) => {
      log.warn({ err: toTidemarkError(err).message }, 'read failed');
      this.queue.addAfter(key, this.failureDelay(key, undefined));
      return undefined;
    });
    if (!cd) return;
    try {
      if (cd.metadata.deletionTimestamp) {
        await this.finalize(cd, log);
        return;
      }
      if (!cd.metadata.finalizers?.includes(Finalizers.continuousDeployment)) {
        await this.addFinalizer(cd);
      }
      await this.sync(cd, key, log);
    } catch (err) {
      const error = toTidemarkError(err);
      log.error({ reason: error.code, err: error.message }, 'reconcile failed');
      this.queue.addAfter(key, this.failureDelay(key, undefined));
    }
  }

  private async sync(cd: ContinuousDeployment, key: string, log: Logger): Promise<void> {
    const started = this.deps.clock.now();
    let config: DeploymentConfig;
    try {
      config = readSpec(cd);
    } catch (err) {
      await this.reportFailure(cd, toTidemarkError(err), log);
      return; // a spec error waits for the next spec change
    }
    if (config.suspend) {
      await this.writeStatus(cd, suspendedStatus(cd, this.deps.clock.now()));
      log.info({}, 'suspended');
      return;
    }
    const requestedAt = cd.metadata.annotations?.[Annotations.requestedAt];
    const syncRequested = requestedAt !== undefined && requestedAt !== cd.status?.lastHandledRequestedAt;
    const window = syncWindowState(config.policy.windows, this.deps.clock.now(), syncRequested);
    let outcomeError: TidemarkError | undefined;
    try {
      const auth = config.secretRef
        ? credentialsFromSecretData(await readSecretData(this.deps.kube.rest, namespaceOf(cd), config.secretRef))
        : undefined;
      const target = await this.deps.targets.resolve(cd, config);
      const state = this.seen.get(key);
      const outcome = await reconcile(
        { cd, config, auth, syncRequested, windowBlocked: window.blocked, mode: 'sync' },
        {
          kube: target.client.port,
          cache: target.cache,
          memo: state?.memo,
          renderCache: this.renderCache,
          source: this.sourceFor(key, cd, config, syncRequested),
          render: this.deps.render,
          health: this.deps.health,
          clock: this.deps.clock,
          log,
          concurrency: this.deps.concurrency,
          signal: this.abort.signal,
        },
      );
      if (state && outcome.resolved)
        state.resolved = { at: this.deps.clock.now(), generation: cd.metadata.generation, revision: outcome.resolved };
      outcomeError = outcome.error;
      const { status, events } = statusFromOutcome(outcome, {
        cd,
        cluster: target.name,
        namespace: config.targetNamespace ?? namespaceOf(cd),
        nowMs: this.deps.clock.now(),
        handledRequest: syncRequested ? requestedAt : undefined,
        windowMessage: window.blocked ? window.message : undefined,
      });
      if (window.windows > 0)
        status.syncWindow = {
          blocked: window.blocked,
          ...(window.until ? { until: window.until } : {}),
          message: window.message,
        };
      else delete status.syncWindow;
      await this.writeStatus(cd, status);
      for (const e of events) await this.deps.events.record(involved(cd), e.type, e.reason, e.message);
      log.info(
        {
          revision: outcome.resolved?.revision,
          sync: outcome.sync,
          health: outcome.health.status,
          synced: outcome.synced,
          reason: outcome.error?.code,
          err: outcome.error ? describeError(outcome.error) : undefined,
          durationMs: this.deps.clock.now() - started,
        },
        outcome.error ? 'reconcile failed' : 'reconcile finished',
      );
    } catch (err) {
      outcomeError = toTidemarkError(err);
      await this.reportFailure(cd, outcomeError, log);
    }
    this.schedule(key, config, outcomeError);
  }

  /**
   * Runs triggered by a watch event inside the pull interval reuse the last remote lookup: drift
   * repair must not cost a Git round trip. Timer runs, spec changes and sync requests ask Git.
   */
  private sourceFor(key: string, cd: ContinuousDeployment, config: DeploymentConfig, syncRequested: boolean): Source {
    const last = this.seen.get(key)?.resolved;
    const fresh =
      last && !syncRequested && last.generation === cd.metadata.generation && this.deps.clock.now() - last.at < config.intervalMs * 0.9;
    if (!fresh) return this.deps.source;
    return { resolve: async () => last.revision, checkout: this.deps.source.checkout };
  }

  /** A managed object changed or vanished: reconcile its owner now (self-heal, prompt health). */
  onObjectChange(obj: KubeObject): void {
    const key = ownerKeyFromLabels(obj.metadata.labels);
    if (key && this.seen.has(key)) this.queue.add(key);
  }

  private schedule(key: string, config: DeploymentConfig, error: TidemarkError | undefined): void {
    const state = this.seen.get(key);
    if (!error) {
      if (state) state.failures = 0;
      this.queue.addAfter(key, jittered(config.intervalMs, 0.05));
      return;
    }
    // Terminal errors need a human (or a new commit): poll at the interval. Transient ones back off,
    // never waiting longer than the interval.
    const delay = error.kind === 'terminal' ? jittered(config.intervalMs, 0.05) : this.failureDelay(key, config.intervalMs);
    this.queue.addAfter(key, delay);
  }

  private failureDelay(key: string, capMs: number | undefined): number {
    const state = this.seen.get(key);
    const attempt = state ? state.failures++ : 0;
    const delay = backoffDelay(reconcileBackoff, attempt);
    return capMs === undefined ? delay : Math.min(delay, capMs);
  }

  private async reportFailure(cd: ContinuousDeployment, error: TidemarkError, log: Logger): Promise<void> {
    const { status, events } = statusFromOutcome(
      {
        synced: false,
        changes: [],
        resources: cd.status?.resources ?? [],
        sync: 'Unknown',
        health: cd.status?.health ?? { status: 'Unknown' },
        notes: [],
        diffs: [],
        pruneCandidates: [],
        error,
      },
      {
        cd,
        cluster: cd.status?.location?.cluster ?? 'in-cluster',
        namespace: cd.status?.location?.namespace,
        nowMs: this.deps.clock.now(),
        handledRequest: undefined,
      },
    );
    log.warn({ reason: error.code, err: describeError(error) }, 'reconcile failed');
    await this.writeStatus(cd, status).catch((err) => log.warn({ err: toTidemarkError(err).message }, 'status write failed'));
    for (const e of events) await this.deps.events.record(involved(cd), e.type, e.reason, e.message);
  }

  private async finalize(cd: ContinuousDeployment, log: Logger): Promise<void> {
    if (!cd.metadata.finalizers?.includes(Finalizers.continuousDeployment)) return;
    const orphan = cd.metadata.annotations?.[Annotations.deletionPolicy] === 'orphan';
    if (!orphan && !(cd.spec?.suspend ?? false)) {
      let config: DeploymentConfig | undefined;
      try {
        config = readSpec(cd);
      } catch {
        config = undefined;
      }
      const target = config ? await this.deps.targets.resolve(cd, config) : { client: this.deps.kube, name: 'in-cluster' };
      const result = await deleteInventory(cd, target.client, config?.policy.propagation ?? 'background');
      if (result.remaining.length > 0) {
        const message = `could not delete ${result.remaining.length} objects: ${result.message}`;
        await this.deps.events.record(involved(cd), 'Warning', 'DeletionFailed', message);
        throw toTidemarkError(new Error(message), 'DeletionFailed');
      }
      log.info({ deleted: result.deleted }, 'deleted managed objects');
    }
    const finalizers = (cd.metadata.finalizers ?? []).filter((f) => f !== Finalizers.continuousDeployment);
    await this.patchMeta(cd, { finalizers });
    this.deps.targets.forget(cd);
  }

  private async addFinalizer(cd: ContinuousDeployment): Promise<void> {
    const finalizers = [...(cd.metadata.finalizers ?? []), Finalizers.continuousDeployment];
    await this.patchMeta(cd, { finalizers });
    cd.metadata.finalizers = finalizers;
  }

  private async patchMeta(cd: ContinuousDeployment, metadata: Record<string, unknown>): Promise<void> {
    await this.deps.kube.rest.request({
      method: 'PATCH',
      path: `${this.collectionPathFor(cd)}/${encodeURIComponent(cd.metadata.name)}`,
      contentType: 'application/merge-patch+json',
      body: { metadata: { ...metadata, resourceVersion: cd.metadata.resourceVersion } },
    });
  }

  private async writeStatus(cd: ContinuousDeployment, status: ContinuousDeploymentStatus): Promise<void> {
    const before = (cd.status ?? {}) as Record<string, unknown>;
    const after = status as Record<string, unknown>;
    if (STATUS_FIELDS.every((f) => deepEqual(before[f] ?? null, after[f] ?? null))) return;
    try {
      await patchStatus(
        this.deps.kube.rest,
        `${this.collectionPathFor(cd)}/${encodeURIComponent(cd.metadata.name)}`,
        status as Record<string, unknown>,
        STATUS_FIELDS,
      );
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
  }

  private collectionPathFor(cd: ContinuousDeployment): string {
    return `${CD_PATH}/namespaces/${encodeURIComponent(namespaceOf(cd))}/${Kinds.ContinuousDeployment.plural}`;
  }

  private async read(namespace: string, name: string): Promise<ContinuousDeployment | undefined> {
    try {
      return await this.deps.kube.rest.request<ContinuousDeployment>({
        method: 'GET',
        path: `${CD_PATH}/namespaces/${encodeURIComponent(namespace)}/${Kinds.ContinuousDeployment.plural}/${encodeURIComponent(name)}`,
      });
    } catch (err) {
      if (isNotFound(err)) {
        this.gone(`${namespace}/${name}`);
        return undefined;
      }
      throw err;
    }
  }
}

const STATUS_FIELDS = [
  'observedGeneration',
  'sync',
  'health',
  'lastAttemptedRevision',
  'lastAppliedRevision',
  'lastSyncTime',
  'lastHandledRequestedAt',
  'location',
  'resources',
  'conditions',
  'syncWindow',
] as const;

export function keyOf(cd: { metadata: { namespace?: string; name: string } }): string {
  return `${cd.metadata.namespace ?? 'default'}/${cd.metadata.name}`;
}

function namespaceOf(cd: ContinuousDeployment): string {
  return cd.metadata.namespace ?? 'default';
}

function involved(cd: ContinuousDeployment): InvolvedObject {
  const uid = cd.metadata.uid;
  return {
    apiVersion: API_VERSION,
    kind: Kinds.ContinuousDeployment.kind,
    name: cd.metadata.name,
    namespace: namespaceOf(cd),
    ...(uid === undefined ? {} : { uid }),
  };
}
