import { createHash } from 'node:crypto';
import type { Clock } from '../time/clock.ts';
import { LruMap } from '../cache/lru.ts';
import { parseWwwAuthenticate, type AuthChallenge } from './challenge.ts';
import type { RegistryCredentials } from './credentials.ts';
import { RegistryErrorCode, registryTerminal, registryTransient, safeExcerpt } from './errors.ts';
import type { HttpReply } from './http.ts';
import { checkRealm, resolveHost, type ResolvedAddress, type ResolveHost } from './realm-guard.ts';
import { statusError } from './status.ts';

/**
 * The registry auth flow: anonymous or basic first; on a `Bearer` challenge a token from the
 * realm (with basic credentials when we have them), cached per registry, scope and credentials
 * until shortly before it expires, and fetched again once if the registry refuses it.
 */

export interface AuthTarget {
  /** `https://host[:port]` of the registry API. */
  origin: string;
  /** For messages: the image name, e.g. `ghcr.io/org/app`. */
  image: string;
  repository: string;
  credentials: RegistryCredentials | undefined;
  insecure: boolean;
}

/** Sends one request; the client adds the semaphore, dispatcher, deadline and meter. */
export type Send = (
  method: 'GET' | 'HEAD',
  url: URL,
  headers: Record<string, string>,
  options?: { maxBodyBytes?: number; pinned?: readonly ResolvedAddress[] },
) => Promise<HttpReply>;

type Authorization = {
  header: string | undefined;
  kind: 'none' | 'basic' | 'cached-bearer' | 'fresh-bearer';
  token?: string;
};

const DEFAULT_TOKEN_SECONDS = 60;
const MAX_TOKEN_BODY = 1024 * 1024;
/** Tokens kept: one per registry, repository and credentials. */
export const MAX_CACHED_TOKENS = 4096;
/** Registries whose last challenge is remembered. */
export const MAX_KNOWN_REGISTRIES = 1024;

export interface AuthLimits {
  tokens?: number;
  registries?: number;
}

export function basicAuthorization(credentials: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;
}

/** Prefers Bearer (what registries mean when they offer both), then Basic. */
export function pickChallenge(challenges: AuthChallenge[]): AuthChallenge | undefined {
  return challenges.find((c) => c.scheme === 'bearer' && c.params.realm) ?? challenges.find((c) => c.scheme === 'basic');
}

function contentType(reply: HttpReply): string {
  const raw: string | string[] | undefined = reply.headers['content-type'];
  const first: string | undefined = typeof raw === 'string' ? raw : raw?.[0];
  const value = first?.split(';')[0]?.trim();
  return value ? `content type ${safeExcerpt(value, 60)}` : 'no content type';
}

function credentialId(credentials: RegistryCredentials | undefined): string {
  if (!credentials) return 'anonymous';
  return createHash('sha256').update(`${credentials.username}\0${credentials.password}`).digest('hex').slice(0, 16);
}

export class Authenticator {
  private readonly clock: Clock;
  private readonly resolve: ResolveHost;
  private readonly maxTokens: number;
  private readonly challenges: LruMap<string, AuthChallenge>;
  private readonly tokens = new Map<string, { token: string; expiresAt: number }>();
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(clock: Clock, resolve: ResolveHost = resolveHost, limits: AuthLimits = {}) {
    this.clock = clock;
    this.resolve = resolve;
    this.maxTokens = limits.tokens ?? MAX_CACHED_TOKENS;
    this.challenges = new LruMap(limits.registries ?? MAX_KNOWN_REGISTRIES);
  }

  /** Registries whose challenge is remembered, for tests and metrics. */
  get knownRegistries(): number {
    return this.challenges.size;
  }

  /** Cached tokens, for tests and metrics. */
  get cachedTokens(): number {
    return this.tokens.size;
  }

  /**
   * Sends `method url` with whatever authorization the registry wants and returns the first
   * reply that is not a 401; a 401 that survives a fresh token or the basic credentials ends in
   * RegistryUnauthorized.
   */
  async send(target: AuthTarget, method: 'GET' | 'HEAD', url: URL, headers: Record<string, string>, send: Send): Promise<HttpReply> {
    const scope = `repository:${target.repository}:pull`;
    let auth = await this.preemptive(target, scope, send);
    for (let round = 0; round < 4; round++) {
      const reply = await send(method, url, auth.header === undefined ? headers : { ...headers, authorization: auth.header });
      if (reply.status !== 401) return reply;
      const challenge = pickChallenge(parseWwwAuthenticate(reply.headers['www-authenticate']));
      if (!challenge) throw this.unauthorized(target, 'without an authentication challenge it can follow');
      this.challenges.set(target.origin, challenge);
      if (challenge.scheme === 'bearer') {
        if (auth.kind === 'fresh-bearer') throw this.unauthorized(target, 'even with a newly issued token', challenge);
        const token = await this.token(target, challenge, scope, send, auth.token);
        auth = { header: `Bearer ${token}`, kind: 'fresh-bearer', token };
      } else {
        if (!target.credentials || auth.kind === 'basic') throw this.unauthorized(target, '');
        auth = { header: basicAuthorization(target.credentials), kind: 'basic' };
      }
    }
    throw this.unauthorized(target, 'after repeated challenges');
  }

  private async preemptive(target: AuthTarget, scope: string, send: Send): Promise<Authorization> {
    const known = this.challenges.get(target.origin);
    if (known?.scheme === 'bearer') {
      const cached = this.cached(this.key(target, scope));
      if (cached !== undefined) return { header: `Bearer ${cached}`, kind: 'cached-bearer', token: cached };
      const token = await this.token(target, known, scope, send, undefined);
      return { header: `Bearer ${token}`, kind: 'fresh-bearer', token };
    }
    if (known?.scheme === 'basic' && target.credentials) return { header: basicAuthorization(target.credentials), kind: 'basic' };
    return { header: undefined, kind: 'none' };
  }

