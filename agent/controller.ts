import type { ContinuousDeployment, ContinuousDeploymentStatus } from '../shared/api/continuous-deployment.ts';
import { Annotations, API_VERSION, Finalizers, Kinds } from '../shared/api/constants.ts';
import { describeError, toTidemarkError } from '../shared/errors/index.ts';
import type { TidemarkError } from '../shared/errors/index.ts';
import type { Logger } from '../shared/log/index.ts';
import type { Clock } from '../shared/time/clock.ts';
import { backoffDelay, jittered, reconcileBackoff } from '../shared/time/backoff.ts';
import type { KubeClient } from '../shared/kube/client.ts';
import { isNotFound } from '../shared/kube/errors.ts';
import type { EventRecorder } from '../shared/kube/events.ts';
import { isObject } from '../shared/kube/object.ts';
import { WorkQueue } from './work-queue.ts';
import { readSpec } from './spec.ts';
import type { DeploymentConfig } from './spec.ts';
import { reconcile } from './reconcile.ts';
import { statusFromOutcome, suspendedStatus } from './status.ts';
import type { HealthAssessor, Renderer, Source } from './types.ts';
import { readSecretData } from './credentials.ts';
import { credentialsFromSecretData } from '../shared/git/credentials.ts';
import { deleteInventory } from './finalize.ts';
import type { TargetResolver } from './targets.ts';
import { syncWindowState } from './sync-windows.ts';

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
  namespace?: string;
}

interface KeyState {
  failures: number;
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
  private watching: Promise<void> | undefined;
  private synced = false;

