import type { Clock } from '../time/clock.ts';
import { systemClock } from '../time/clock.ts';
import { timerDelay } from '../time/timer.ts';

/**
 * Runs `wait` without holding a worker: the run gives its slot to other keys while it only waits
 * (a health or readiness poll's sleep), and takes one back, ahead of keys not yet started, before
 * going on. The key stays in processing meanwhile, so it still never runs twice at once. Park only
 * what is all the run is doing at that moment.
 */
export type Park = <T>(wait: () => Promise<T>) => Promise<T>;

export interface QueueOptions {
  /** The group of a key (its namespace: one tenant's objects). */
  groupOf?: (key: string) => string;
  /**
   * Working runs one group may have at once (default: all workers). Below the worker count, one
   * tenant's slow objects can never take every worker: the rest always serve the others.
   */
  perGroup?: number;
  /** Told how long each key waited in the queue when a worker takes it (the queue-wait metric). */
  onTake?: (key: string, waitedMs: number) => void;
}

/**
 * A keyed work queue in the manner of client-go's: a key waits in the queue at most once, is
 * processed by one worker at a time, and a key added while it is being processed runs again right
 * after. Delayed adds keep the earliest due time; they wait on the injected clock, so a test with
 * a fake clock moves them by advancing it. `concurrency` bounds the runs that work at once; runs
 * that wait (see Park) do not count, so slow deployments cannot starve the others.
 */
export class WorkQueue {
  private readonly concurrency: number;
  private readonly worker: (key: string, park: Park) => Promise<void>;
  private readonly clock: Clock;
  private readonly ready: string[] = [];
  /** Keys waiting for a worker, with when each was queued. */
  private readonly queued = new Map<string, number>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, { at: number; cancel: AbortController }>();
  private active = 0;
  /** Runs waiting without a slot, and those of them done waiting, in the order they finished. */
  private parked = 0;
  private readonly resuming: Array<{ key: string; resume: () => void }> = [];
  /** Working runs per group (see QueueOptions.groupOf). */
  private readonly working = new Map<string, number>();
  private readonly groupOf: ((key: string) => string) | undefined;
  private readonly onTake: ((key: string, waitedMs: number) => void) | undefined;
  private readonly perGroup: number;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    concurrency: number,
    worker: (key: string, park: Park) => Promise<void>,
    clock: Clock = systemClock,
    options: QueueOptions = {},
  ) {
    this.concurrency = Math.max(1, concurrency);
    this.groupOf = options.groupOf;
    this.onTake = options.onTake;
    this.perGroup = Math.max(1, Math.min(options.perGroup ?? this.concurrency, this.concurrency));
    this.worker = worker;
    this.clock = clock;
  }

  add(key: string): void {
    if (this.stopped) return;
    this.cancelTimer(key);
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.set(key, this.clock.now());
    this.ready.push(key);
    this.pump();
  }

  /**
   * Runs `key` after `delayMs`, held to what a timer can hold (at most MAX_TIMER_MS, about 24.8
   * days; NaN counts as that long): a longer delay must never overflow into a 1 ms loop.
   */
  addAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    const delay = timerDelay(delayMs);
    if (delay <= 0) return this.add(key);
    const at = this.clock.now() + delay;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    existing?.cancel.abort();
    const timer = { at, cancel: new AbortController() };
    this.timers.set(key, timer);
    this.clock.sleep(delay, timer.cancel.signal).then(
      () => {
        if (this.timers.get(key) !== timer) return;
        this.timers.delete(key);
        this.add(key);
      },
      () => undefined, // cancelled
    );
  }

  /** When a key is due next, if it waits on a timer; for tests and logs. */
  dueAt(key: string): number | undefined {
    return this.timers.get(key)?.at;
  }

  /** Drops pending work for a key (the object is gone). A run in progress finishes. */
  forget(key: string): void {
    this.cancelTimer(key);
    this.dirty.delete(key);
    if (this.queued.delete(key)) this.ready.splice(this.ready.indexOf(key), 1);
  }

  /** Stops taking work and resolves once running work has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const { cancel } of this.timers.values()) cancel.abort();
    this.timers.clear();
    this.ready.length = 0;
    this.queued.clear();
    await this.idle();
  }

  /** Keys waiting for a worker (not those waiting for their time, nor runs in progress). */
  get depth(): number {
    return this.queued.size;
  }

  /** Runs in progress, working or parked. */
  get running(): number {
    return this.active + this.parked;
  }

  idle(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private cancelTimer(key: string): void {
    const existing = this.timers.get(key);
    if (existing) {
      existing.cancel.abort();
      this.timers.delete(key);
    }
  }

  private pump(): void {
    // Parked runs done waiting come first: they hold a deadline, and finishing them frees their key.
    for (let i = this.nextWithRoom(this.resuming); i >= 0; i = this.nextWithRoom(this.resuming)) {
      const [{ key, resume }] = this.resuming.splice(i, 1) as [{ key: string; resume: () => void }];
      this.parked--;
      this.take(key);
      resume();
    }
    if (this.stopped) return;
    for (let i = this.nextWithRoom(this.ready); i >= 0; i = this.nextWithRoom(this.ready)) {
      const [key] = this.ready.splice(i, 1) as [string];
      const queuedAt = this.queued.get(key) ?? this.clock.now();
      this.queued.delete(key);
      this.onTake?.(key, this.clock.now() - queuedAt);
      this.processing.add(key);
      this.take(key);
      void this.run(key);
    }
  }

  /** The first entry that may work now: a worker is free and its group is under its share. */
  private nextWithRoom(entries: ReadonlyArray<string | { key: string }>): number {
    if (this.active >= this.concurrency) return -1;
    if (!this.groupOf || this.perGroup >= this.concurrency) return entries.length > 0 ? 0 : -1;
    return entries.findIndex((entry) => (this.working.get(this.group(entry)) ?? 0) < this.perGroup);
  }

  private group(entry: string | { key: string }): string {
    const key = typeof entry === 'string' ? entry : entry.key;
    return this.groupOf ? this.groupOf(key) : '';
  }

  /** A run of `key` starts (or resumes) working. */
  private take(key: string): void {
    this.active++;
    const group = this.group(key);
    this.working.set(group, (this.working.get(group) ?? 0) + 1);
  }

  /** A run of `key` stops working (it ends, or parks). */
  private release(key: string): void {
    this.active--;
    const group = this.group(key);
    const left = (this.working.get(group) ?? 1) - 1;
    if (left > 0) this.working.set(group, left);
    else this.working.delete(group);
  }

  private async run(key: string): Promise<void> {
    // Parks of one run that overlap give back one slot, taken again when the last one ends.
    let depth = 0;
    let finished = false;
    const park: Park = async (wait) => {
      if (finished) return wait();
      if (depth++ === 0) {
        this.release(key);
        this.parked++;
        this.pump();
      }
      try {
        return await wait();
      } finally {
        if (--depth === 0) {
          await new Promise<void>((resolve) => {
            this.resuming.push({ key, resume: resolve });
            this.pump();
          });
        }
      }
    };
    try {
      await this.worker(key, park);
    } catch {
      // The worker reports its own errors; the queue must keep going.
    } finally {
      finished = true;
      this.processing.delete(key);
      this.release(key);
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
      if (this.running === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const resolve of waiters) resolve();
      }
    }
  }
}
