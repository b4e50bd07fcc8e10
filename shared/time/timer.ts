/**
 * The longest delay a Node timer can hold: 2^31-1 ms, about 24.8 days. setTimeout and
 * AbortSignal.timeout turn anything longer (or NaN) into 1 ms, so a long interval written by a
 * tenant would become a busy loop; every timer goes through `timerDelay` instead.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A delay a Node timer holds as meant: negative is 0, longer than MAX_TIMER_MS (or infinite) is
 * MAX_TIMER_MS. NaN is MAX_TIMER_MS too: waiting too long is a bug, spinning is an outage.
 */
export function timerDelay(ms: number): number {
  if (Number.isNaN(ms)) return MAX_TIMER_MS;
  return Math.min(Math.max(0, Math.ceil(ms)), MAX_TIMER_MS);
}

/** `AbortSignal.timeout` that never fires early because the delay overflowed. */
export function timeoutSignal(ms: number): AbortSignal {
  return AbortSignal.timeout(timerDelay(ms));
}
