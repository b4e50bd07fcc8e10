import type { Clock } from './clock.ts';

interface Sleeper {
  at: number;
  resolve: () => void;
}

/**
 * For unit tests only: time stands still until the test advances it. `advance` wakes every
 * sleeper that is due, in order, and lets the woken work run before it returns.
 */
export class FakeClock implements Clock {
  private current: number;
  private readonly sleepers = new Set<Sleeper>();

  constructor(startMs = Date.UTC(2024, 0, 1)) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason as Error);
      const sleeper: Sleeper = {
        at: this.current + Math.max(0, ms),
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.sleepers.delete(sleeper);
        reject(signal?.reason as Error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.sleepers.add(sleeper);
    });
  }

  /** The due times of everyone sleeping now, earliest first. */
  pending(): number[] {
    return [...this.sleepers].map((s) => s.at).sort((a, b) => a - b);
  }

  /** Moves time forward by `ms`, waking sleepers as their time comes. */
  async advance(ms: number): Promise<void> {
    const until = this.current + ms;
    for (;;) {
      await settle();
      const next = [...this.sleepers].filter((s) => s.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.current = Math.max(this.current, next.at);
      this.sleepers.delete(next);
      next.resolve();
    }
    this.current = until;
    await settle();
  }
}

/** Lets queued promise callbacks and immediates run, so work a wake-up started gets going. */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
