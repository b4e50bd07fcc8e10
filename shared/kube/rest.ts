import { HttpPool } from '../http/client.ts';
import type { HttpResponse } from '../http/client.ts';
import { recordKubeRequest } from '../metrics/index.ts';
import { transient } from '../errors/index.ts';
import { KubeApiError } from './errors.ts';
import type { ServiceAccountIdentity } from './impersonation.ts';
import { serviceAccountUser } from './impersonation.ts';
import type { KubeConnection, KubeCredentials } from './kubeconfig/index.ts';
import { isObject } from './object.ts';
import type { TokenBucket } from './rate-limit.ts';

export type Query = Record<string, string | number | boolean | undefined>;

export interface KubeRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Query | undefined;
  body?: unknown;
  contentType?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** Counts what this client sent, so benchmarks and logs can say how many calls a reconcile made. */
export interface RequestStats {
  reads: number;
  writes: number;
  dryRuns: number;
}

/** One connection pool per cluster and client certificate, shared by a client and its impersonating views. */
class ConnectionPool {
  private pool: HttpPool | undefined;
  /** The client certificate the pool was built with; an exec plugin may hand out a new one. */
  private poolCert: string | undefined;

  for(connection: KubeConnection, credentials: KubeCredentials): HttpPool {
    const { tls } = connection;
    const cert = credentials.cert ?? tls.cert;
    const key = credentials.cert ? credentials.key : tls.key;
    if (this.pool && cert === this.poolCert) return this.pool;
    // Requests in flight finish on the old pool's connections; only its idle ones end now.
    void this.pool?.close();
    this.poolCert = cert;
    this.pool = new HttpPool({
      rejectUnauthorized: tls.rejectUnauthorized,
      ca: tls.ca,
      ...(cert === undefined || key === undefined ? {} : { cert, key }),
      servername: tls.serverName,
      maxSockets: 64,
      keepAliveMs: 30_000,
    });
    return this.pool;
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}

/**
 * A small REST client for the Kubernetes API over node:http (shared/http/client.ts). The cluster and the credentials come
 * from a KubeConnection (kubeconfig/): requests are plain JSON so apply, dry-run, status
 * subresources and watches need no generated API classes.
 */
export class KubeRest {
  readonly server: string;
  readonly stats: RequestStats;
  /** The ServiceAccount every request impersonates; undefined: the connection's own identity. */
  readonly identity: ServiceAccountIdentity | undefined;
  private readonly connection: KubeConnection;
  private readonly pool: ConnectionPool;
  private readonly headers: Readonly<Record<string, string | string[]>>;

  /** Client-side rate limit of every request to this cluster, shared with impersonating views; none: unlimited. */
  private readonly limiter: TokenBucket | undefined;

  constructor(
    connection: KubeConnection,
    shared:
      | { pool: ConnectionPool; stats: RequestStats; identity: ServiceAccountIdentity; limiter: TokenBucket | undefined }
      | undefined = undefined,
    limiter: TokenBucket | undefined = undefined,
  ) {
    this.connection = connection;
    this.server = connection.server;
    this.pool = shared?.pool ?? new ConnectionPool();
    this.stats = shared?.stats ?? { reads: 0, writes: 0, dryRuns: 0 };
    this.identity = shared?.identity;
    this.limiter = shared ? shared.limiter : limiter;
    if (shared) {
      // The ServiceAccount replaces any `as` of the kubeconfig: the API server checks that the
      // connection's own user may impersonate it, never a chain of identities.
      const own = Object.entries(connection.headers).filter(([name]) => !name.toLowerCase().startsWith('impersonate-'));
      this.headers = { ...Object.fromEntries(own), 'impersonate-user': serviceAccountUser(shared.identity) };
    } else this.headers = connection.headers;
  }

  /** The cluster and credentials this client was built from. */
  get connectionInfo(): KubeConnection {
    return this.connection;
  }

  /**
   * The same cluster, connection pool and counters, every request made as `identity`. Its name
   * is checked here (a DNS-1123 namespace and name), so a malformed one fails before any request.
   */
  as(identity: ServiceAccountIdentity): KubeRest {
    return new KubeRest(this.connection, { pool: this.pool, stats: this.stats, identity, limiter: this.limiter });
  }

