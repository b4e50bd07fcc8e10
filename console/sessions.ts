import { randomToken, secretsEqual } from './security.ts';
import type { TokenSource } from './security.ts';
import type { CdFeed } from './feed.ts';
import type { ConsoleKube } from './kube.ts';

/**
 * An in-cluster session's own view of the cluster: a client holding the user's bearer token (in
 * memory only) and the watch of what that token may see. Closed at logout or idle expiry.
 */
export interface SessionCluster {
  kube: ConsoleKube;
  feed: CdFeed;
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
  /** Open event streams: a page that shows the live list is not idle. */
  streams: number;
}

/**
 * The login token the command prints and the sessions it becomes. The token works once: a URL
 * that leaked afterwards (shell history, a screen share) opens nothing.
 */
export class Sessions {
  private loginToken: string | undefined;
  private readonly sessions = new Map<string, Session>();
  private readonly token: TokenSource;

  /** `oneTimeLogin: false` (in-cluster): users log in with their Kubernetes token instead. */
  constructor(token: TokenSource = randomToken, options: { oneTimeLogin?: boolean } = {}) {
    this.token = token;
    this.loginToken = options.oneTimeLogin === false ? undefined : token();
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
  open(cluster: SessionCluster | undefined, now: number): Session {
    const session: Session = { id: this.token(), csrf: this.token(), cluster, lastSeen: now, streams: 0 };
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
    await session.cluster?.close();
  }

  /** Ends the sessions idle for `idleMs` with no open event stream; returns how many. */
  async expire(now: number, idleMs: number): Promise<number> {
    const idle = [...this.sessions.values()].filter((s) => s.streams === 0 && now - s.lastSeen >= idleMs);
    await Promise.all(idle.map((s) => this.end(s)));
    return idle.length;
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
