import { toTidemarkError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import type { Clock } from '../time/clock.ts';
import { backoffDelay, jittered, reconcileBackoff } from '../time/backoff.ts';
import type { ResourceMapping } from '../kube/discovery.ts';
import type { KubeObject } from '../kube/object.ts';
import type { KubePort } from '../kube/port.ts';
import { forgetResourceInfo, recordQueueWait, recordReconcile, watchQueueDepth } from '../metrics/index.ts';
import { keyOf } from './objects.ts';
import { listAndWatch } from './watch.ts';
import { WorkQueue, type Park } from './work-queue.ts';

export interface ReconcileResult {
  /** When to run again (with ±5 % jitter); omitted: only on the next change. */
  requeueAfterMs?: number;
  /**
   * The run failed in a way a retry may fix, and said so in status itself: run again after a
   * capped exponential backoff, never later than `requeueAfterMs`.
   */
  retry?: boolean;
}

export interface ControllerOptions<T extends KubeObject> {
  name: string;
  kube: Pick<KubePort, 'list' | 'watch'>;
  /** The kind to watch, e.g. `Resources.ImagePolicy`. */
  resource: ResourceMapping;
  /** Watch only this namespace; every namespace when omitted. */
  namespace?: string | undefined;
  /** Watch only objects these labels select (a shard's `--watch-label-selector`); all when omitted. */
  labelSelector?: string | undefined;
  clock: Clock;
  log: Logger;
  workers: number;
  /**
   * Runs one object; throwing means "retry with backoff". `park` runs a wait without holding one
   * of the `workers` (see WorkQueue).
   */
  reconcile(obj: T, signal: AbortSignal, park: Park): Promise<ReconcileResult>;
  /** Whether a watched change needs a reconcile now. Default: a new object, generation or annotations. */
  changed?(previous: T | undefined, next: T): boolean;
  /** The object is gone (deleted, or missing from a new list): drop what is kept for `namespace/name`. */
  forget?(key: string): void;
  /**
   * Automatic sharding: whether this replica may start `namespace/name` now. A key it may not is
   * skipped, not requeued; `resume` runs the owned ones again. Omitted: every key is ours.
   */
  owns?(key: string): boolean;
  /**
   * Keep no managedFields on the watched copies, where nothing this controller runs reads them:
   * they are most of a small object's size (item 9 keeps 1,000 ContinuousDeployments).
   */
  dropManagedFields?: boolean | undefined;
}

/**
 * The loop every Tidemark controller shares: list and watch one kind through the Kubernetes port,
 * keep the newest copy of each object, and run `reconcile` for it on a change, on its requested
 * schedule (with ±5 % jitter), or after a failure with capped exponential backoff — every delay
 * on the injected clock.
 */
export class Controller<T extends KubeObject> {
  private readonly options: ControllerOptions<T>;
  private readonly objects = new Map<string, T>();
  private readonly failures = new Map<string, number>();
  private readonly queue: WorkQueue;
  private readonly abort = new AbortController();
  private watching: Promise<void> | undefined;
  private listed = false;
  private unwatchDepth: (() => void) | undefined;
  /** Runs in progress, each with its own abort (a key moved to another replica) and its end. */
  private readonly inFlight = new Map<string, { abort: AbortController; done: Promise<void> }>();
  /**
   * Automatic sharding: the owned keys whose work is intact since the last `resume` — neither a
   * run skipped while the view was unsettled nor pending work dropped by a drain. `resume` need
   * not queue these: their next change or timer still runs them.
   */
  private readonly held = new Set<string>();

  constructor(options: ControllerOptions<T>) {
    this.options = options;
    // One namespace (one tenant) may keep all workers but one busy: the last serves everyone else.
    this.queue = new WorkQueue(options.workers, (key, park) => this.run(key, park), options.clock, {
      groupOf: (key) => key.slice(0, key.indexOf('/')),
      perGroup: Math.max(1, options.workers - 1),
      onTake: (_key, waitedMs) => recordQueueWait(options.resource.kind, waitedMs / 1000),
    });
  }

  get ready(): boolean {
    return this.listed;
  }

  /** The newest watched copy of an object, for other controllers that depend on it. */
  get(namespace: string, name: string): T | undefined {
    return this.objects.get(`${namespace}/${name}`);
  }

  list(): T[] {
    return [...this.objects.values()];
  }

  start(): void {
    this.unwatchDepth ??= watchQueueDepth(this.options.resource.kind, () => this.queue.depth);
    this.watching = listAndWatch<T>(
      this.options.kube,
      this.options.resource,
      {
        onList: (items) => {
          const present = new Set(items.map(keyOf));
          for (const key of this.objects.keys()) if (!present.has(key)) this.remove(key);
          for (const item of items) this.upsert(item);
          this.listed = true;
        },
        onUpsert: (obj) => this.upsert(obj),
        onDelete: (obj) => this.remove(keyOf(obj)),
        // What failed while the API server was away waits on a backoff grown by every refused
        // attempt (up to minutes); it is back, so those run now rather than at their next turn.
        onRecovered: () => {
          for (const key of this.failures.keys()) this.queue.add(key);
        },
      },
      {
        signal: this.abort.signal,
        namespace: this.options.namespace,
        labelSelector: this.options.labelSelector,
        clock: this.options.clock,
        log: this.options.log.child({ controller: this.options.name }),
      },
    );
  }

  trigger(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    if (this.objects.has(key)) this.queue.add(key);
  }

  /**
   * The keys this replica may run have changed: aborts the runs of those `keeps` refuses, drops
   * their pending work, and resolves once those runs have ended — only then may another replica
   * start them.
   */
  async drain(keeps: (key: string) => boolean): Promise<void> {
    const moving = [...this.inFlight].filter(([key]) => !keeps(key));
    for (const [, run] of moving) run.abort.abort(new Error('the key moved to another replica'));
    for (const key of this.objects.keys()) {
      if (keeps(key)) continue;
      this.queue.forget(key);
      this.held.delete(key);
    }
    await Promise.all(moving.map(([, run]) => run.done));
  }

  /**
   * Runs the keys `owns` grants now that need it: those just gained, and those skipped while
   * ownership was unsettled. A key kept all along still has its timer; queueing it would run every
   * owned object once more on each view change (a replica joining would resync the whole fleet).
   */
  resume(): void {
    for (const key of this.objects.keys()) {
      if (!this.mayRun(key)) {
        this.held.delete(key);
        continue;
      }
      if (!this.held.has(key)) this.queue.add(key);
      this.held.add(key);
    }
  }

  /** How many of the watched objects `owns` grants now. */
  owned(): number {
    return [...this.objects.keys()].filter((key) => this.mayRun(key)).length;
  }

  private mayRun(key: string): boolean {
    return this.options.owns?.(key) ?? true;
  }

  async stop(): Promise<void> {
    this.unwatchDepth?.();
    this.unwatchDepth = undefined;
    this.abort.abort();
    await this.queue.stop();
    await this.watching;
  }

  private upsert(obj: T): void {
    if (this.options.dropManagedFields) delete obj.metadata.managedFields;
    const key = keyOf(obj);
    const previous = this.objects.get(key);
    this.objects.set(key, obj);
    const changed = this.options.changed ? this.options.changed(previous, obj) : defaultChanged(previous, obj);
    if (changed) this.queue.add(key);
  }

  private remove(key: string): void {
    this.objects.delete(key);
    this.failures.delete(key);
    this.held.delete(key);
    this.queue.forget(key);
    this.options.forget?.(key);
    const slash = key.indexOf('/');
    forgetResourceInfo({ kind: this.options.resource.kind, namespace: key.slice(0, slash), name: key.slice(slash + 1) });
  }

  private async run(key: string, park: Park): Promise<void> {
    const obj = this.objects.get(key);
    if (!obj) return;
    if (!this.mayRun(key)) {
      this.held.delete(key);
      return;
    }
    const own = new AbortController();
    const ended = Promise.withResolvers<void>();
    this.inFlight.set(key, { abort: own, done: ended.promise });
    // Only sharded runs can be moved away; the others keep the one shutdown signal.
    const signal = this.options.owns ? AbortSignal.any([this.abort.signal, own.signal]) : this.abort.signal;
    const log = this.options.log.child({ controller: this.options.name, object: key });
    const kind = this.options.resource.kind;
    const started = this.options.clock.now();
    const seconds = () => (this.options.clock.now() - started) / 1000;
    try {
      const result = await this.options.reconcile(obj, signal, park);
      recordReconcile(kind, result.retry ? 'retry' : 'success', undefined, seconds());
      if (result.retry) {
        this.queue.addAfter(key, Math.min(this.backoff(key), result.requeueAfterMs ?? Infinity));
        return;
      }
      this.failures.delete(key);
      if (result.requeueAfterMs !== undefined) this.queue.addAfter(key, jittered(result.requeueAfterMs, 0.05));
    } catch (err) {
      if (signal.aborted) return;
      const delay = this.backoff(key);
      const error = toTidemarkError(err);
      recordReconcile(kind, 'failure', error.code, seconds());
      log.warn({ reason: error.code, err: error.message, retryInMs: delay }, 'reconcile failed');
      this.queue.addAfter(key, delay);
    } finally {
      // Deleted while it ran: what the run kept for it (a backoff, a timer, the reconciler's own
      // state) would never be dropped, and names are the tenants' to choose.
      if (!this.objects.has(key)) this.remove(key);
      this.inFlight.delete(key);
      ended.resolve();
    }
  }

  private backoff(key: string): number {
    const attempt = this.failures.get(key) ?? 0;
    this.failures.set(key, attempt + 1);
    return backoffDelay(reconcileBackoff, attempt);
  }
}

function defaultChanged(previous: KubeObject | undefined, next: KubeObject): boolean {
  if (!previous) return true;
  if (previous.metadata.generation !== next.metadata.generation) return true;
  if (Boolean(previous.metadata.deletionTimestamp) !== Boolean(next.metadata.deletionTimestamp)) return true;
  return JSON.stringify(previous.metadata.annotations ?? {}) !== JSON.stringify(next.metadata.annotations ?? {});
}
