import type { Clock } from '../time/clock.ts';

/** Requests per second and the burst above it, as client-go's `QPS` and `Burst`. */
export interface RateLimit {
  qps: number;
  burst: number;
}

/**
 * The default of both programs. A client-side limit keeps a storm (a thousand deployments created
 * at once, each a dozen requests) from landing on the API server as fast as the client can send,
 * and serves waiters in order. Flux's 50/s (with a burst of 300) would make that storm of 13,000
 * requests last over 4 minutes, which is where Flux's published 4 min 13 s for its benchmark
 * comes from; 250/s lets it finish within a minute and is about what the bench's 2-core API
 * server sustains. `--kube-api-qps` and `--kube-api-burst` change it (0: no limit).
 */
export const DEFAULT_RATE_LIMIT: RateLimit = { qps: 250, burst: 500 };

/**
 * A token bucket: `burst` tokens, refilled at `qps` per second; each request takes one and waits
 * for it when none is left. Waiters are served in arrival order, so a deployment that asked first
 * is not overtaken (no starvation). `qps` ≤ 0 or not finite: no limit.
 */
export class TokenBucket {
  private readonly clock: Clock;
  private readonly qps: number;
  private readonly burst: number;
  private tokens: number;
  private last: number;

  constructor(limit: RateLimit, clock: Clock) {
    this.clock = clock;
    this.qps = limit.qps;
    this.burst = Math.max(1, Math.floor(limit.burst));
    this.tokens = this.burst;
    this.last = clock.now();
  }

  get unlimited(): boolean {
    return !(Number.isFinite(this.qps) && this.qps > 0);
  }

  /** Resolves once the caller may send one request; rejects if `signal` aborts first. */
  take(signal?: AbortSignal): Promise<void> {
    if (this.unlimited) return Promise.resolve();
    const delay = this.reserve();
    if (delay <= 0) return Promise.resolve();
    return this.clock.sleep(delay, signal);
  }

  /** Takes a token now or later: how long the caller must wait for it, in ms. Tokens may go negative (reserved). */
  private reserve(): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }
}
