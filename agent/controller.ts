import type { ContinuousDeployment, ContinuousDeploymentStatus } from '../shared/api/continuous-deployment.ts';
import { Annotations, Finalizers } from '../shared/api/constants.ts';
import { Resources } from '../shared/api/resources.ts';
import { involvedObject, keyOf, namespaceOf } from '../shared/controller/objects.ts';
import type { ResourceStatus } from '../shared/api/continuous-deployment.ts';
import { objectKey, refOf } from '../shared/kube/object.ts';
import { Controller, type ReconcileResult } from '../shared/controller/runner.ts';
import type { Park } from '../shared/controller/work-queue.ts';
import { writeStatus } from '../shared/controller/status-writer.ts';
import { describeError, isTidemarkError, TidemarkError, toTidemarkError, transient } from '../shared/errors/index.ts';
import { refuseLocalRepository } from '../shared/git/transport.ts';
import type { EventType, InvolvedObject } from '../shared/kube/events.ts';
import type { KubeObject } from '../shared/kube/object.ts';
import type { CacheEvent } from '../shared/kube/object-cache.ts';
import type { ServiceAccountIdentity } from '../shared/kube/impersonation.ts';
import type { KubePort } from '../shared/kube/port.ts';
import type { Logger } from '../shared/log/index.ts';
import type { Clock } from '../shared/time/clock.ts';
import type { Reason } from '../shared/errors/index.ts';
import { credentialsFor, readCredentialsEarly, type EarlyCredentials, type SecretReader } from './early-credentials.ts';
import { deleteInventory, deletionTarget, keepsObjects } from './finalize.ts';
import { syncTrigger } from './history.ts';
import { NewerIntent } from './newer-intent.ts';
import { ownerToWake } from './plan.ts';
import type { Owner } from './plan.ts';
import { reconcile, runBudget, runPostDeleteHooks } from './reconcile/index.ts';
import type { NamespaceObjects, SyncMemo } from './reconcile/index.ts';
import { ReferenceWatch, referencesOf } from './references.ts';
import type { CrdFactsReader } from './crd-facts.ts';
import type { RenderCache } from './render-cache.ts';
import {
  combineErrors,
  crossNamespaceDependencies,
  Problems,
  validateContinuousDeploymentSpec,
  type Dependency,
  type DeploymentConfig,
} from '../shared/spec/index.ts';
import {
  configEdges,
  cycleError,
  dependencyError,
  DependencyIndex,
  deploymentEdges,
  findCycle,
  judgeDependency,
  reaches,
  type Found,
} from './dependencies.ts';
import { sourceCredentials } from './source.ts';
import { statusFromOutcome, suspendedStatus } from './status.ts';
import { syncWindowState } from './sync-windows.ts';
import type { Target, TargetResolver } from './targets.ts';
import { deploymentIdentity, type TenancyOptions } from './tenancy.ts';
import type { GitAuth, HealthAssessor, ReconcileOutcome, Renderer, ResolvedRevision, Source } from './types.ts';

/** Records Kubernetes Events; `EventRecorder` is the real one. */
export interface EventSink {
  record(object: InvolvedObject, type: EventType, reason: Reason, message: string, metadata?: Record<string, string>): Promise<void>;
}

export type { SecretReader } from './early-credentials.ts';

/** Reads a ConfigMap's data as text, as `identity` when one is given; undefined when it does not exist. */
export type ConfigMapReader = (
  namespace: string,
  name: string,
  identity?: ServiceAccountIdentity,
) => Promise<Record<string, string> | undefined>;

