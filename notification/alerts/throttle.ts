import type { NotificationEvent } from './event.ts';

/** The same message for the same object within this window is sent once (a failing sync retried with backoff). */
export const DEDUPE_WINDOW_MS = 10 * 60_000;
/** Per alert: a burst of 20, then one message every 3 s; past that, messages are dropped and counted. */
export const ALERT_BURST = 20;
export const ALERT_REFILL_MS = 3_000;
const MAX_REMEMBERED = 10_000;

/**
 * Decides whether an alert may send an event now: repeats are dropped, and each alert has a token
 * bucket so a storm (a thousand deployments failing at once) cannot flood a channel. Pure over
 * the time it is given.
 */
export class Throttle {
  private readonly seen = new Map<string, number>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  admit(alertKey: string, event: NotificationEvent, nowMs: number): 'send' | 'duplicate' | 'rate-limited' {
    const o = event.involvedObject;
    const key = [alertKey, `${o.kind}/${o.namespace}/${o.name}`, event.reason, event.message, event.metadata.revision ?? ''].join('\u0000');
    const last = this.seen.get(key);
    if (last !== undefined && nowMs - last < DEDUPE_WINDOW_MS) return 'duplicate';
    const bucket = this.buckets.get(alertKey) ?? { tokens: ALERT_BURST, at: nowMs };
    const tokens = Math.min(ALERT_BURST, bucket.tokens + (nowMs - bucket.at) / ALERT_REFILL_MS);
    if (tokens < 1) {
      this.buckets.set(alertKey, { tokens, at: nowMs });
      return 'rate-limited';
    }
    this.buckets.set(alertKey, { tokens: tokens - 1, at: nowMs });
    this.seen.delete(key);
    this.seen.set(key, nowMs);
    if (this.seen.size > MAX_REMEMBERED) this.seen.delete(this.seen.keys().next().value as string);
    return 'send';
  }

  /** The alert is gone: its bucket with it. */
  forget(alertKey: string): void {
    this.buckets.delete(alertKey);
  }
}
