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
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, { at: number; cancel: AbortController }>();
  private active = 0;
  /** Runs waiting without a slot, and those of them done waiting, in the order they finished. */
  private parked = 0;
  private readonly resuming: Array<() => void> = [];
  private stopped = false;
  private idleWaiters: Array<() => void> = [];

  constructor(concurrency: number, worker: (key: string, park: Park) => Promise<void>, clock: Clock = systemClock) {
    this.concurrency = Math.max(1, concurrency);
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
    this.queued.add(key);
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
    while (this.active < this.concurrency && this.resuming.length > 0) {
      this.parked--;
      this.active++;
      (this.resuming.shift() as () => void)();
    }
    while (!this.stopped && this.active < this.concurrency && this.ready.length > 0) {
      const key = this.ready.shift() as string;
      this.queued.delete(key);
      this.processing.add(key);
      this.active++;
      void this.run(key);
    }
  }

  private async run(key: string): Promise<void> {
    // Parks of one run that overlap give back one slot, taken again when the last one ends.
    let depth = 0;
    let finished = false;
    const park: Park = async (wait) => {
      if (finished) return wait();
      if (depth++ === 0) {
        this.active--;
        this.parked++;
        this.pump();
      }
      try {
        return await wait();
      } finally {
        if (--depth === 0) {
          await new Promise<void>((resolve) => {
            this.resuming.push(resolve);
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
      this.active--;
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