export interface ControllerDeps {
  /** The agent's own cluster, where the ContinuousDeployments live. */
  kube: KubePort;
  targets: TargetResolver;
  secrets: SecretReader;
  /** spec.postBuild.substituteFrom ConfigMaps; without it they are read as the agent. */
  configMaps?: ConfigMapReader | undefined;
  source: Source;
  render: Renderer;
  health: HealthAssessor;
  /** CRD lookups for the health of custom resources without status (one reader, its cache shared). */
  crds?: CrdFactsReader | undefined;
  events: EventSink;
  clock: Clock;
  log: Logger;
  /** How many ContinuousDeployments reconcile at once. */
  workers: number;
  /** Parallel API calls inside one reconcile. */
  concurrency: number;
  /** Only watch this namespace; all namespaces when omitted. */
  namespace?: string | undefined;
  /** `--watch-label-selector`: this agent is one shard and reconciles only the deployments it selects. */
  watchLabelSelector?: string | undefined;
  /** `--shard-auto`: whether this replica may start `namespace/name` now (ShardMembership.owns). */
  owns?: ((key: string) => boolean) | undefined;
  /** Plain-YAML renders by commit and path, shared by every ContinuousDeployment; none: render every time. */
  renderCache?: RenderCache | undefined;
  /** Who deployments act as (serviceAccountName, lockdown); none: the agent, unless a spec names one. */
  tenancy?: TenancyOptions | undefined;
  /** Let file:// repository URLs through (tests, the local demo); refused otherwise. */
  allowLocalGit?: boolean | undefined;
  /** The first line of a fetched commit's message, for status.history; none (or undefined): no subject. */
  commitSubject?: ((config: DeploymentConfig, sha: string) => Promise<string | undefined>) | undefined;
}

type CdObject = ContinuousDeployment & KubeObject;

/** What the agent keeps per ContinuousDeployment between runs; dropped when the object goes. */
interface KeyState {
  memo: SyncMemo;
  /** Last remote lookup, reused by watch-triggered runs inside the same interval. */
  resolved?: { at: number; generation: number | undefined; revision: ResolvedRevision };
  /** Set by refresh(): the next run asks Git even inside the pull interval. */
  refresh?: boolean;
  /** The inventory we last wrote: the watched copy of the ContinuousDeployment lags our own write. */
  inventory?: readonly ResourceStatus[] | undefined;
  /**
   * While a sync runs: objects that changed before its inventory named them (a first apply), woken
   * for once that inventory is written. Else their change (a Pod turning ready) waits the interval.
   */
  missed?: Set<string> | undefined;
  /** While a sync runs: what ends its waits when a newer commit, spec or sync request comes. */
  running?: NewerIntent | undefined;
}

/** How soon to look again at a deletion that needs a person (a spec fix, an annotation); a change triggers sooner. */
const STUCK_DELETION_RETRY_MS = 5 * 60_000;

/**
 * Reconciles ContinuousDeployments on the shared controller loop: every pullInterval (±5 %
 * jitter), at once on a spec change, a sync request or a deletion, when a managed object changes
 * (self-heal), and with capped backoff after a transient failure.
 */
export class ContinuousDeploymentController {
  private readonly deps: ControllerDeps;
  private readonly runner: Controller<CdObject>;
  private readonly state = new Map<string, KeyState>();
  /** Who depends on whom (spec.dependsOn between ContinuousDeployments), from every watched spec. */
  private readonly dependencies = new DependencyIndex();
  /** Who uses which ConfigMap or Secret (postBuild.substituteFrom, decryption.secretRef): a change wakes them. */
  private readonly references: ReferenceWatch;

  constructor(deps: ControllerDeps) {
    this.deps = deps;
    this.runner = new Controller<CdObject>({
      name: 'continuousdeployment',
      kube: deps.kube,
      resource: Resources.ContinuousDeployment,
      namespace: deps.namespace,
      labelSelector: deps.watchLabelSelector,
      clock: deps.clock,
      log: deps.log,
      workers: deps.workers,
      reconcile: (obj, signal, park) => this.reconcile(obj, signal, park),
      changed: (previous, next) => this.observe(previous, next),
      forget: (key) => this.forget(key),
      dropManagedFields: true,
      ...(deps.owns ? { owns: deps.owns } : {}),
    });
    this.references = new ReferenceWatch(deps.kube, {
      clock: deps.clock,
      log: deps.log,
      namespace: deps.namespace,
      wake: (key) => this.wake([key]),
    });
  }

  /** True once the first list has been read: the readiness probe's signal. */
  get ready(): boolean {
    return this.runner.ready;
  }

  start(): void {
    this.runner.start();
  }

  /** Automatic sharding: stop the runs of deployments `keeps` gives away; resolves once they have ended. */
  drain(keeps: (key: string) => boolean): Promise<void> {
    return this.runner.drain(keeps);
  }

  /** Automatic sharding: the view settled; run the deployments this replica owns now. */
  resume(): void {
    this.runner.resume();
  }

  /** The watched deployments this replica may reconcile now. */
  owned(): number {
    return this.runner.owned();
  }

  stop(): Promise<void> {
    this.references.stop();
    return this.runner.stop();
  }

