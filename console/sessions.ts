import { createHash } from 'node:crypto';
import { randomToken, secretsEqual } from './security.ts';
import type { TokenSource } from './security.ts';
import type { CdPlanner } from './compare.ts';
import type { CdFeed } from './feed.ts';
import type { ConsoleKube } from './kube.ts';

/**
 * An in-cluster session's own view of the cluster: a client holding the user's bearer token (in
 * memory only) and the watch of what that token may see. Closed at logout or idle expiry.
 */
export interface SessionCluster {
  kube: ConsoleKube;
  feed: CdFeed;
  /** The details page's comparison with Git, planned with this user's token. */
  planner?: CdPlanner | undefined;
  close(): Promise<void>;
}

export interface Session {
  id: string;
  /** The synchronizer token every state-changing request must echo in X-CSRF-Token. */
  csrf: string;
  /** In-cluster mode only: the user's cluster; a local console has one for all. */
  cluster?: SessionCluster | undefined;
  /** Milliseconds (the console's clock) of the last request; idle sessions expire. */
  lastSeen: number;
  /** When it was opened: a session ends at its absolute lifetime however busy it is. */
  openedAt: number;
  /** In-cluster: sha256 of the user's bearer token (never the token itself), to cap sessions per token. */
  tokenHash?: string | undefined;
  /** Called when the session ends (its open event streams close with it). */
  readonly onEnd: Set<() => void>;
  /** Open event streams: a page that shows the live list is not idle. */
  streams: number;
}

export interface SessionLimits {
  /** A session unused this long (and with no live page open) ends. */
  idleMs: number;
  /** A session ends this long after it opened, used or not: a stolen cookie does not last forever. */
  lifetimeMs: number;
  /** At most this many sessions in all; a login beyond it is refused. */
  maxSessions: number;
  /** At most this many sessions per token; a new one ends the oldest. */
  maxPerToken: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  idleMs: 30 * 60_000,
  lifetimeMs: 12 * 3_600_000,
  maxSessions: 200,
  maxPerToken: 5,
};

/** The key sessions are counted under per token: a digest, so no map or dump of the process holds the token as a key. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Why a session has ended by `now`, if it has: idle (and no live page open), or past its lifetime. */
export function sessionExpiry(
  session: Pick<Session, 'lastSeen' | 'openedAt' | 'streams'>,
  now: number,
  limits: Pick<SessionLimits, 'idleMs' | 'lifetimeMs'>,
): 'idle' | 'lifetime' | undefined {
  if (now - session.openedAt >= limits.lifetimeMs) return 'lifetime';
  if (session.streams === 0 && now - session.lastSeen >= limits.idleMs) return 'idle';
  return undefined;
}

/**
 * The login token the command prints and the sessions it becomes. The token works once: a URL
 * that leaked afterwards (shell history, a screen share) opens nothing.
 */
export class Sessions {
  private loginToken: string | undefined;
  private readonly sessions = new Map<string, Session>();
  private readonly token: TokenSource;
  private readonly limits: SessionLimits;
  private readonly ended = new WeakSet<Session>();

  /** `oneTimeLogin: false` (in-cluster): users log in with their Kubernetes token instead. */
  constructor(token: TokenSource = randomToken, options: { oneTimeLogin?: boolean; limits?: SessionLimits } = {}) {
    this.token = token;
    this.loginToken = options.oneTimeLogin === false ? undefined : token();
    this.limits = options.limits ?? DEFAULT_SESSION_LIMITS;
  }

  get size(): number {
    return this.sessions.size;
  }

  /**
   * Whether a login with this token could get a session: there is room, or the token is at its
   * own cap and its oldest session would make room. Asked before the API server is.
   */
  hasRoomFor(hash: string): boolean {
    return this.sessions.size < this.limits.maxSessions || this.ofToken(hash).length >= this.limits.maxPerToken;
  }

  /**
   * A session for a verified token: the token's oldest sessions end past its cap; undefined (and
   * nothing ended) when every slot is taken. The caller closes `cluster` then.
   */
  async openForToken(cluster: SessionCluster, hash: string, now: number): Promise<Session | undefined> {
    if (!this.hasRoomFor(hash)) return undefined;
    const mine = this.ofToken(hash).sort((a, b) => a.openedAt - b.openedAt);
    const surplus = mine.slice(0, Math.max(0, mine.length - this.limits.maxPerToken + 1));
    // Taken out of the map before anything awaits: a concurrent login sees the room this made.
    for (const old of surplus) this.sessions.delete(old.id);
    const session = this.open(cluster, now, hash);
    await Promise.all(surplus.map((old) => this.end(old)));
    return session;
  }

  /** The token for the printed URL; undefined once it was used. */
  get pendingLoginToken(): string | undefined {
    return this.loginToken;
  }

  /** Trades the login token for a new session; a wrong or used token gives nothing. */
  exchange(candidate: string | undefined): Session | undefined {
    if (candidate === undefined || this.loginToken === undefined || !secretsEqual(candidate, this.loginToken)) return undefined;
    this.loginToken = undefined;
    return this.open(undefined, 0);
  }

  /** A new session; in-cluster with the user's cluster, opened after the token was verified. */
  open(cluster: SessionCluster | undefined, now: number, hash?: string): Session {
    const session: Session = {
      id: this.token(),
      csrf: this.token(),
      cluster,
      lastSeen: now,
      openedAt: now,
      streams: 0,
      tokenHash: hash,
      onEnd: new Set(),
    };
    this.sessions.set(session.id, session);
    return session;
  }

  find(id: string | undefined): Session | undefined {
    if (id === undefined) return undefined;
    // A map lookup by the cookie's value would leak through timing which prefix exists; compare each.
    for (const session of this.sessions.values()) if (secretsEqual(id, session.id)) return session;
    return undefined;
  }

  /** Ends a session (logout); its cluster's watch and connections close. */
  async end(session: Session): Promise<void> {
    this.sessions.delete(session.id);
    if (this.ended.has(session)) return;
    this.ended.add(session);
    for (const callback of session.onEnd) callback();
    await session.cluster?.close();
  }

  /** Whether `session` has ended by `now` (see sessionExpiry), by this console's limits. */
  expired(session: Session, now: number): boolean {
    return sessionExpiry(session, now, this.limits) !== undefined;
  }

  /** Ends the sessions idle with no open event stream, or past their lifetime; returns how many. */
  async expire(now: number): Promise<number> {
    const ended = [...this.sessions.values()].filter((s) => this.expired(s, now));
    await Promise.all(ended.map((s) => this.end(s)));
    return ended.length;
  }

  private ofToken(hash: string): Session[] {
    return [...this.sessions.values()].filter((s) => s.tokenHash === hash);
  }

  /** Ends every session (the console stops). */
  async endAll(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => this.end(s)));
  }

  /** Whether `candidate` is this session's CSRF token. */
  static csrfMatches(session: Pick<Session, 'csrf'>, candidate: string | undefined): boolean {
    return candidate !== undefined && secretsEqual(candidate, session.csrf);
  }
}