  constructor(deps: ControllerDeps) {
    this.deps = deps;
    this.queue = new WorkQueue(deps.workers, (key) => this.reconcileKey(key));
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

  private collectionPath(): string {
    const ns = this.deps.namespace ? `/namespaces/${encodeURIComponent(this.deps.namespace)}` : '';
    return `${CD_PATH}${ns}/${Kinds.ContinuousDeployment.plural}`;
  }

  private async watchLoop(): Promise<void> {
    let attempt = 0;
    let resourceVersion: string | undefined;
    while (!this.abort.signal.aborted) {
      try {
        if (resourceVersion === undefined) {
          const list = await this.deps.kube.rest.request<{ metadata: { resourceVersion: string }; items: ContinuousDeployment[] }>({ method: 'GET', path: this.collectionPath() });
          const present = new Set<string>();
          for (const cd of list.items) {
            present.add(keyOf(cd));
            this.observe(cd);
          }
          for (const key of this.seen.keys()) if (!present.has(key)) this.gone(key);
          resourceVersion = list.metadata.resourceVersion;
          this.synced = true;
        }
        await this.deps.kube.rest.watch(this.collectionPath(), { resourceVersion, timeoutSeconds: 300 }, (event) => {
          const obj = event.object;
          if (!isObject(obj) || !isObject(obj.metadata)) return;
          if (typeof obj.metadata.resourceVersion === 'string') resourceVersion = obj.metadata.resourceVersion;
          if (event.type === 'ERROR') {
            // 410 Gone: our resourceVersion is too old; list again.
            resourceVersion = undefined;
            return;
          }
          if (event.type === 'BOOKMARK') return;
          const cd = obj as unknown as ContinuousDeployment;
          if (event.type === 'DELETED') this.gone(keyOf(cd));
          else this.observe(cd);
        }, this.abort.signal);
        attempt = 0;
      } catch (err) {
        if (this.abort.signal.aborted) return;
        resourceVersion = undefined;
        const delay = backoffDelay(reconcileBackoff, attempt++);
        this.deps.log.warn({ err: toTidemarkError(err).message, retryInMs: delay }, 'watch failed');
        await this.deps.clock.sleep(delay, this.abort.signal).catch(() => undefined);
      }
    }
  }

  /** Decides from a watched copy whether to reconcile now. Our own status writes change neither field. */
  private observe(cd: ContinuousDeployment): void {
    const key = keyOf(cd);
    const state = this.seen.get(key);
    const requestedAt = cd.metadata.annotations?.[Annotations.requestedAt];
    const deleting = Boolean(cd.metadata.deletionTimestamp);
    const changed =
      !state ||
      state.generation !== cd.metadata.generation ||
      state.requestedAt !== requestedAt ||
      state.deleting !== deleting;
    this.seen.set(key, { failures: state?.failures ?? 0, generation: cd.metadata.generation, requestedAt, deleting });
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
      const auth = config.secretRef ? credentialsFromSecretData(await readSecretData(this.deps.kube.rest, namespaceOf(cd), config.secretRef)) : undefined;
      const target = await this.deps.targets.resolve(cd, config);
      const outcome = await reconcile(
        { cd, config, auth, syncRequested, windowBlocked: window.blocked },
        { target: target.client, source: this.deps.source, render: this.deps.render, health: this.deps.health, clock: this.deps.clock, log, concurrency: this.deps.concurrency, signal: this.abort.signal },
      );
      outcomeError = outcome.error;
      const { status, events } = statusFromOutcome(outcome, {
        cd,
        cluster: target.name,
        namespace: config.targetNamespace ?? namespaceOf(cd),
        nowMs: this.deps.clock.now(),
        handledRequest: syncRequested ? requestedAt : undefined,
        windowMessage: window.blocked ? window.message : undefined,
      });
      status.syncWindow = window.windows > 0 ? { blocked: window.blocked, ...(window.until ? { until: window.until } : {}), message: window.message } : undefined;
      await this.writeStatus(cd, status);
      for (const e of events) await this.deps.events.record(involved(cd), e.type, e.reason, e.message);
      log.info({
        revision: outcome.resolved?.revision,
        sync: outcome.sync,
        health: outcome.health.status,
        synced: outcome.synced,
        reason: outcome.error?.code,
        err: outcome.error ? describeError(outcome.error) : undefined,
        durationMs: this.deps.clock.now() - started,
      }, outcome.error ? 'reconcile failed' : 'reconcile finished');
    } catch (err) {
      outcomeError = toTidemarkError(err);
      await this.reportFailure(cd, outcomeError, log);
    }
    this.schedule(key, config, outcomeError);
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
      { synced: false, changes: [], resources: cd.status?.resources ?? [], sync: 'Unknown', health: cd.status?.health ?? { status: 'Unknown' }, notes: [], error, failedPhase: undefined },
      { cd, cluster: cd.status?.location?.cluster ?? 'in-cluster', namespace: cd.status?.location?.namespace, nowMs: this.deps.clock.now(), handledRequest: undefined },
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
    // A merge patch replaces lists whole; unset fields are sent as null so they are removed.
    const body: Record<string, unknown> = {};
    for (const field of STATUS_FIELDS) body[field] = (status as Record<string, unknown>)[field] ?? null;
    try {
      await this.deps.kube.rest.request({
        method: 'PATCH',
        path: `${this.collectionPathFor(cd)}/${encodeURIComponent(cd.metadata.name)}/status`,
        contentType: 'application/merge-patch+json',
        body: { status: body },
      });
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
      return await this.deps.kube.rest.request<ContinuousDeployment>({ method: 'GET', path: `${CD_PATH}/namespaces/${encodeURIComponent(namespace)}/${Kinds.ContinuousDeployment.plural}/${encodeURIComponent(name)}` });
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
  'observedGeneration', 'sync', 'health', 'lastAttemptedRevision', 'lastAppliedRevision', 'lastSyncTime',
  'lastHandledRequestedAt', 'location', 'resources', 'conditions', 'syncWindow',
] as const;

export function keyOf(cd: { metadata: { namespace?: string; name: string } }): string {
  return `${cd.metadata.namespace ?? 'default'}/${cd.metadata.name}`;
}

function namespaceOf(cd: ContinuousDeployment): string {
  return cd.metadata.namespace ?? 'default';
}

function involved(cd: ContinuousDeployment) {
  return { apiVersion: API_VERSION, kind: Kinds.ContinuousDeployment.kind, name: cd.metadata.name, namespace: namespaceOf(cd), uid: cd.metadata.uid };
}
