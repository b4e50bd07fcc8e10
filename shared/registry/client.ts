import { createHash } from 'node:crypto';
import type { LookupOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { TidemarkError } from '../errors/index.ts';
import { HttpPool } from '../http/client.ts';
import { silentLogger, type Logger } from '../log/index.ts';
import { retry, type BackoffPolicy, type RetryWait } from '../time/backoff.ts';
import { systemClock, type Clock } from '../time/clock.ts';
import { formatDuration } from '../time/duration.ts';
import { timerDelay } from '../time/timer.ts';
import { Authenticator, MAX_KNOWN_REGISTRIES, type AuthLimits, type AuthTarget, type Send } from './auth.ts';
import { LruMap } from '../cache/lru.ts';
import type { RegistryCredentials } from './credentials.ts';
import { isRetryable, RegistryErrorCode, registryTerminal, registryTransient, safeExcerpt } from './errors.ts';
import { exchange, type HttpReply, type Meter } from './http.ts';
import { nextLinkTarget, resolveNextPage } from './link.ts';
import { MANIFEST_ACCEPT, parseManifest, type Manifest } from './manifest.ts';
import type { ResolvedAddress, ResolveHost } from './realm-guard.ts';
import { formatReference, isValidDigest, isValidTag, parseImageReference, type ImageReference } from './reference.ts';
import { KeyedSemaphore } from './semaphore.ts';
import { registryErrorCode, statusError } from './status.ts';
import { tlsKey, validateTLS, type RegistryTLS } from './tls.ts';
import { recordRegistryRequest } from '../metrics/index.ts';

/**
 * The registry client the image scanner uses: list tags (following pagination within limits),
 * resolve a tag to a digest, fetch a manifest. Every call reports the requests it made and the
 * body bytes it read.
 */

/** How to reach one registry: credentials, plain HTTP, TLS material. */
export interface RegistryAccess {
  credentials?: RegistryCredentials | undefined;
  /** Plain HTTP instead of HTTPS; also allows a plain-HTTP token realm to receive the credentials. */
  insecure?: boolean | undefined;
  tls?: RegistryTLS | undefined;
}

export interface RegistryClientOptions {
  clock?: Clock;
  logger?: Logger;
  /** Tags asked for per page (`n`); default 1000. */
  pageSize?: number;
  /** More tags than this is an error; default 100,000. */
  maxTags?: number;
  /** More tag pages than this is an error, whatever each holds; default 1,000. */
  maxPages?: number;
  /** Deadline for one whole tag listing, every page and retry included; default 10 minutes. */
  scanTimeoutMs?: number;
  /** Largest reply body read, per request; default 8 MiB. */
  maxBodyBytes?: number;
  /** Deadline per HTTP request; default 30 s. */
  timeoutMs?: number;
  /** Tries per request, the first included; default 4. */
  attempts?: number;
  backoff?: BackoffPolicy;
  /** Requests in flight per registry host; default 6. */
  concurrencyPerRegistry?: number;
  userAgent?: string;
  random?: () => number;
  /** DNS for token realm checks (realm-guard.ts); tests may answer for names they invent. */
  resolveHost?: ResolveHost;
  /** Cache sizes; the defaults are MAX_TLS_SETUPS, MAX_CACHED_TOKENS and MAX_KNOWN_REGISTRIES. */
  limits?: AuthLimits & { tlsSetups?: number };
}

/** Connection pools kept, one per distinct CA / client certificate; the least recently used is closed. */
export const MAX_TLS_SETUPS = 64;

export interface CallOptions {
  signal?: AbortSignal | undefined;
  access?: RegistryAccess;
  /**
   * Told before the client waits to retry a request (429, 5xx, unreachable), so a scan that sits
   * out a Retry-After can say so instead of looking stuck.
   */
  onRetry?: ((wait: RetryWait) => void | Promise<void>) | undefined;
}

export interface ListTagsOptions extends CallOptions {
  pageSize?: number;
  maxTags?: number;
}

export interface Usage {
  /** HTTP requests sent, token requests and retries included. */
  requests: number;
  /** Reply body bytes read. */
  bytes: number;
}

export interface ListTagsResult extends Usage {
  /** In the registry's order, each once. */
  tags: string[];
  pages: number;
}

export interface DigestResult extends Usage {
  digest: string;
  mediaType: string | undefined;
}

export interface ManifestResult extends Usage {
  digest: string;
  mediaType: string;
  manifest: Manifest;
}

export interface BlobOptions extends CallOptions {
  /** Largest blob read; the descriptor's size when the caller knows it, else the client's maxBodyBytes. */
  maxBytes?: number;
}

export interface BlobResult extends Usage {
  /** The blob's bytes, checked against its digest. */
  data: Buffer;
}

/** Redirects followed for one blob: registries hand blobs to a storage service (S3, GCS), once. */
const MAX_BLOB_REDIRECTS = 3;
const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

export const defaultRegistryBackoff: BackoffPolicy = { initialMs: 500, maxMs: 30_000, factor: 2, jitter: 0.2 };

/** Registries that cap `n` (Quay: 100) answer 400; these are the sizes tried next. */
const MIN_PAGE_SIZE = 10;

function smallerPage(n: number): number | undefined {
  if (n <= MIN_PAGE_SIZE) return undefined;
  return n > 100 ? 100 : Math.max(MIN_PAGE_SIZE, Math.floor(n / 2));
}

const PAGE_SIZE_CODES: ReadonlySet<string> = new Set(['TOO_MANY_TAGS_REQUESTED', 'PAGINATION_NUMBER_INVALID', 'SIZE_INVALID']);

function positiveInteger(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw registryTerminal(RegistryErrorCode.InvalidRegistryOptions, `${what} must be a positive integer, got ${value}`);
  }
  return value;
}

