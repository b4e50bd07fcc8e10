import type { Clock } from './clock.ts';
import { toTidemarkError, type TidemarkError } from '../errors/index.ts';

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** Fraction of the delay added or removed at random, e.g. 0.1 for ±10 %. */
  jitter: number;
}

/** Flux's controller defaults: 750 ms doubling to 15 minutes. */
export const reconcileBackoff: BackoffPolicy = { initialMs: 750, maxMs: 15 * 60_000, factor: 2, jitter: 0.1 };

/**
 * A watch that failed lists again at most 30 s later, as client-go's reflector does: the cache
 * is what notices the API server is back (and then runs what failed meanwhile), so its own wait
 * must not grow to a reconcile's fifteen minutes during a long outage.
 */
export const watchBackoff: BackoffPolicy = { initialMs: 750, maxMs: 30_000, factor: 2, jitter: 0.1 };

/** Delay before retry number `attempt` (0-based), capped, with jitter. */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxMs, policy.initialMs * policy.factor ** Math.max(0, attempt));
  const spread = base * policy.jitter;
  return Math.max(0, Math.round(base - spread + random() * 2 * spread));
}

/** An interval with ± jitter so many objects with the same interval do not poll in lockstep. */
export function jittered(intervalMs: number, fraction: number, random: () => number = Math.random): number {
  return Math.round(intervalMs * (1 - fraction + random() * 2 * fraction));
}

export interface RetryOptions {
  policy: BackoffPolicy;
  attempts: number;
  clock: Clock;
  signal?: AbortSignal | undefined;
  random?: (() => number) | undefined;
  /**
   * Told before each wait, so a caller can say what it is waiting for (a condition that reads
   * "scanning" for the length of a Retry-After hides that the server asked us to back off).
   */
  onRetry?: ((wait: RetryWait) => void | Promise<void>) | undefined;
}

/** A failed attempt about to be retried: the error, the wait, and which attempt comes next. */
export interface RetryWait {
  error: TidemarkError;
  delayMs: number;
  /** 1-based number of the attempt after the wait. */
  nextAttempt: number;
  attempts: number;
  /** The wait is the server's Retry-After rather than our own backoff. */
  retryAfter: boolean;
}

/**
 * Runs `fn` until it succeeds, a terminal error is thrown, or the attempts run out. A transient
 * error carrying `retryAfterMs` (Retry-After) waits at least that long, but never past the cap.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const error = toTidemarkError(err);
      if (error.kind === 'terminal' || attempt + 1 >= options.attempts) throw error;
      const backoff = backoffDelay(options.policy, attempt, options.random);
      const asked = Math.min(error.retryAfterMs ?? 0, options.policy.maxMs);
      const delay = Math.max(backoff, asked);
      await options.onRetry?.({
        error,
        delayMs: delay,
        nextAttempt: attempt + 2,
        attempts: options.attempts,
        retryAfter: error.retryAfterMs !== undefined && asked >= backoff,
      });
      await options.clock.sleep(delay, options.signal);
    }
  }
}