  private key(target: AuthTarget, scope: string): string {
    return `${target.origin}|${scope}|${credentialId(target.credentials)}`;
  }

  private cached(key: string): string | undefined {
    const entry = this.tokens.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt > this.clock.now()) return entry.token;
    this.tokens.delete(key);
    return undefined;
  }

  /** A valid token for `scope`: cached, joined with a fetch already under way, or fetched. */
  private token(target: AuthTarget, challenge: AuthChallenge, scope: string, send: Send, rejected: string | undefined): Promise<string> {
    const key = this.key(target, scope);
    if (rejected !== undefined && this.tokens.get(key)?.token === rejected) this.tokens.delete(key);
    const cached = this.cached(key);
    if (cached !== undefined && cached !== rejected) return Promise.resolve(cached);
    const running = this.inflight.get(key);
    if (running) return running;
    const fetching = this.fetchToken(target, challenge, scope, send)
      .then(({ token, lifetimeMs }) => {
        // Renew a little early so a token does not expire between check and use.
        const margin = Math.min(10_000, lifetimeMs / 10);
        if (this.tokens.size >= this.maxTokens) this.sweep();
        this.tokens.set(key, { token, expiresAt: this.clock.now() + lifetimeMs - margin });
        return token;
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, fetching);
    return fetching;
  }

  /** Drops expired tokens, and the oldest ones if the cache is still full (one per repository and credentials). */
  private sweep(): void {
    const now = this.clock.now();
    for (const [key, entry] of this.tokens) if (entry.expiresAt <= now) this.tokens.delete(key);
    for (const key of this.tokens.keys()) {
      if (this.tokens.size < this.maxTokens) break;
      this.tokens.delete(key);
    }
  }

  private async fetchToken(
    target: AuthTarget,
    challenge: AuthChallenge,
    scope: string,
    send: Send,
  ): Promise<{ token: string; lifetimeMs: number }> {
    const what = `getting a token for ${target.image}`;
    let realm: URL;
    try {
      realm = new URL(challenge.params.realm ?? '');
    } catch {
      throw registryTerminal(RegistryErrorCode.RegistryBadResponse, `${what}: the registry's Bearer challenge has no usable realm URL`);
    }
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') {
      throw registryTerminal(RegistryErrorCode.RegistryBadResponse, `${what}: the token realm uses unsupported scheme ${realm.protocol}`);
    }
    const pinned = await checkRealm(realm, target.origin, what, this.resolve);
    realm.searchParams.set('service', challenge.params.service ?? '');
    if (!challenge.params.service) realm.searchParams.delete('service');
    realm.searchParams.append('scope', scope);
    const asked = challenge.params.scope;
    if (asked && asked !== scope) for (const extra of asked.split(' ')) if (extra) realm.searchParams.append('scope', extra);

    const headers: Record<string, string> = { accept: 'application/json' };
    if (target.credentials) headers.authorization = basicAuthorization(target.credentials);
    const reply = await send('GET', realm, headers, { maxBodyBytes: MAX_TOKEN_BODY, pinned });
    if (reply.status === 401 || reply.status === 403) {
      throw registryTerminal(
        RegistryErrorCode.RegistryUnauthorized,
        `${what}: the token service at ${realm.host} answered ${reply.status}${target.credentials ? ' to the credentials' : ''}`,
        target.credentials ? 'check the username and password in the image pull secret' : 'the registry needs credentials: set secretRef',
      );
    }
    // Never the body: the realm may be any endpoint the registry names, and status is readable by the tenant.
    const said = `${what}: the token service at ${realm.host} (${contentType(reply)})`;
    if (reply.status !== 200) throw statusError({ ...reply, body: Buffer.alloc(0) }, said, 'repository', this.clock.now());

    let doc: unknown;
    try {
      doc = JSON.parse(reply.body.toString('utf8'));
    } catch {
      throw registryTransient(RegistryErrorCode.RegistryBadResponse, `${said} answered 200 with a body that is not JSON`);
    }
    const fields = typeof doc === 'object' && doc !== null ? (doc as Record<string, unknown>) : {};
    const token = typeof fields.token === 'string' && fields.token !== '' ? fields.token : fields.access_token;
    if (typeof token !== 'string' || token === '') {
      // No excerpt: a malformed token reply may still hold secrets.
      throw registryTransient(RegistryErrorCode.RegistryBadResponse, `${what}: the token service answered 200 without a token`);
    }
    const seconds =
      typeof fields.expires_in === 'number' && Number.isFinite(fields.expires_in) && fields.expires_in > 0
        ? fields.expires_in
        : DEFAULT_TOKEN_SECONDS;
    return { token, lifetimeMs: seconds * 1000 };
  }

  private unauthorized(target: AuthTarget, how: string, challenge?: AuthChallenge) {
    const scopeProblem = challenge?.params.error === 'insufficient_scope';
    const base = target.credentials
      ? `${target.image}: the registry refused the credentials${how ? ` ${how}` : ''}`
      : `${target.image}: the registry requires authentication${how ? ` (${how})` : ''}`;
    const hint = scopeProblem
      ? 'the repository does not exist or the credentials lack pull access to it'
      : target.credentials
        ? 'check the username and password in the image pull secret'
        : 'set secretRef to a kubernetes.io/dockerconfigjson Secret for this registry';
    return registryTerminal(RegistryErrorCode.RegistryUnauthorized, base, hint);
  }
}