export class RegistryClient {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly pageSize: number;
  private readonly maxTags: number;
  private readonly maxPages: number;
  private readonly scanTimeoutMs: number;
  private readonly maxBodyBytes: number;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly backoff: BackoffPolicy;
  private readonly userAgent: string;
  private readonly random: (() => number) | undefined;
  private readonly concurrency: number;
  private readonly semaphore: KeyedSemaphore;
  private readonly auth: Authenticator;
  private readonly pools: LruMap<string, HttpPool>;
  /** Page sizes a registry refused, remembered so later scans start with what works. */
  private readonly pageSizeLimit: LruMap<string, number>;

  constructor(options: RegistryClientOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.log = options.logger ?? silentLogger;
    this.pageSize = positiveInteger(options.pageSize, 1000, 'pageSize');
    this.maxTags = positiveInteger(options.maxTags, 100_000, 'maxTags');
    // A registry that hands out one new tag per page would otherwise cost maxTags requests.
    this.maxPages = positiveInteger(options.maxPages, 1000, 'maxPages');
    this.scanTimeoutMs = positiveInteger(options.scanTimeoutMs, 10 * 60_000, 'scanTimeoutMs');
    this.maxBodyBytes = positiveInteger(options.maxBodyBytes, 8 * 1024 * 1024, 'maxBodyBytes');
    this.timeoutMs = positiveInteger(options.timeoutMs, 30_000, 'timeoutMs');
    this.attempts = positiveInteger(options.attempts, 4, 'attempts');
    this.backoff = options.backoff ?? defaultRegistryBackoff;
    this.userAgent = options.userAgent ?? 'tidemark-image-updater';
    this.random = options.random;
    this.concurrency = positiveInteger(options.concurrencyPerRegistry, 6, 'concurrencyPerRegistry');
    this.semaphore = new KeyedSemaphore(this.concurrency);
    this.auth = new Authenticator(this.clock, options.resolveHost, options.limits);
    // A request already running on an evicted pool finishes on its connection, which then idles out.
    this.pools = new LruMap(options.limits?.tlsSetups ?? MAX_TLS_SETUPS, (pool) => void pool.close());
    this.pageSizeLimit = new LruMap(options.limits?.registries ?? MAX_KNOWN_REGISTRIES);
  }

  /** Entries in the caches keyed by tenant input, for tests and metrics. */
  cacheSizes(): { tlsSetups: number; registries: number; tokens: number } {
    return { tlsSetups: this.pools.size, registries: this.auth.knownRegistries, tokens: this.auth.cachedTokens };
  }

  async close(): Promise<void> {
    const pools = this.pools.values();
    this.pools.clear();
    await Promise.all(pools.map((p) => p.close()));
  }