  /** New commits were pushed for `namespace/name` (image-pushes.ts): run it now and look at Git again. */
  refresh(namespace: string, name: string): void {
    // A flag, not dropping `resolved`: a run in flight would set it again with the old revision.
    const state = this.state.get(`${namespace}/${name}`);
    if (state) state.refresh = true;
    state?.running?.lookNow();
    this.runner.trigger(namespace, name);
  }

  /**
   * A managed object changed or vanished: reconcile its owner now (self-heal, prompt health).
   * Only an object in the owner's inventory counts: labels alone are anyone's to write.
   */
  onObjectChange(obj: KubeObject, serves?: (owner: Owner) => boolean, event?: CacheEvent): void {
    const key = objectKey(refOf(obj));
    // The copy a run last saw in sync (most often the echo of our own apply) changes nothing a run
    // would act on: waking for it cost a full reconcile per healed object's echo (bench item 3).
    const seenInSync = (state: KeyState | undefined) =>
      event === 'upsert' &&
      obj.metadata.resourceVersion !== undefined &&
      state?.memo.get(key)?.resourceVersion === obj.metadata.resourceVersion;
    const owner = ownerToWake(
      obj,
      (o) => {
        const state = this.state.get(`${o.namespace}/${o.name}`);
        if (!seenInSync(state)) state?.missed?.add(key);
        return state?.inventory ?? this.runner.get(o.namespace, o.name)?.status?.resources;
      },
      serves,
    );
    if (owner && !seenInSync(this.state.get(`${owner.namespace}/${owner.name}`))) this.runner.trigger(owner.namespace, owner.name);
  }

  /**
   * Every watched change: keeps the dependency index, and wakes the deployments that depend on
   * this one when its readiness may have changed (dependsOn retries on the dependency's change,
   * not only on its own interval).
   */
  private observe(previous: CdObject | undefined, next: CdObject): boolean {
    const key = keyOf(next);
    // Only a change counts: a copy the run started from may reach the watch after the run's own read.
    if (previous && needsRun(previous, next)) this.state.get(key)?.running?.observe(next);
    this.dependencies.set(key, deploymentEdges(next));
    this.references.set(key, referencesOf(next));
    const dependents = this.dependencies.dependentsOf(key);
    if (dependents.length > 0 && (!previous || readinessMayDiffer(previous, next))) this.wake(dependents);
    return needsRun(previous, next);
  }

  /** Gone: its dependents learn it is missing, and a dependency held for its deletion may go now. */
  private forget(key: string): void {
    this.state.delete(key);
    this.references.set(key, []);
    const dependencies = this.dependencies.dependenciesOf(key);
    this.dependencies.remove(key);
    this.wake([...dependencies, ...this.dependencies.dependentsOf(key)]);
  }

  private wake(keys: readonly string[]): void {
    for (const key of keys) {
      const slash = key.indexOf('/');
      this.runner.trigger(key.slice(0, slash), key.slice(slash + 1));
    }
  }

  /** A change the run could not see may concern an object its inventory now names: run again. */
  private wakeForMissed(cd: CdObject, state: KeyState, inventory: readonly ResourceStatus[] | undefined): void {
    const missed = state.missed;
    state.missed = undefined;
    if (!missed || missed.size === 0 || !inventory) return;
    if (inventory.some((entry) => missed.has(objectKey(entry)))) this.runner.trigger(namespaceOf(cd), cd.metadata.name);
  }

  private async reconcile(watched: CdObject, signal: AbortSignal, park: Park): Promise<ReconcileResult> {
    // The run's duration (logged, and what bench item 2 reads) counts every request, this GET too.
    const started = this.deps.clock.now();
    const namespace = namespaceOf(watched);
    const credentials = readCredentialsEarly(watched, this.deps.secrets, this.deps.tenancy ?? {});
    // The watched copy may predate our own last status write; the inventory must be the newest.
    const cd = (await this.deps.kube.get(Resources.ContinuousDeployment, namespace, watched.metadata.name)) as CdObject | undefined;
    if (!cd) return {};
    const log = this.deps.log.child({ cd: keyOf(cd) });
    if (cd.metadata.deletionTimestamp) return this.finalize(cd, log, signal, park);
    if (!cd.metadata.finalizers?.includes(Finalizers.continuousDeployment)) {
      const finalizers = [...(cd.metadata.finalizers ?? []), Finalizers.continuousDeployment];
      const patched = await this.deps.kube.patchMetadata(Resources.ContinuousDeployment, namespace, cd.metadata.name, {
        finalizers,
        resourceVersion: cd.metadata.resourceVersion,
      });
      cd.metadata.finalizers = finalizers;
      if (patched.metadata.resourceVersion !== undefined) cd.metadata.resourceVersion = patched.metadata.resourceVersion;
    }
    const key = keyOf(cd);
    return this.sync(cd, log, signal, park, { started, credentials }).finally(() => {
      const state = this.state.get(key);
      if (state) state.missed = undefined;
    });
  }

