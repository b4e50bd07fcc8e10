import { getCACertificates } from 'node:tls';
import { LruMap } from '../cache/lru.ts';
import { isTidemarkError } from '../errors/index.ts';
import { HttpBodyTooLarge, HttpPool } from '../http/client.ts';
import { timeoutSignal } from '../time/timer.ts';
import { credentialsFingerprint } from './credentials.ts';
import { GitErrorCode, gitError, scrubSecrets } from './errors.ts';
import { decodePktResponse, encodePktLines, PKT_DELIM, PKT_FLUSH, type PktLine } from './pkt-line.ts';
import type { RemoteRefs } from './refs.ts';
import { refuseCredentialsOverHttp } from './transport.ts';
import type { GitCredentials, GitOperationOptions } from './types.ts';

/**
 * Ref discovery over Git's smart HTTP protocol, in process: the agent's poll of an unchanged
 * repository is one keep-alive request instead of a `git ls-remote` child process, its temp dir and
 * a fresh TLS handshake every interval. Protocol v2 `ls-refs` asks only for the refs the
 * deployment follows; a server that answers the discovery request in protocol v0 is read from that
 * answer. Anything unusual (a redirect, a dumb-HTTP server, a proxy in the environment, a username
 * in the URL) returns `undefined`, and the caller runs `git ls-remote`, which knows all of it.
 */
export interface RefQuery {
  /** `ref-prefix` arguments; empty lists every ref. */
  prefixes: readonly string[];
}

const TIMEOUT_MS = 60_000;
/** A ref listing is text; anything bigger is not a Git server's answer to what was asked. */
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
const USER_AGENT = 'git/2.39-tidemark';
const PROXY_VARIABLES = ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY'];

/** One connection pool per trust root (a deployment's own CA, or the machine's), reused across polls. */
const agents = new LruMap<string, HttpPool>(64, (pool) => void pool.close());
/** Repositories whose server answered in protocol v2: later polls skip the discovery request. */
const speaksV2 = new LruMap<string, true>(4096);

