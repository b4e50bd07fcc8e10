import type { Agent as HttpAgent, IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { createSecureContext } from 'node:tls';
import { nodeHttp } from './node-http.ts';

/**
 * A keep-alive HTTP(S) client over node:http, for the agent's API server and Git clients: a
 * pool per trust root and client certificate, request deadlines and abort signals, and streamed
 * bodies. undici did the same at 9 MiB more resident memory per process (ADR 0014).
 */
export interface HttpPoolOptions {
  /** PEM trust roots; none: Node's bundled roots. */
  ca?: string | readonly string[] | undefined;
  /** PEM client certificate and key, for mutual TLS. */
  cert?: string | undefined;
  key?: string | undefined;
  /** The name to check the server's certificate against (and send as SNI), when not the URL's host. */
  servername?: string | undefined;
  /** False only where the user asked to skip verification (insecure-skip-tls-verify). */
  rejectUnauthorized?: boolean | undefined;
  /** Connections per origin. */
  maxSockets?: number | undefined;
  /** How long an idle connection stays open for the next request. */
  keepAliveMs?: number | undefined;
  /** Resolves host names for new connections; default DNS (the registry pins a checked token realm's addresses). */
  lookup?: LookupFunction | undefined;
}

export interface HttpRequestOptions {
  method?: string | undefined;
  headers?: Readonly<Record<string, string | readonly string[]>> | undefined;
  body?: string | Buffer | undefined;
  signal?: AbortSignal | undefined;
  /** From sending the request to the response's headers; 0: no limit. */
  headersTimeoutMs?: number | undefined;
  /** The longest silence while the body streams; 0: no limit (a watch). */
  bodyTimeoutMs?: number | undefined;
}

export interface HttpResponse {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
  /** The body as it arrives; iterate it once, or use one of the readers below. */
  readonly body: AsyncIterable<Buffer>;
  text(): Promise<string>;
  /** The whole body; throws `HttpBodyTooLarge` past `maxBytes` and closes the connection. */
  bytes(maxBytes?: number): Promise<Buffer>;
  /**
   * Reads and drops the body, so the connection can carry the next request; past `maxBytes`
   * (64 KiB) the connection is closed instead, so an endless error page cannot hold the caller.
   */
  dump(maxBytes?: number): Promise<void>;
}

/** Thrown by `bytes()` when a body passes its limit. */
export class HttpBodyTooLarge extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`the response body is larger than ${limit} bytes`);
    this.name = 'HttpBodyTooLarge';
    this.limit = limit;
  }
}

/** A timeout of this client: the request was sent, the answer did not come in time. */
export class HttpTimeout extends Error {
  constructor(what: 'headers' | 'body', ms: number) {
    super(what === 'headers' ? `no response headers within ${ms} ms` : `the response body stalled for ${ms} ms`);
    this.name = 'HttpTimeout';
  }
}

const DEFAULT_HEADERS_TIMEOUT_MS = 60_000;
const DEFAULT_BODY_TIMEOUT_MS = 120_000;
/** What dump() reads before it closes the connection rather than drain it. */
const DUMP_LIMIT_BYTES = 64 * 1024;

/**
 * One pool of keep-alive connections with one TLS identity. The secure context is built once:
 * a thousand machine roots are parsed into it here, not kept as strings nor compared per request.
 */
export class HttpPool {
  private readonly http: HttpAgent;
  private readonly https: HttpsAgent;

  constructor(options: HttpPoolOptions = {}) {
    const pool = {
      keepAlive: true,
      maxSockets: options.maxSockets ?? 16,
      timeout: options.keepAliveMs ?? 30_000,
      scheduling: 'lifo' as const,
      ...(options.lookup === undefined ? {} : { lookup: options.lookup }),
    };
    this.http = new nodeHttp.Agent(pool);
    const ca = options.ca === undefined ? undefined : typeof options.ca === 'string' ? options.ca : [...options.ca];
    const secureContext = createSecureContext({
      ...(ca === undefined ? {} : { ca }),
      ...(options.cert === undefined || options.key === undefined ? {} : { cert: options.cert, key: options.key }),
    });
    this.https = new HttpsAgent({
      ...pool,
      secureContext,
      rejectUnauthorized: options.rejectUnauthorized ?? true,
      ...(options.servername === undefined ? {} : { servername: options.servername }),
    });
  }

  request(url: string, options: HttpRequestOptions = {}): Promise<HttpResponse> {
    const target = new URL(url);
    const tls = target.protocol === 'https:';
    if (!tls && target.protocol !== 'http:') return Promise.reject(new Error(`unsupported protocol ${target.protocol}`));
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const headersTimeout = options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
    const bodyTimeout = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) headers[name] = typeof value === 'string' ? value : [...value];
    if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));

    return new Promise<HttpResponse>((resolve, reject) => {
      const send = tls ? httpsRequest : nodeHttp.request;
      const req = send(target, { method: options.method ?? 'GET', headers, agent: tls ? this.https : this.http });
      let response: IncomingMessage | undefined;
      let headersTimer: NodeJS.Timeout | undefined;
      const fail = (err: Error) => {
        clearTimeout(headersTimer);
        // Destroying the request ends its socket too; a body being read sees the error.
        if (response) response.destroy(err);
        req.destroy(err);
        reject(err);
      };
      const onAbort = () => fail(abortError(signal));
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => signal?.removeEventListener('abort', onAbort);
      if (headersTimeout > 0) headersTimer = setTimeout(() => fail(new HttpTimeout('headers', headersTimeout)), headersTimeout);
      // An idle socket, before or after the headers; the watch turns it off.
      req.setTimeout(bodyTimeout, () => fail(new HttpTimeout('body', bodyTimeout)));
      req.on('error', (err) => {
        done();
        fail(err);
      });
      req.on('response', (res) => {
        clearTimeout(headersTimer);
        response = res;
        res.on('error', done);
        res.on('close', done);
        resolve(wrap(res));
      });
      req.end(options.body);
    });
  }

  /**
   * Ends idle connections at once. Requests in flight finish on theirs, which then idle out after
   * `keepAliveMs` without keeping the process alive (Node unrefs a free socket).
   */
  close(): Promise<void> {
    for (const agent of [this.http, this.https]) {
      for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
    }
    return Promise.resolve();
  }
}

function wrap(res: IncomingMessage): HttpResponse {
  const bytes = async (maxBytes = Infinity): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) {
        res.destroy();
        throw new HttpBodyTooLarge(maxBytes);
      }
      chunks.push(chunk);
    }
    return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
  };
  return {
    statusCode: res.statusCode ?? 0,
    headers: res.headers,
    body: res,
    bytes,
    text: async () => (await bytes()).toString('utf8'),
    dump: async (maxBytes = DUMP_LIMIT_BYTES) => {
      let size = 0;
      for await (const chunk of res as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > maxBytes) {
          res.destroy();
          return;
        }
      }
    },
  };
}

function abortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error) return reason;
  return new DOMException('This operation was aborted', 'AbortError');
}
