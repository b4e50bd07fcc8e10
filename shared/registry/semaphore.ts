import { abortReason } from '../time/clock.ts';

/**
 * Counting semaphores keyed by registry host, so one slow or rate-limiting registry cannot be
 * flooded and does not hold up requests to the others.
 */
export class KeyedSemaphore {
  private readonly limit: number;
  private readonly slots = new Map<string, { active: number; waiters: Array<() => void> }>();

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`semaphore limit must be a positive integer, got ${limit}`);
    this.limit = limit;
  }

  /** Resolves with a release function once a slot for `key` is free. */
  async acquire(key: string, signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    let slot = this.slots.get(key);
    if (!slot) {
      slot = { active: 0, waiters: [] };
      this.slots.set(key, slot);
    }
    const held = slot;
    if (held.active < this.limit) {
      held.active++;
      return this.releaser(key, held);
    }
    await new Promise<void>((resolve, reject) => {
      const wake = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        const i = held.waiters.indexOf(wake);
        if (i >= 0) held.waiters.splice(i, 1);
        reject(abortReason(signal));
      };
      held.waiters.push(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    // The releasing holder handed its slot over without decrementing `active`.
    return this.releaser(key, held);
  }

  /** Holders plus waiters for `key`, for tests and metrics. */
  pending(key: string): number {
    const slot = this.slots.get(key);
    return slot ? slot.active + slot.waiters.length : 0;
  }

  private releaser(key: string, slot: { active: number; waiters: Array<() => void> }): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = slot.waiters.shift();
      if (next) {
        next();
        return;
      }
      slot.active--;
      if (slot.active === 0) this.slots.delete(key);
    };
  }
}