export async function listRefsOverHttp(
  url: string,
  creds: GitCredentials | undefined,
  query: RefQuery,
  options: GitOperationOptions = {},
): Promise<RemoteRefs | undefined> {
  refuseCredentialsOverHttp(creds, url, options.allowInsecureHttp);
  const parsed = new URL(url);
  if (parsed.username !== '' || PROXY_VARIABLES.some((name) => process.env[name])) return undefined;
  const base = url.replace(/\/+$/, '');
  const secrets = secretValues(creds);
  const deadline = timeoutSignal(options.timeoutMs ?? TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;
  const pool = poolFor(parsed.protocol === 'https:', creds?.caFile);
  const call: Call = { base, pool, headers: authHeaders(creds), secrets, signal };
  try {
    if (!speaksV2.has(base)) {
      const discovered = await discover(call);
      if (discovered === 'fallback') return undefined;
      if (discovered !== 'v2') return discovered;
      speaksV2.set(base, true);
    }
    const refs = await lsRefs(call, query);
    if (refs === 'fallback') speaksV2.delete(base);
    return refs === 'fallback' ? undefined : refs;
  } catch (err) {
    throw asGitError(err, call);
  }
}

interface Call {
  base: string;
  pool: HttpPool;
  headers: Record<string, string>;
  secrets: readonly string[];
  signal: AbortSignal;
}

/** GET info/refs, as git does first: a v2 server lists capabilities, a v0 server every ref. */
async function discover(call: Call): Promise<RemoteRefs | 'v2' | 'fallback'> {
  const body = await send(call, 'GET', '/info/refs?service=git-upload-pack', 'application/x-git-upload-pack-advertisement');
  if (body === undefined) return 'fallback';
  let lines = framed(body, call, 'ref advertisement');
  // A v0 answer opens with "# service=git-upload-pack" and a flush; a v2 one with "version 2".
  if (typeof lines[0] === 'string' && lines[0].startsWith('# service=')) lines = lines.slice(lines[1] === PKT_FLUSH ? 2 : 1);
  const end = lines.indexOf(PKT_FLUSH);
  const rest = (end < 0 ? lines : lines.slice(0, end)).filter((line): line is string => typeof line === 'string');
  if (rest[0] === 'version 2') return rest.includes('ls-refs') || rest.some((cap) => cap.startsWith('ls-refs=')) ? 'v2' : 'fallback';
  return parseV0Advertisement(rest);
}

async function lsRefs(call: Call, query: RefQuery): Promise<RemoteRefs | 'fallback'> {
  const request = encodePktLines([
    'command=ls-refs',
    `agent=${USER_AGENT}`,
    PKT_DELIM,
    'peel',
    'symrefs',
    ...query.prefixes.map((prefix) => `ref-prefix ${prefix}`),
    PKT_FLUSH,
  ]);
  const body = await send(call, 'POST', '/git-upload-pack', 'application/x-git-upload-pack-result', request);
  if (body === undefined) return 'fallback';
  return parseLsRefs(framed(body, call, 'ls-refs answer'));
}

/**
 * One request. Returns the body, or `undefined` for answers this client leaves to git (redirects,
 * a dumb-HTTP server's content type); throws GitErrors for the statuses git would fail on.
 */
async function send(call: Call, method: 'GET' | 'POST', path: string, expectType: string, body?: Buffer): Promise<Buffer | undefined> {
  const headers: Record<string, string> = { ...call.headers, 'user-agent': USER_AGENT, 'git-protocol': 'version=2' };
  if (body) {
    headers['content-type'] = 'application/x-git-upload-pack-request';
    headers['accept'] = 'application/x-git-upload-pack-result';
  }
  const response = await call.pool.request(`${call.base}${path}`, {
    method,
    headers,
    body,
    signal: call.signal,
  });
  const status = response.statusCode;
  if (status !== 200) {
    await response.dump();
    if (status >= 300 && status < 400) return undefined;
    throw statusError(status, call);
  }
  const type = String(response.headers['content-type'] ?? '');
  if (!type.startsWith(expectType)) {
    await response.dump();
    return undefined;
  }
  try {
    return await response.bytes(MAX_RESPONSE_BYTES);
  } catch (err) {
    if (!(err instanceof HttpBodyTooLarge)) throw err;
    throw gitError(
      GitErrorCode.RepositoryTooLarge,
      `the ref listing of ${where(call)} is larger than ${MAX_RESPONSE_BYTES / 1024 / 1024} MiB`,
      'follow a branch or tag rather than a semver range over a repository with this many tags',
    );
  }
}

/** The statuses git reports as `The requested URL returned error: N`, with the same codes. */
function statusError(status: number, call: Call) {
  const message = `git ls-remote ${where(call)} failed: the server answered HTTP ${status}`;
  if (status === 401) return gitError(GitErrorCode.AuthenticationFailed, message, 'check the credentials in the Git secret');
  if (status === 403) {
    return gitError(
      GitErrorCode.PermissionDenied,
      message,
      'the credentials lack the access this operation needs (a push needs write access)',
    );
  }
  if (status === 404) return gitError(GitErrorCode.RepositoryNotFound, message, 'check the repository URL');
  return gitError(status >= 500 || status === 429 || status === 408 ? GitErrorCode.Unreachable : GitErrorCode.CommandFailed, message);
}

/** The lines of a whole response; anything else is no listing to trust (transient: a proxy or a cut connection may go away). */
function framed(body: Buffer, call: Call, what: string): PktLine[] {
  const { lines, complete } = decodePktResponse(body);
  if (complete) return lines;
  throw gitError(
    GitErrorCode.CommandFailed,
    `git ls-remote ${where(call)} failed: the server's ${what} (${body.length} bytes) is not Git's protocol or was cut short`,
    'check that the URL points at a Git server, not a proxy or a login page',
  );
}

function asGitError(err: unknown, call: Call) {
  if (isTidemarkError(err)) return err;
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const message = call.signal.aborted
    ? `git ls-remote ${where(call)} failed: timed out or cancelled`
    : `git ls-remote ${where(call)} failed: ${scrubSecrets(detail, call.secrets)}`;
  return gitError(GitErrorCode.Unreachable, message);
}

const where = (call: Call) => scrubSecrets(call.base, call.secrets);

/** `<oid> <name>[ symref-target:<t>][ peeled:<oid>]` lines, up to the flush. */
export function parseLsRefs(lines: readonly PktLine[]): RemoteRefs {
  const refs = new Map<string, string>();
  const peeled = new Map<string, string>();
  let headTarget: string | undefined;
  for (const line of lines) {
    if (typeof line !== 'string') break;
    const [oid, name, ...attributes] = line.split(' ');
    if (oid === undefined || name === undefined || !OID.test(oid)) continue;
    refs.set(name, oid);
    for (const attribute of attributes) {
      if (attribute.startsWith('peeled:')) peeled.set(name, attribute.slice('peeled:'.length));
      else if (attribute.startsWith('symref-target:') && name === 'HEAD') headTarget = attribute.slice('symref-target:'.length);
    }
  }
  return headTarget === undefined ? { refs, peeled } : { refs, peeled, headTarget };
}

/** Protocol v0: `<oid> <name>\0<capabilities>` first, then `<oid> <name>`, `^{}` lines peeled. */
export function parseV0Advertisement(lines: readonly string[]): RemoteRefs {
  const refs = new Map<string, string>();
  const peeled = new Map<string, string>();
  let headTarget: string | undefined;
  for (const [index, raw] of lines.entries()) {
    const [line = '', capabilities = ''] = raw.split('\0');
    if (index === 0) {
      const symref = capabilities.split(' ').find((cap) => cap.startsWith('symref=HEAD:'));
      if (symref) headTarget = symref.slice('symref=HEAD:'.length);
    }
    const [oid, name] = line.split(' ');
    if (oid === undefined || name === undefined || !OID.test(oid) || name === 'capabilities^{}') continue;
    if (name.endsWith('^{}')) peeled.set(name.slice(0, -3), oid);
    else refs.set(name, oid);
  }
  return headTarget === undefined ? { refs, peeled } : { refs, peeled, headTarget };
}

const OID = /^([0-9a-f]{40}|[0-9a-f]{64})$/;

function authHeaders(creds: GitCredentials | undefined): Record<string, string> {
  if (creds && 'username' in creds) {
    return { authorization: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` };
  }
  if (creds && 'bearerToken' in creds) return { authorization: `Bearer ${creds.bearerToken}` };
  return {};
}

function secretValues(creds: GitCredentials | undefined): string[] {
  if (creds && 'password' in creds && creds.password) return [creds.password];
  if (creds && 'bearerToken' in creds) return [creds.bearerToken];
  return [];
}

/**
 * git trusts the machine's CA store, or only `caFile` when the Secret has one (http.sslCAInfo);
 * the pool is built the same way. Plain http:// never reads the store, and an HTTPS pool parses its
 * ~900 certificates into its TLS context once and keeps no copy of their text.
 */
function poolFor(tls: boolean, caFile: string | undefined): HttpPool {
  const key = !tls ? 'plain' : caFile === undefined ? 'system' : credentialsFingerprint({ caFile });
  let pool = agents.get(key);
  if (!pool) {
    pool = new HttpPool({ ...(tls ? { ca: caFile ?? machineCAs() } : {}), keepAliveMs: 60_000, maxSockets: 8 });
    agents.set(key, pool);
  }
  return pool;
}

function machineCAs(): string[] {
  let system: string[] = [];
  try {
    system = getCACertificates('system');
  } catch {
    // No readable system store: Node's bundled roots remain, as for every other HTTPS client here.
  }
  return [...new Set([...getCACertificates('default'), ...system])];
}
