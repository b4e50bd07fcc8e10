import { recordNotification } from '../../shared/metrics/index.ts';
import type { Logger } from '../../shared/log/index.ts';
import type { Clock } from '../../shared/time/clock.ts';
import type { OutgoingRequest } from '../providers/payloads.ts';

/** How a request goes out; tests and the program pass fetch, a test may pass a fake. */
export type Post = (request: OutgoingRequest, signal: AbortSignal) => Promise<{ status: number; retryAfter: string | null }>;

export const fetchPost: Post = async (request, signal) => {
  const res = await fetch(request.url, { method: 'POST', headers: request.headers, body: request.body, signal, redirect: 'error' });
  await res.arrayBuffer().catch(() => undefined);
  return { status: res.status, retryAfter: res.headers.get('retry-after') };
};

/** Messages waiting per provider; past this the oldest are dropped (and counted), never the reconciles. */
export const MAX_PENDING = 100;
/** Attempts per message: the first and up to three retries, 1 s, 2 s, 4 s apart, or as Retry-After asks (≤ 60 s). */
export const MAX_ATTEMPTS = 4;
const MAX_RETRY_AFTER_MS = 60_000;

interface Job {
  request: OutgoingRequest;
  type: string;
  timeoutMs: number;
  what: string;
}

/**
 * Delivers messages, one queue per provider with one request in flight each, so a slow or dead
 * endpoint delays only its own messages and nothing waits for it: `enqueue` returns at once.
 * Retries 5xx, 429 and network failures with backoff; a 4xx other than 429 is final.
 */
export class Sender {
  private readonly queues = new Map<string, Job[]>();
  private readonly busy = new Set<string>();
  private readonly post: Post;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly stopping = new AbortController();
  private readonly running = new Set<Promise<void>>();

  constructor(options: { post?: Post; clock: Clock; log: Logger }) {
    this.post = options.post ?? fetchPost;
    this.clock = options.clock;
    this.log = options.log;
  }

  enqueue(providerKey: string, job: Job): void {
    if (this.stopping.signal.aborted) return;
    const queue = this.queues.get(providerKey) ?? [];
    this.queues.set(providerKey, queue);
    queue.push(job);
    if (queue.length > MAX_PENDING) {
      const dropped = queue.shift();
      if (dropped) recordNotification(dropped.type, 'dropped');
    }
    if (!this.busy.has(providerKey)) {
      const run = this.drain(providerKey).finally(() => this.running.delete(run));
      this.running.add(run);
    }
  }

  /** Waits for what is in flight; queued messages are given up (logged by count). */
  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all(this.running);
  }

  private async drain(providerKey: string): Promise<void> {
    this.busy.add(providerKey);
    try {
      const queue = this.queues.get(providerKey) ?? [];
      for (let job = queue.shift(); job && !this.stopping.signal.aborted; job = queue.shift()) await this.deliver(providerKey, job);
      if (queue.length === 0) this.queues.delete(providerKey);
    } finally {
      this.busy.delete(providerKey);
    }
  }

  private async deliver(providerKey: string, job: Job): Promise<void> {
    let detail = '';
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      let waitMs = 1000 * 2 ** (attempt - 1);
      try {
        const signal = AbortSignal.any([this.stopping.signal, AbortSignal.timeout(job.timeoutMs)]);
        const res = await this.post(job.request, signal);
        if (res.status < 300) {
          recordNotification(job.type, 'sent');
          return;
        }
        detail = `HTTP ${res.status}`;
        if (res.status !== 429 && res.status < 500) break;
        const asked = retryAfterMs(res.retryAfter, this.clock.now());
        if (asked !== undefined) waitMs = Math.min(asked, MAX_RETRY_AFTER_MS);
      } catch (err) {
        if (this.stopping.signal.aborted) return;
        // The message of a network error names the host at most; never the URL's path (a webhook secret).
        detail = (err as Error).name === 'TimeoutError' ? `no answer within ${job.timeoutMs} ms` : (err as Error).message.slice(0, 200);
      }
      if (attempt < MAX_ATTEMPTS) await this.clock.sleep(waitMs, this.stopping.signal).catch(() => undefined);
      if (this.stopping.signal.aborted) return;
    }
    recordNotification(job.type, 'failed');
    this.log.warn({ provider: providerKey, type: job.type, event: job.what, err: detail }, 'notification not delivered');
  }
}

/** Retry-After in seconds or as an HTTP date. */
function retryAfterMs(value: string | null, nowMs: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
