import { isIP } from 'node:net';
import { parseDuration } from '../shared/time/duration.ts';

/** At most `max` failed logins within any `windowMs`. */
export interface LoginWindow {
  max: number;
  windowMs: number;
}

export interface LoginLimits {
  /** Per client address. */
  perClient: LoginWindow;
  /** Across every client: what the API server may be asked about bad tokens at most. */
  total: LoginWindow;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = {
  perClient: { max: 10, windowMs: 5 * 60_000 },
  total: { max: 100, windowMs: 60_000 },
};

/** A login attempt that holds a slot; released when the attempt turns out not to be a bad guess. */
export interface LoginTicket {
  client: string;
  at: number;
}

export type LoginDecision = { allowed: true; ticket: LoginTicket } | { allowed: false; scope: 'client' | 'total'; retryAfterMs: number };

/**
 * Sliding-window limits on failed logins, per client address and in total. An attempt takes its
 * slot before the API server is asked (so a burst of concurrent attempts is counted before any
 * has failed) and keeps it unless the token is accepted: what is limited is the number of bad
 * tokens the API server is asked about, and the check never costs an API call itself.
 *
 * A good login gives back its own slot only, not the client's earlier failures: otherwise a
 * caller holding one valid token could wipe its record between guesses.
 *
 * Memory stays bounded: every kept timestamp is within a window, and the total limit refuses
 * before more than `total.max` are kept.
 */
export class LoginLimiter {
  private readonly limits: LoginLimits;
  private readonly byClient = new Map<string, number[]>();
  private total: number[] = [];

  constructor(limits: LoginLimits = DEFAULT_LOGIN_LIMITS) {
    this.limits = limits;
  }

  begin(client: string, now: number): LoginDecision {
    this.total = recent(this.total, now, this.limits.total.windowMs);
    if (this.byClient.size > this.limits.total.max) this.sweep(now);
    const mine = recent(this.byClient.get(client) ?? [], now, this.limits.perClient.windowMs);
    if (mine.length === 0) this.byClient.delete(client);
    else this.byClient.set(client, mine);
    if (mine.length >= this.limits.perClient.max) {
      return { allowed: false, scope: 'client', retryAfterMs: retryAfter(mine, this.limits.perClient, now) };
    }
    if (this.total.length >= this.limits.total.max) {
      return { allowed: false, scope: 'total', retryAfterMs: retryAfter(this.total, this.limits.total, now) };
    }
    mine.push(now);
    this.byClient.set(client, mine);
    this.total.push(now);
    return { allowed: true, ticket: { client, at: now } };
  }

  /**
   * The attempt no longer counts: the token was accepted, or the API server could not answer (an
   * outage refused no guess). Both give back the one slot the same way, so one method serves both.
   */
  release(ticket: LoginTicket): void {
    const mine = this.byClient.get(ticket.client);
    if (mine) {
      removeOne(mine, ticket.at);
      if (mine.length === 0) this.byClient.delete(ticket.client);
    }
    removeOne(this.total, ticket.at);
  }

  /** Clients with failures still in their window (for tests and the memory bound). */
  get trackedClients(): number {
    return this.byClient.size;
  }

  private sweep(now: number): void {
    for (const [client, times] of this.byClient) {
      const kept = recent(times, now, this.limits.perClient.windowMs);
      if (kept.length === 0) this.byClient.delete(client);
      else this.byClient.set(client, kept);
    }
  }
}

/** Timestamps are appended in clock order, so the ones still inside the window are a suffix. */
function recent(times: number[], now: number, windowMs: number): number[] {
  const first = times.findIndex((t) => now - t < windowMs);
  return first === -1 ? [] : first === 0 ? times : times.slice(first);
}

/** When the oldest counted failure leaves the window, a slot is free again. */
function retryAfter(times: readonly number[], window: LoginWindow, now: number): number {
  const oldest = times[times.length - window.max] ?? times[0] ?? now;
  return Math.max(1, oldest + window.windowMs - now);
}

function removeOne(times: number[], at: number): void {
  const index = times.lastIndexOf(at);
  if (index !== -1) times.splice(index, 1);
}

/** `10/5m`: at most 10 within 5 minutes. Throws a message fit for the command line. */
export function parseLoginWindow(text: string): LoginWindow {
  const match = /^\s*(\d+)\s*\/\s*(\S+)\s*$/.exec(text);
  let windowMs = Number.NaN;
  try {
    windowMs = match?.[2] === undefined ? Number.NaN : parseDuration(match[2]);
  } catch {
    // Reported below with the expected form.
  }
  const max = Number(match?.[1]);
  if (!match || !Number.isSafeInteger(max) || max < 1 || !(windowMs > 0)) {
    throw new Error(`"${text}" is not a limit such as 10/5m (a count of at least 1, a slash, a duration)`);
  }
  return { max, windowMs };
}

/**
 * The address a login is counted against: the TCP peer, or behind a proxy that appends it (an
 * Ingress controller), the last X-Forwarded-For entry — the one that proxy wrote. Earlier entries
 * come from the client and would let it pick its own bucket.
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | undefined, trustForwardedFor: boolean): string {
  if (trustForwardedFor && forwardedFor !== undefined) {
    const last = forwardedFor.split(',').pop()?.trim() ?? '';
    if (isIP(last) !== 0) return normalise(last);
  }
  return normalise(peer ?? 'unknown');
}

/**
 * One bucket per client: an IPv4 peer on a dual-stack socket shows as `::ffff:a.b.c.d`, and an
 * IPv6 client holds a whole /64 (it can pick a new address in it for every attempt), so its
 * bucket is the /64 prefix.
 */
function normalise(address: string): string {
  const lower = address.toLowerCase();
  if (lower.startsWith('::ffff:') && isIP(lower.slice(7)) === 4) return lower.slice(7);
  if (isIP(lower) !== 6) return lower;
  return `${ipv6Groups(lower).slice(0, 4).join(':')}::/64`;
}

/** The eight groups of an IPv6 address, `::` expanded (a trailing dotted IPv4 part counts as two). */
function ipv6Groups(address: string): string[] {
  const [head = '', tail] = address.split('::');
  const part = (text: string | undefined) =>
    (text ? text.split(':') : []).flatMap((g) => {
      if (!g.includes('.')) return [g.padStart(4, '0')];
      const [a = 0, b = 0, c = 0, d = 0] = g.split('.').map(Number);
      return [((a << 8) | b).toString(16).padStart(4, '0'), ((c << 8) | d).toString(16).padStart(4, '0')];
    });
  const left = part(head);
  const right = part(tail);
  const zeros = tail === undefined ? [] : Array.from({ length: 8 - left.length - right.length }, () => '0000');
  return [...left, ...zeros, ...right];
}