  async request<T>(req: KubeRequest): Promise<T> {
    const response = await this.send(req);
    const text = await response.text().catch((err: unknown) => {
      // A body cut short (a reset, a stall) is the same outage as a request that never got through.
      if (req.signal?.aborted) throw err;
      throw transient('APIServerUnreachable', `reading the API server's answer from ${this.server} failed: ${(err as Error).message}`, err);
    });
    if (response.statusCode >= 400) throw apiError(response.statusCode, text, response.headers['retry-after'], this.identity);
    return (text ? JSON.parse(text) : {}) as T;
  }

  /**
   * Streams a watch: calls `onEvent` for each JSON line until the server closes the stream or the
   * signal aborts. Resolves when the stream ends; the caller decides whether to re-list or resume.
   */
  async watch(path: string, query: Query, onEvent: (event: { type: string; object: unknown }) => void, signal: AbortSignal): Promise<void> {
    const response = await this.send({
      method: 'GET',
      path,
      query: { ...query, watch: true, allowWatchBookmarks: true },
      signal,
    });
    if (response.statusCode >= 400) {
      throw apiError(response.statusCode, await response.text(), response.headers['retry-after'], this.identity);
    }
    let buffered = '';
    // One decoder for the whole stream: a multi-byte character split across two chunks stays whole.
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body) {
        buffered += decoder.decode(chunk, { stream: true });
        let newline = buffered.indexOf('\n');
        while (newline >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line) {
            const parsed: unknown = JSON.parse(line);
            if (isObject(parsed) && typeof parsed.type === 'string') onEvent({ type: parsed.type, object: parsed.object });
          }
          newline = buffered.indexOf('\n');
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      throw err;
    }
  }

  /** Closes the connection pool; an impersonating view leaves it to the client it came from. */
  async close(): Promise<void> {
    if (this.identity === undefined) await this.pool.close();
  }

  private async send(req: KubeRequest): Promise<HttpResponse> {
    await this.limiter?.take(req.signal);
    const credentials = await this.connection.auth.credentials();
    const pool = this.pool.for(this.connection, credentials);
    const headers: Record<string, string | string[]> = { accept: 'application/json', ...this.headers };
    if (credentials.authorization) headers.authorization = credentials.authorization;
    let body: string | undefined;
    if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      headers['content-type'] = req.contentType ?? 'application/json';
    }
    this.count(req);
    const verb = req.query?.watch ? 'WATCH' : req.method;
    try {
      const response = await pool.request(this.server + req.path + queryString(req.query), {
        method: req.method,
        headers,
        body,
        signal: req.signal,
        headersTimeoutMs: req.query?.watch ? 0 : 60_000,
        bodyTimeoutMs: req.query?.watch ? 0 : 120_000,
      });
      recordKubeRequest(verb, response.statusCode);
      return response;
    } catch (err) {
      if (req.signal?.aborted) throw err;
      recordKubeRequest(verb, undefined);
      throw transient('APIServerUnreachable', `cannot reach the API server ${this.server}: ${(err as Error).message}`, err);
    }
  }

  private count(req: KubeRequest): void {
    if (req.method === 'GET') this.stats.reads++;
    else if (req.query?.dryRun) this.stats.dryRuns++;
    else this.stats.writes++;
  }
}

function queryString(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

function apiError(
  statusCode: number,
  text: string,
  retryAfter: string | string[] | undefined,
  identity: ServiceAccountIdentity | undefined,
): KubeApiError {
  let reason = 'Unknown';
  let message = text.slice(0, 500);
  try {
    const status: unknown = JSON.parse(text);
    if (isObject(status)) {
      if (typeof status.reason === 'string') reason = status.reason;
      if (typeof status.message === 'string') message = status.message;
    }
  } catch {
    // not a Status object: keep the excerpt
  }
  const seconds = typeof retryAfter === 'string' ? Number(retryAfter) : NaN;
  // The server's 403 message already names the user, the verb and the object; the hint says
  // whose rights decide, which is not the agent's when it acts as a ServiceAccount.
  const hint =
    statusCode === 403 && identity
      ? `grant ServiceAccount ${identity.namespace}/${identity.name} this right (a RoleBinding), or remove the object from Git`
      : undefined;
  return new KubeApiError(statusCode, reason, message, Number.isFinite(seconds) ? seconds * 1000 : undefined, hint);
}
