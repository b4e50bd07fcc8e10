import { MAX_TIMER_MS, timerDelay } from './timer.ts';

/** The clock is injected so backoff, intervals and timestamps are testable without waiting. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleepFor(ms, signal),
};

/**
 * A real sleep of `ms`. A delay longer than one timer can hold is slept in turns of at most
 * MAX_TIMER_MS, so it lasts as long as asked and never overflows into a 1 ms loop.
 */
async function sleepFor(ms: number, signal: AbortSignal | undefined): Promise<void> {
  let left = Number.isNaN(ms) ? MAX_TIMER_MS : Math.max(0, ms);
  do {
    const turn = timerDelay(left);
    await sleepOnce(turn, signal);
    left -= turn;
  } while (left > 0);
}

function sleepOnce(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Why `signal` was aborted, as an Error: abort(reason) may carry any value, a rejection should not. */
export function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error) return reason;
  return new Error(typeof reason === 'string' ? reason : 'aborted', { cause: reason });
}

/** RFC 3339 with second precision, as Kubernetes prints metav1.Time. */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