  /**
   * Lists every tag of the repository, following `Link` pages to the end: at most maxPages pages,
   * all within scanTimeoutMs, so a registry that trickles pages cannot hold a worker for long.
   */
  async listTags(image: ImageReference | string, options: ListTagsOptions = {}): Promise<ListTagsResult> {
    const ref = typeof image === 'string' ? parseImageReference(image) : image;
    const deadline = new AbortController();
    const timer = setTimeout(() => {
      const message = `listing tags of ${ref.name} took longer than ${formatDuration(this.scanTimeoutMs)}`;
      deadline.abort(registryTransient(RegistryErrorCode.RegistryTimeout, message));
    }, timerDelay(this.scanTimeoutMs));
    try {
      const signal = options.signal ? AbortSignal.any([options.signal, deadline.signal]) : deadline.signal;
      return await this.listPages(ref, { ...options, signal });
    } finally {
      clearTimeout(timer);
    }
  }

  private async listPages(ref: ImageReference, options: ListTagsOptions): Promise<ListTagsResult> {
    const call = this.call(ref, options);
    const maxTags = positiveInteger(options.maxTags, this.maxTags, 'maxTags');
    const requested = positiveInteger(options.pageSize, this.pageSize, 'pageSize');
    const pageSize = Math.min(requested, this.pageSizeLimit.get(call.target.origin) ?? requested);
    const what = `listing tags of ${ref.name}`;

    let url = new URL(`${call.target.origin}/v2/${ref.repository}/tags/list`);
    url.searchParams.set('n', String(pageSize));
    const visited = new Set<string>();
    const seen = new Set<string>();
    const tags: string[] = [];
    let pages = 0;
    for (;;) {
      visited.add(url.href);
      const page = await this.tagPage(call, url, what);
      url = page.url;
      visited.add(url.href);
      pages++;
      let added = 0;
      for (const tag of page.tags) {
        if (seen.has(tag)) continue;
        seen.add(tag);
        tags.push(tag);
        added++;
        if (tags.length > maxTags) {
          throw registryTerminal(
            RegistryErrorCode.RegistryTooManyTags,
            `${what}: more than ${maxTags} tags`,
            'raise the tag limit, or prune old tags from the repository',
          );
        }
      }
      const target = nextLinkTarget(page.headers.link);
      if (target === undefined) break;
      const next = resolveNextPage(target, url);
      if (visited.has(next.href)) {
        this.log.warn({ image: ref.name, page: pages }, 'registry repeated a tag page link; stopping');
        break;
      }
      if (added === 0) {
        // A page with nothing new cannot make progress; stopping bounds a misbehaving registry.
        this.log.warn({ image: ref.name, page: pages }, 'registry sent a tag page with no new tags; stopping');
        break;
      }
      if (pages >= this.maxPages) {
        throw registryTerminal(
          RegistryErrorCode.RegistryPaginationError,
          `${what}: more than ${this.maxPages} pages`,
          'the registry sends too few tags per page; prune old tags from the repository',
        );
      }
      url = next;
    }
    return { tags, pages, requests: call.meter.requests, bytes: call.meter.bytes };
  }

  /**
   * Resolves a tag (or the reference's own tag or digest) to the manifest digest with a HEAD,
   * falling back to a GET when the registry omits Docker-Content-Digest.
   */
  async getDigest(image: ImageReference | string, reference?: string, options: CallOptions = {}): Promise<DigestResult> {
    const ref = typeof image === 'string' ? parseImageReference(image) : image;
    const target = manifestReference(ref, reference);
    const call = this.call(ref, options);
    const what = `resolving ${formatReference({ name: ref.name, ...target.part })}`;
    const url = new URL(`${call.target.origin}/v2/${ref.repository}/manifests/${target.value}`);
    const reply = await this.fetch(call, 'HEAD', url, { accept: MANIFEST_ACCEPT });
    if (reply.status === 405) {
      // A registry (or proxy) without HEAD support: the GET costs a body but gives the same answer.
      const full = await this.manifest(call, ref, target, what);
      return { digest: full.digest, mediaType: full.mediaType, requests: call.meter.requests, bytes: call.meter.bytes };
    }
    if (reply.status !== 200) throw statusError(reply, what, 'manifest', this.clock.now());
    const header = singleHeader(reply.headers['docker-content-digest']);
    const mediaType = singleHeader(reply.headers['content-type'])?.split(';')[0]?.trim();
    if (header !== undefined && isValidDigest(header)) {
      if (target.part.digest !== undefined && header !== target.part.digest) throw mismatch(what, target.part.digest, header);
      return { digest: header, mediaType, requests: call.meter.requests, bytes: call.meter.bytes };
    }
    const full = await this.manifest(call, ref, target, what);
    return { digest: full.digest, mediaType: full.mediaType, requests: call.meter.requests, bytes: call.meter.bytes };
  }