  /**
   * One sync within its budget: Git and the render end when `spec.timeout` (at most 1h) has passed
   * since the start, and so do the waits for CRDs, Namespaces and health, which do not hold one of
   * the workers while they sleep (`park`). So a deployment holds a worker only while it works, for
   * at most its Git calls and its applies, and slow deployments cannot starve the others.
   */
  private async sync(
    cd: CdObject,
    log: Logger,
    signal: AbortSignal,
    park: Park,
    run: { started: number; credentials: EarlyCredentials | undefined },
  ): Promise<ReconcileResult> {
    const { started } = run;
    const read = validateContinuousDeploymentSpec(cd.spec);
    if (!read.ok) {
      // Every problem in one condition and one Event; a spec error waits for the next spec change.
      await this.reportFailure(cd, combineErrors(read.errors), log);
      return {};
    }
    const config = read.value;
    if (config.suspend) {
      await this.writeStatus(cd, suspendedStatus(cd, this.deps.clock.now()));
      log.info({}, 'suspended');
      return {};
    }
    const key = keyOf(cd);
    const refused = this.refuseDependencies(cd, config);
    if (refused) {
      await this.reportFailure(cd, refused, log);
      return {};
    }
    const state = this.stateOf(key);
    state.missed = new Set();
    const requestedAt = cd.metadata.annotations?.[Annotations.requestedAt];
    const syncRequested = requestedAt !== undefined && requestedAt !== cd.status?.lastHandledRequestedAt;
    let window: ReturnType<typeof syncWindowState>;
    let outcome: ReconcileOutcome;
    let cluster: string;
    const budget = runBudget(this.deps.clock, config.timeoutMs, signal);
    let auth: GitAuth | undefined;
    const newer = new NewerIntent(cd, {
      clock: this.deps.clock,
      log,
      intervalMs: config.intervalMs,
      lookUp: async (ended) => (await this.deps.source.resolve(config, auth, AbortSignal.any([budget.signal, ended]))).revision,
    });
    state.running = newer;
    try {
      window = syncWindowState(config.policy.windows, this.deps.clock.now(), syncRequested);
      if (config.repoType === 'git') refuseLocalRepository(config.url, this.deps.allowLocalGit === true);
      const identity = deploymentIdentity(cd, this.deps.tenancy ?? {});
      auth = config.secretRef
        ? sourceCredentials(config, await credentialsFor(namespaceOf(cd), config.secretRef, identity, run.credentials, this.deps.secrets))
        : undefined;
      const target = await this.deps.targets.resolve(cd, config, identity);
      cluster = target.name;
      // Reported like any failure before the fetch: Ready False, nothing applied, retried.
      const waiting = await this.dependencyWait(cd, config.dependsOn, target);
      if (waiting) throw waiting;
      outcome = await reconcile(
        { cd, config, auth, syncRequested, windowBlocked: window.blocked, mode: 'sync' },
        {
          kube: target.kube,
          cache: target.cache,
          identity: target.identity,
          memo: state.memo,
          renderCache: this.deps.renderCache,
          namespaceObjects: this.namespaceObjects(namespaceOf(cd), identity),
          source: withSignal(this.sourceFor(state, cd, config, syncRequested), budget.signal, (r) => newer.resolved(r.revision)),
          render: (dir, path, _signal, _timeoutMs, request) => this.deps.render(dir, path, budget.signal, undefined, request),
          health: this.deps.health,
          crds: this.deps.crds,
          clock: this.deps.clock,
          log,
          concurrency: this.deps.concurrency,
          signal,
          deadline: budget.deadline,
          park,
          newer: newer.signal,
        },
      );
    } catch (err) {
      const error = toTidemarkError(err);
      await this.reportFailure(cd, error, log);
      return nextRun(config.intervalMs, error);
    } finally {
      budget.end();
      newer.end();
      state.running = undefined;
    }
    if (outcome.superseded) {
      // The next run starts as soon as this one ends, and asks Git: it may be a new commit.
      state.refresh = true;
      this.runner.trigger(namespaceOf(cd), cd.metadata.name);
    }
    if (outcome.resolved) state.resolved = { at: this.deps.clock.now(), generation: cd.metadata.generation, revision: outcome.resolved };
    const subject = outcome.resolved ? await this.commitSubject(config, outcome.resolved.sha, log) : undefined;
    const why = syncTrigger({
      syncRequested,
      requestedBy: cd.metadata.annotations?.[Annotations.requestedBy],
      generation: cd.metadata.generation,
      observedGeneration: cd.status?.observedGeneration,
      revisionChanged: outcome.resolved !== undefined && outcome.resolved.revision !== cd.status?.lastAppliedRevision,
      subject,
    });
    const { status, events } = statusFromOutcome(outcome, {
      cd,
      cluster,
      namespace: config.targetNamespace ?? namespaceOf(cd),
      nowMs: this.deps.clock.now(),
      // A request whose run was superseded is not answered yet: the next run still counts it.
      handledRequest: syncRequested && !outcome.superseded ? requestedAt : undefined,
      windowMessage: window.blocked ? window.message : undefined,
      run: { startedMs: started, ...why, subject },
    });
    if (window.windows > 0) {
      status.syncWindow = { blocked: window.blocked, ...(window.until ? { until: window.until } : {}), message: window.message };
    } else delete status.syncWindow;
    // The work is done; what is left only waits for the API server (the status, then its Events in
    // order), so the worker serves the next deployment meanwhile: with a worker held here, 1,000
    // first syncs spent two of their seven round trips each holding one (bench item 9).
    await park(async () => {
      await this.writeStatus(cd, status);
      state.inventory = status.resources;
      this.wakeForMissed(cd, state, status.resources);
      const revision = outcome.resolved?.revision;
      for (const e of events) await this.deps.events.record(involvedObject(cd), e.type, e.reason, e.message, revision ? { revision } : {});
    });
    log.info(
      {
        revision: outcome.resolved?.revision,
        sync: outcome.sync,
        health: outcome.health.status,
        synced: outcome.synced,
        reason: outcome.error?.code ?? (outcome.superseded ? 'Superseded' : undefined),
        err: outcome.error ? describeError(outcome.error) : undefined,
        supersededBy: outcome.superseded?.by,
        durationMs: this.deps.clock.now() - started,
      },
      outcome.error ? 'reconcile failed' : 'reconcile finished',
    );
    return nextRun(config.intervalMs, outcome.error);
  }

