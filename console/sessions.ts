import { randomToken, secretsEqual } from './security.ts';
import type { TokenSource } from './security.ts';

export interface Session {
  id: string;
  /** The synchronizer token every state-changing request must echo in X-CSRF-Token. */
  csrf: string;
}

/**
 * The login token the command prints and the sessions it becomes. The token works once: a URL
 * that leaked afterwards (shell history, a screen share) opens nothing.
 */
export class Sessions {
  private loginToken: string | undefined;
  private readonly sessions = new Map<string, Session>();
  private readonly token: TokenSource;

  constructor(token: TokenSource = randomToken) {
    this.token = token;
    this.loginToken = token();
  }

  /** The token for the printed URL; undefined once it was used. */
  get pendingLoginToken(): string | undefined {
    return this.loginToken;
  }

  /** Trades the login token for a new session; a wrong or used token gives nothing. */
  exchange(candidate: string | undefined): Session | undefined {
    if (candidate === undefined || this.loginToken === undefined || !secretsEqual(candidate, this.loginToken)) return undefined;
    this.loginToken = undefined;
    const session: Session = { id: this.token(), csrf: this.token() };
    this.sessions.set(session.id, session);
    return session;
  }

  find(id: string | undefined): Session | undefined {
    if (id === undefined) return undefined;
    // A map lookup by the cookie's value would leak through timing which prefix exists; compare each.
    for (const session of this.sessions.values()) if (secretsEqual(id, session.id)) return session;
    return undefined;
  }

  /** Whether `candidate` is this session's CSRF token. */
  static csrfMatches(session: Session, candidate: string | undefined): boolean {
    return candidate !== undefined && secretsEqual(candidate, session.csrf);
  }
}