  /** Fetches and validates a manifest or index; the digest is computed from the bytes and checked. */
  async getManifest(image: ImageReference | string, reference?: string, options: CallOptions = {}): Promise<ManifestResult> {
    const ref = typeof image === 'string' ? parseImageReference(image) : image;
    const target = manifestReference(ref, reference);
    const call = this.call(ref, options);
    const what = `fetching the manifest of ${formatReference({ name: ref.name, ...target.part })}`;
    const result = await this.manifest(call, ref, target, what);
    return { ...result, requests: call.meter.requests, bytes: call.meter.bytes };
  }

  /**
   * Downloads a blob (an artifact's layer) by digest and checks the bytes against it. A redirect
   * to another origin (blob storage) is followed without the registry's credentials, and never
   * from https:// down to http://.
   */
  async getBlob(image: ImageReference | string, digest: string, options: BlobOptions = {}): Promise<BlobResult> {
    const ref = typeof image === 'string' ? parseImageReference(image) : image;
    if (!isValidDigest(digest)) {
      throw registryTerminal(RegistryErrorCode.InvalidImageReference, `${JSON.stringify(safeExcerpt(digest, 140))} is not a digest`);
    }
    const call = this.call(ref, options);
    const maxBytes = positiveInteger(options.maxBytes, this.maxBodyBytes, 'maxBytes');
    const what = `fetching blob ${digest} of ${ref.name}`;
    const origin = new URL(call.target.origin);
    let url = new URL(`${call.target.origin}/v2/${ref.repository}/blobs/${digest}`);
    let reply = await this.fetch(call, 'GET', url, {}, maxBytes);
    for (let hops = 0; REDIRECTS.has(reply.status); hops++) {
      const location = singleHeader(reply.headers.location);
      if (location === undefined || hops >= MAX_BLOB_REDIRECTS) break;
      const next = new URL(location, url);
      if (url.protocol === 'https:' && next.protocol !== 'https:') {
        throw registryTerminal(
          RegistryErrorCode.RegistryBadResponse,
          `${what}: the registry redirected from https:// to ${next.protocol}//`,
        );
      }
      url = next;
      reply = next.origin === origin.origin ? await this.fetch(call, 'GET', next, {}, maxBytes) : await this.plainGet(call, next, maxBytes);
    }
    if (reply.status !== 200) throw statusError(reply, what, 'manifest', this.clock.now());
    const algorithm = digest.slice(0, digest.indexOf(':'));
    const computed = `${algorithm}:${createHash(algorithm).update(reply.body).digest('hex')}`;
    if (computed !== digest) throw mismatch(what, digest, computed);
    return { data: reply.body, requests: call.meter.requests, bytes: call.meter.bytes };
  }

  /** A GET to blob storage: no registry credentials, the default trust store, retried like the rest. */
  private async plainGet(call: Call, url: URL, maxBytes: number): Promise<HttpReply> {
    const storage: Call = { ...call, tls: undefined };
    return retry(
      async () => {
        const reply = await this.send(storage, 'GET', url, { 'user-agent': this.userAgent }, maxBytes);
        if (reply.status === 429 || reply.status === 408 || reply.status >= 500) {
          throw statusError(reply, `GET ${url.origin}${url.pathname} for ${call.image}`, 'repository', this.clock.now());
        }
        return reply;
      },
      {
        policy: this.backoff,
        attempts: this.attempts,
        clock: this.clock,
        signal: call.signal,
        random: this.random,
        onRetry: call.onRetry,
      },
    );
  }