  /** Best effort: a history entry without its subject beats a failed status write. */
  private async commitSubject(config: DeploymentConfig, sha: string, log: Logger): Promise<string | undefined> {
    if (!this.deps.commitSubject) return undefined;
    try {
      return await this.deps.commitSubject(config, sha);
    } catch (err) {
      log.debug({ err: describeError(toTidemarkError(err)) }, 'commit subject unreadable');
      return undefined;
    }
  }

  /**
   * Runs triggered by a watch event inside the pull interval reuse the last remote lookup: drift
   * repair must not cost a Git round trip. Timer runs, spec changes and sync requests ask Git.
   */
  private sourceFor(state: KeyState, cd: ContinuousDeployment, config: DeploymentConfig, syncRequested: boolean): Source {
    const last = state.resolved;
    const refresh = state.refresh === true;
    state.refresh = false;
    const fresh =
      last &&
      !refresh &&
      !syncRequested &&
      last.generation === cd.metadata.generation &&
      this.deps.clock.now() - last.at < config.intervalMs * 0.9;
    if (!fresh) return this.deps.source;
    return {
      resolve: () => Promise.resolve(last.revision),
      checkout: (...args) => this.deps.source.checkout(...args),
    };
  }

  /** Deletes what the ContinuousDeployment deployed (unless it orphans them), then lets it go. */
  private async finalize(cd: CdObject, log: Logger, signal: AbortSignal, park: Park): Promise<ReconcileResult> {
    if (!cd.metadata.finalizers?.includes(Finalizers.continuousDeployment)) return {};
    if (!keepsObjects(cd)) {
      const held = this.heldByDependents(cd);
      if (held) return this.deletionFailed(cd, held, log);
      const found = await deletionTarget(cd, this.deps.targets, this.deps.tenancy ?? {}).catch((err: unknown) => ({
        error: toTidemarkError(err),
      }));
      if ('error' in found) return this.deletionFailed(cd, found.error, log);
      const result = await deleteInventory(cd, found.target.kube, found.propagation);
      if (result.remaining.length > 0) {
        const first = result.remaining[0]?.error;
        const message = `could not delete ${result.remaining.length} objects: ${result.message}`;
        // Forbidden or invalid needs a person; anything else may pass on a retry.
        const kind = first?.kind ?? 'transient';
        return this.deletionFailed(cd, new TidemarkError('DeletionFailed', message, { kind, hint: first?.hint, cause: first }), log);
      }
      log.info({ deleted: result.deleted }, 'deleted managed objects');
      if ((cd.status?.postDeleteHooks ?? 0) > 0) {
        const failed = await this.postDelete(cd, found.target, log, signal, park);
        if (failed) return this.deletionFailed(cd, failed, log);
      }
    }
    const finalizers = (cd.metadata.finalizers ?? []).filter((f) => f !== Finalizers.continuousDeployment);
    await this.deps.kube.patchMetadata(Resources.ContinuousDeployment, namespaceOf(cd), cd.metadata.name, {
      finalizers,
      resourceVersion: cd.metadata.resourceVersion,
    });
    this.deps.targets.forget(cd);
    return {};
  }

