/**
 * A token bucket per key: `burst` calls at once, refilled at `perSecond`. A key that has not been
 * seen is full. The map is bounded: keys are Receivers, and a deleted one is forgotten.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();
  private readonly burst: number;
  private readonly perSecond: number;
  private readonly now: () => number;

  constructor(options: { burst: number; perSecond: number; now: () => number }) {
    this.burst = options.burst;
    this.perSecond = options.perSecond;
    this.now = options.now;
  }

  /** Takes one token, or says in how many whole seconds the next one is there (for Retry-After). */
  take(key: string): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const nowMs = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, atMs: nowMs };
    const elapsed = Math.max(0, nowMs - bucket.atMs) / 1000;
    bucket.tokens = Math.min(this.burst, bucket.tokens + elapsed * this.perSecond);
    bucket.atMs = nowMs;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond)) };
  }

  forget(key: string): void {
    this.buckets.delete(key);
  }
}

/**
 * Delivery ids handled within `windowMs`: a sender's retry of a delivery that was already acted
 * on (GitHub's redelivery, the registry's resend) is answered without asking again. Bounded to
 * `max` ids, oldest dropped first.
 */
export class ReplayWindow {
  private readonly seenAt = new Map<string, number>();
  private readonly windowMs: number;
  private readonly max: number;
  private readonly now: () => number;

  constructor(options: { windowMs: number; max: number; now: () => number }) {
    this.windowMs = options.windowMs;
    this.max = options.max;
    this.now = options.now;
  }

  has(id: string): boolean {
    const at = this.seenAt.get(id);
    return at !== undefined && this.now() - at < this.windowMs;
  }

  remember(id: string): void {
    const nowMs = this.now();
    this.seenAt.delete(id);
    this.seenAt.set(id, nowMs);
    // Insertion order is age order: drop from the front while too many or too old.
    for (const [key, at] of this.seenAt) {
      if (this.seenAt.size <= this.max && nowMs - at < this.windowMs) break;
      this.seenAt.delete(key);
    }
  }
}