  private async manifest(call: Call, ref: ImageReference, target: ManifestTarget, what: string) {
    const url = new URL(`${call.target.origin}/v2/${ref.repository}/manifests/${target.value}`);
    const reply = await this.fetch(call, 'GET', url, { accept: MANIFEST_ACCEPT });
    if (reply.status !== 200) throw statusError(reply, what, 'manifest', this.clock.now());
    const contentType = singleHeader(reply.headers['content-type']);
    const manifest = parseManifest(reply.body, contentType, reply.status);
    const computed = `sha256:${createHash('sha256').update(reply.body).digest('hex')}`;
    const header = singleHeader(reply.headers['docker-content-digest']);
    const expected = target.part.digest ?? (header?.startsWith('sha256:') ? header : undefined);
    if (expected !== undefined && expected.startsWith('sha256:') && expected !== computed) throw mismatch(what, expected, computed);
    return { digest: expected ?? computed, mediaType: manifest.mediaType, manifest };
  }

  private async tagPage(call: Call, start: URL, what: string): Promise<{ url: URL; tags: string[]; headers: HttpReply['headers'] }> {
    let url = start;
    for (;;) {
      const reply = await this.fetch(call, 'GET', url, { accept: 'application/json' });
      if (reply.status === 200) return { url, tags: parseTagList(reply, what), headers: reply.headers };
      const n = Number(url.searchParams.get('n'));
      const smaller = Number.isSafeInteger(n) ? smallerPage(n) : undefined;
      const code = registryErrorCode(reply.body)?.code;
      const refusesSize = reply.status === 400 || reply.status === 413 || (code !== undefined && PAGE_SIZE_CODES.has(code));
      if (reply.status === 401 || !refusesSize || smaller === undefined) throw statusError(reply, what, 'repository', this.clock.now());
      this.log.debug({ image: call.image, refused: n, next: smaller }, 'registry refused the tag page size; asking for fewer');
      this.pageSizeLimit.set(call.target.origin, smaller);
      url = new URL(url);
      url.searchParams.set('n', String(smaller));
    }
  }

  /** One authorized request, retried on 429/5xx/network failures with backoff. */
  private async fetch(
    call: Call,
    method: 'GET' | 'HEAD',
    url: URL,
    headers: Record<string, string>,
    maxBodyBytes?: number,
  ): Promise<HttpReply> {
    const send: Send = (m, u, h, extra) => this.send(call, m, u, h, extra?.maxBodyBytes ?? maxBodyBytes, extra?.pinned);
    let stop: unknown;
    const stopper = new TidemarkError('RegistryRetryStop', 'not retryable', { kind: 'terminal' });
    try {
      return await retry(
        async (attempt) => {
          try {
            const reply = await this.auth.send(call.target, method, url, { ...headers, 'user-agent': this.userAgent }, send);
            if (reply.status === 429 || reply.status === 408 || reply.status >= 500) {
              throw statusError(reply, `${method} ${url.pathname} for ${call.image}`, 'repository', this.clock.now());
            }
            return reply;
          } catch (err) {
            if (!call.signal?.aborted && isRetryable(err)) {
              this.log.debug({ image: call.image, code: (err as TidemarkError).code, attempt }, 'registry request failed; retrying');
              throw err;
            }
            stop = err;
            throw stopper;
          }
        },
        {
          policy: this.backoff,
          attempts: this.attempts,
          clock: this.clock,
          signal: call.signal,
          random: this.random,
          onRetry: call.onRetry,
        },
      );
    } catch (err) {
      if (err === stopper) throw stop;
      throw err;
    }
  }

  private async send(
    call: Call,
    method: 'GET' | 'HEAD',
    url: URL,
    headers: Record<string, string>,
    maxBodyBytes?: number,
    pinned?: readonly ResolvedAddress[],
  ): Promise<HttpReply> {
    // Token realms on another host get their own slot pool and the default trust store.
    const sameHost = url.host === new URL(call.target.origin).host;
    const release = await this.semaphore.acquire(url.host, call.signal);
    // A checked token realm is reached at the addresses checked, through a one-off pool.
    const once = pinned === undefined ? undefined : pinnedPool(pinned, sameHost ? call.tls : undefined);
    try {
      const reply = await exchange({
        method,
        url,
        headers,
        pool: once ?? this.pool(sameHost ? call.tls : undefined),
        timeoutMs: this.timeoutMs,
        maxBodyBytes: maxBodyBytes ?? this.maxBodyBytes,
        signal: call.signal,
        meter: call.meter,
      });
      recordRegistryRequest(url.host, reply.status);
      return reply;
    } catch (err) {
      if (!call.signal?.aborted) recordRegistryRequest(url.host, undefined);
      throw err;
    } finally {
      release();
      void once?.close();
    }
  }