  /**
   * The PostDelete hooks of the last applied revision, run once its objects are deleted (Argo CD
   * 2.10+). Only for a deployment whose last sync found some (status.postDeleteHooks), so a
   * deletion never depends on Git otherwise. Undefined when they all succeeded.
   */
  private async postDelete(cd: CdObject, target: Target, log: Logger, signal: AbortSignal, park: Park): Promise<TidemarkError | undefined> {
    const orphan = `${Annotations.deletionPolicy}: orphan`;
    const hint = `fix the hook in Git (the next try runs it again), or annotate ${orphan} to let the deployment go without it`;
    const read = validateContinuousDeploymentSpec(cd.spec);
    if (!read.ok) {
      const problems = combineErrors(read.errors);
      return new TidemarkError('DeletionFailed', `the PostDelete hooks cannot be rendered: ${problems.message}`, {
        kind: 'terminal',
        hint,
        cause: problems,
      });
    }
    const config = read.value;
    const budget = runBudget(this.deps.clock, config.timeoutMs, signal);
    try {
      refuseLocalRepository(config.url, this.deps.allowLocalGit === true);
      const identity = deploymentIdentity(cd, this.deps.tenancy ?? {});
      const auth = config.secretRef
        ? sourceCredentials(config, await this.deps.secrets(namespaceOf(cd), config.secretRef, identity))
        : undefined;
      const deletedAt = Date.parse(cd.metadata.deletionTimestamp ?? '');
      const ran = await runPostDeleteHooks(
        { cd, config, auth, syncRequested: false, windowBlocked: false, mode: 'sync' },
        {
          kube: target.kube,
          identity: target.identity,
          namespaceObjects: this.namespaceObjects(namespaceOf(cd), identity),
          source: withSignal(this.deps.source, budget.signal, () => undefined),
          render: (dir, path) => this.deps.render(dir, path, budget.signal),
          health: this.deps.health,
          crds: this.deps.crds,
          clock: this.deps.clock,
          log,
          concurrency: this.deps.concurrency,
          signal,
          deadline: budget.deadline,
          park,
        },
        Number.isFinite(deletedAt) ? deletedAt : this.deps.clock.now(),
      );
      log.info({ hooks: ran.statuses.map((h) => `${h.kind}/${h.name}: ${h.status}`) }, 'ran PostDelete hooks');
      if (!ran.error) return undefined;
      return new TidemarkError(ran.error.code, `${ran.error.message}; the deployment is kept until they succeed`, {
        kind: ran.error.kind,
        hint,
        cause: ran.error,
      });
    } catch (err) {
      const error = toTidemarkError(err);
      return new TidemarkError(error.code, `the PostDelete hooks did not run: ${error.message}`, { kind: error.kind, hint, cause: error });
    } finally {
      budget.end();
    }
  }

  /** The finalizer stays; status and an Event say why. Transient causes retry with backoff. */
  private async deletionFailed(cd: CdObject, error: TidemarkError, log: Logger): Promise<ReconcileResult> {
    await this.reportFailure(cd, error, log);
    return nextRun(STUCK_DELETION_RETRY_MS, error);
  }