  private pool(tls: RegistryTLS | undefined): HttpPool {
    const key = tlsKey(tls);
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new HttpPool({ ca: tls?.ca, cert: tls?.cert, key: tls?.key, maxSockets: this.concurrency, keepAliveMs: 30_000 });
      this.pools.set(key, pool);
    }
    return pool;
  }

  private call(ref: ImageReference, options: CallOptions): Call {
    const access = options.access ?? {};
    const tls = access.tls ? validateTLS(access.tls) : undefined;
    const insecure = access.insecure === true;
    return {
      image: ref.name,
      target: {
        origin: `${insecure ? 'http' : 'https'}://${ref.apiHost}`,
        image: ref.name,
        repository: ref.repository,
        credentials: access.credentials,
        insecure,
      },
      tls,
      signal: options.signal,
      onRetry: options.onRetry,
      meter: { requests: 0, bytes: 0 },
    };
  }
}

/**
 * A one-request pool whose every connection goes to one of `addresses`, whatever DNS says by then.
 * Closed after its request; a connection not yet back in the pool by then idles out within a
 * second (the keep-alive time is also the socket's timeout, so it cannot be shorter).
 */
function pinnedPool(addresses: readonly ResolvedAddress[], tls: RegistryTLS | undefined): HttpPool {
  return new HttpPool({ ca: tls?.ca, cert: tls?.cert, key: tls?.key, maxSockets: 1, keepAliveMs: 1_000, lookup: pinnedLookup(addresses) });
}

export function pinnedLookup(addresses: readonly ResolvedAddress[]): LookupFunction {
  return ((_host: string, options: LookupOptions, callback: (...args: unknown[]) => void) => {
    const wanted = options.family === 4 || options.family === 6 ? addresses.filter((a) => a.family === options.family) : addresses;
    const usable = wanted.length > 0 ? wanted : addresses;
    if (options.all)
      callback(
        null,
        usable.map((a) => ({ address: a.address, family: a.family })),
      );
    else callback(null, usable[0]?.address, usable[0]?.family);
  }) as LookupFunction;
}

interface Call {
  image: string;
  target: AuthTarget;
  tls: RegistryTLS | undefined;
  signal: AbortSignal | undefined;
  onRetry: CallOptions['onRetry'];
  meter: Meter;
}

interface ManifestTarget {
  /** What goes into the URL: a tag or a digest. */
  value: string;
  part: { tag?: string; digest?: string };
}

function manifestReference(ref: ImageReference, reference: string | undefined): ManifestTarget {
  const value = reference ?? ref.digest ?? ref.tag ?? 'latest';
  if (isValidDigest(value)) return { value, part: { digest: value } };
  if (isValidTag(value)) return { value, part: { tag: value } };
  throw registryTerminal(
    RegistryErrorCode.InvalidImageReference,
    `${JSON.stringify(safeExcerpt(value, 140))} is neither a tag nor a digest`,
  );
}

function singleHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function mismatch(what: string, expected: string, got: string) {
  return registryTransient(RegistryErrorCode.RegistryDigestMismatch, `${what}: expected digest ${expected}, the registry served ${got}`);
}

/** Validates `{"name": ..., "tags": [...]}`; `tags: null` (an empty repository on some registries) is no tags. */
export function parseTagList(reply: HttpReply, what: string): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(reply.body.toString('utf8'));
  } catch {
    throw registryTransient(
      RegistryErrorCode.RegistryBadResponse,
      `${what}: registry answered ${reply.status} with a body that is not JSON: ${safeExcerpt(reply.body)}`,
    );
  }
  const tags = typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? (doc as { tags?: unknown }).tags : undefined;
  if (tags === null) return [];
  if (!Array.isArray(tags) || !tags.every((t): t is string => typeof t === 'string')) {
    throw registryTransient(
      RegistryErrorCode.RegistryBadResponse,
      `${what}: registry answered ${reply.status} with JSON that is not a tag list: ${safeExcerpt(reply.body)}`,
    );
  }
  return tags;
}