  private async reportFailure(cd: CdObject, error: TidemarkError, log: Logger): Promise<void> {
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
        cluster: cd.status?.location?.cluster ?? this.deps.targets.home.name,
        namespace: cd.status?.location?.namespace,
        nowMs: this.deps.clock.now(),
        handledRequest: undefined,
      },
    );
    log.warn({ reason: error.code, err: describeError(error) }, 'reconcile failed');
    await this.writeStatus(cd, status).catch((err: unknown) => log.warn({ err: toTidemarkError(err).message }, 'status write failed'));
    const revision = status.lastAttemptedRevision;
    for (const e of events) await this.deps.events.record(involvedObject(cd), e.type, e.reason, e.message, revision ? { revision } : {});
  }

  /** Through the one status writer: nothing is written when no field we own changed. */
  private async writeStatus(cd: CdObject, status: ContinuousDeploymentStatus): Promise<void> {
    await writeStatus(this.deps.kube, {
      resource: Resources.ContinuousDeployment,
      namespace: namespaceOf(cd),
      name: cd.metadata.name,
      previous: cd.status,
      next: status,
      fields: STATUS_FIELDS,
    });
  }

  /**
   * Problems of dependsOn that need more than the spec: another namespace under lockdown, and a
   * cycle (through this deployment; each member finds it through itself, so each reports it).
   */
  private refuseDependencies(cd: CdObject, config: DeploymentConfig): TidemarkError | undefined {
    const namespace = namespaceOf(cd);
    if (this.deps.tenancy?.noCrossNamespaceRefs) {
      const problems = new Problems();
      crossNamespaceDependencies(problems, config.dependsOn, namespace);
      if (problems.errors.length > 0) return combineErrors(problems.errors);
    }
    const key = keyOf(cd);
    const own = configEdges(config.dependsOn, namespace);
    const cycle = findCycle(key, (k) => (k === key ? own : this.dependencies.dependenciesOf(k)));
    if (!cycle) return undefined;
    // The other members may not run again for a while: they report it now (once: a member already
    // reporting it is not woken again, so two members do not wake each other forever).
    const others = cycle.filter((k) => k !== key && this.reason(k) !== 'DependencyCycle');
    this.wake([...new Set(others)]);
    return cycleError(cycle);
  }

  /** Every dependency judged; the error names those not ready, undefined when all are. */
  private async dependencyWait(cd: CdObject, dependsOn: readonly Dependency[], target: Target): Promise<TidemarkError | undefined> {
    if (dependsOn.length === 0) return undefined;
    const namespace = namespaceOf(cd);
    const verdicts = await Promise.all(
      dependsOn.map(async (dep) =>
        judgeDependency(dep, await this.findDependency(dep, namespace, target), cd, this.deps.health, namespace),
      ),
    );
    return dependencyError(verdicts);
  }

  /**
   * A ContinuousDeployment from the watch (a GET when it is outside the watched namespace or, for
   * a shard, may belong to another shard); any other object from the target cluster, read as the
   * deployment's identity.
   */
  private async findDependency(dep: Dependency, namespace: string, target: Target): Promise<Found> {
    if (!dep.object) {
      const depNamespace = dep.namespace ?? namespace;
      const watched = this.runner.get(depNamespace, dep.name);
      const outside =
        (this.deps.namespace !== undefined && this.deps.namespace !== depNamespace) || this.deps.watchLabelSelector !== undefined;
      const object = watched ?? (outside ? await this.deps.kube.get(Resources.ContinuousDeployment, depNamespace, dep.name) : undefined);
      return { kind: 'deployment', object: object as ContinuousDeployment | undefined };
    }
    const mapping = await target.kube.mapping(dep.object.apiVersion, dep.object.kind);
    if (!mapping) return { kind: 'object', object: undefined, served: false };
    const object = await target.kube.get(mapping, mapping.namespaced ? (dep.namespace ?? namespace) : undefined, dep.name);
    return { kind: 'object', object, served: true };
  }

  /**
   * Dependents go first: the deletion of a deployment (one that deletes its objects) waits while
   * another ContinuousDeployment that depends on it still exists, being deleted or not. A
   * dependent it also depends on (a cycle) does not hold it, or neither could ever go.
   */
  private heldByDependents(cd: CdObject): TidemarkError | undefined {
    const key = keyOf(cd);
    const edgesOf = (k: string) => this.dependencies.dependenciesOf(k);
    const waiting = this.dependencies
      .dependentsOf(key)
      .filter((k) => k !== key && this.exists(k) && !reaches(key, k, edgesOf))
      .sort();
    if (waiting.length === 0) return undefined;
    const listed = waiting.slice(0, 5).join(', ') + (waiting.length > 5 ? `, and ${waiting.length - 5} more` : '');
    return transient(
      'DeletionBlockedByDependents',
      `waiting for the ContinuousDeployments that depend on this one to be deleted first: ${listed}`,
      'delete the dependents (or remove this one from their spec.dependsOn)',
    );
  }

  private exists(key: string): boolean {
    const slash = key.indexOf('/');
    return this.runner.get(key.slice(0, slash), key.slice(slash + 1)) !== undefined;
  }

  /** The Ready condition's reason of a watched deployment. */
  private reason(key: string): string | undefined {
    const slash = key.indexOf('/');
    return this.runner.get(key.slice(0, slash), key.slice(slash + 1))?.status?.conditions?.find((c) => c.type === 'Ready')?.reason;
  }

  /** The deployment's own ConfigMaps and Secrets, read as its identity; a missing one is undefined. */
  private namespaceObjects(namespace: string, identity: ServiceAccountIdentity | undefined): NamespaceObjects {
    return {
      configMap: async (name) => {
        if (this.deps.configMaps) return this.deps.configMaps(namespace, name, identity);
        const found = await this.deps.kube.get(Resources.ConfigMap, namespace, name);
        return found ? stringData(found.data) : undefined;
      },
      secret: async (name) => {
        try {
          return await this.deps.secrets(namespace, name, identity);
        } catch (err) {
          if (isTidemarkError(err) && err.code === 'SecretNotFound') return undefined;
          throw err;
        }
      },
    };
  }

  private stateOf(key: string): KeyState {
    let state = this.state.get(key);
    if (!state) {
      state = { memo: new Map() };
      this.state.set(key, state);
    }
    return state;
  }
}

function stringData(data: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof data !== 'object' || data === null) return out;
  for (const [k, v] of Object.entries(data)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** The source with every call bounded by `signal` (the run's budget); `resolved` learns the run's revision. */
function withSignal(source: Source, signal: AbortSignal, resolved: (revision: ResolvedRevision) => void): Source {
  return {
    resolve: async (config, auth) => {
      const revision = await source.resolve(config, auth, signal);
      resolved(revision);
      return revision;
    },
    checkout: (config, auth, resolved) => source.checkout(config, auth, resolved, signal),
  };
}

/**
 * When to run next: at the interval after a success or a terminal error (a person or a new commit
 * must act), with capped backoff after a transient one — never later than the interval.
 */
export function nextRun(intervalMs: number, error: TidemarkError | undefined): ReconcileResult {
  if (error?.kind === 'transient') return { requeueAfterMs: intervalMs, retry: true };
  return { requeueAfterMs: intervalMs };
}

/**
 * What a dependent's readiness check reads may have changed: the generation, the status (its
 * Ready condition, or anything a readyExpr reads), or a deletion.
 */
export function readinessMayDiffer(previous: CdObject, next: CdObject): boolean {
  return (
    previous.metadata.generation !== next.metadata.generation ||
    Boolean(previous.metadata.deletionTimestamp) !== Boolean(next.metadata.deletionTimestamp) ||
    JSON.stringify(previous.status ?? null) !== JSON.stringify(next.status ?? null)
  );
}

/** A watched change that needs a run now. Our own status writes change none of these. */
export function needsRun(previous: CdObject | undefined, next: CdObject): boolean {
  if (!previous) return true;
  const annotation = (cd: CdObject, name: string) => cd.metadata.annotations?.[name];
  return (
    previous.metadata.generation !== next.metadata.generation ||
    annotation(previous, Annotations.requestedAt) !== annotation(next, Annotations.requestedAt) ||
    annotation(previous, Annotations.deletionPolicy) !== annotation(next, Annotations.deletionPolicy) ||
    Boolean(previous.metadata.deletionTimestamp) !== Boolean(next.metadata.deletionTimestamp)
  );
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
  'healthChecks',
  'hooks',
  'postDeleteHooks',
  'conditions',
  'syncWindow',
  'history',
] as const;
