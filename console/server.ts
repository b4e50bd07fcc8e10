import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Annotations, Kinds } from '../shared/api/constants.ts';
import { isTidemarkError } from '../shared/errors/index.ts';
import { KubeApiError } from '../shared/kube/errors.ts';
import type { KubeObject } from '../shared/kube/object.ts';
import type { Logger } from '../shared/log/index.ts';
import type { Clock } from '../shared/time/clock.ts';
import { namespaceProblem, objectNameProblem } from '../shared/spec/names.ts';
import { readNewCd } from './create.ts';
import { imageAutomationRow, imagePolicyRow, imageRepositoryRow } from './images.ts';
import { readRepositoryImport, repositoryView } from './repositories.ts';
import { apiServerProblems, editableYaml, informationPatch, readEditedYaml } from './edit.ts';
import type { CdPlanner } from './compare.ts';
import type { CdFeed } from './feed.ts';
import type { ConsoleKube } from './kube.ts';
import {
  hostAllowed,
  originAllowed,
  parseCookies,
  publicCookie,
  publicCookieName,
  publicHostAllowed,
  publicOriginAllowed,
  SECURITY_HEADERS,
  sessionCookie,
  sessionCookieName,
} from './security.ts';
import type { PublicAddress } from './security.ts';
import { clientAddress } from './login-limit.ts';
import type { LoginLimiter } from './login-limit.ts';
import { sendRefusal, sessionsFull, tooManyLogins } from './login-page.ts';
import { ConsoleReverter, localAccount } from './revert.ts';
import type { Session, SessionCluster } from './sessions.ts';
import { Sessions, tokenHash } from './sessions.ts';
import { sseComment, sseEvent } from './sse.ts';
import { cdDetails } from './view.ts';

export interface ConsoleServerOptions {
  kube: ConsoleKube;
  feed: CdFeed;
  sessions: Sessions;
  clock: Clock;
  log: Logger;
  /** The port the server listens on, known once it does: the Host and Origin checks compare with it. */
  port: () => number;
  /** Compares a deployment with Git (the details page's diff); optional. */
  planner?: CdPlanner | undefined;
  /** How often an idle event stream gets a comment line; default 25 s. */
  heartbeatMs?: number | undefined;
  /** In-cluster mode: users log in with a Kubernetes bearer token; without it, the one-time link. */
  inCluster?: InClusterLogin | undefined;
  /** Revert on a history entry (console/revert.ts); default one with the real Git side. */
  reverter?: ConsoleReverter | undefined;
}

export interface InClusterLogin {
  address: PublicAddress;
  /** Failed logins per client and in total, checked before the API server is asked. */
  limiter: LoginLimiter;
  /** Count logins against the last X-Forwarded-For entry (the console is behind an Ingress). */
  trustForwardedFor: boolean;
  /**
   * Verifies the token by asking the API server as its user (the console has no rights to ask
   * on anyone's behalf) and opens that user's view; undefined when the API server refuses it.
   * `namespace` is where the list shows when the user may not watch every namespace.
   */
  login(token: string, namespace: string | undefined): Promise<SessionCluster | undefined>;
}

interface Asset {
  type: string;
  body: Buffer;
}

const ASSET_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** The files the browser gets, read once: only these names are served, so no path reaches the disk. */
const PAGES: Record<string, string> = {
  '/': 'index.html',
  '/cd': 'cd.html',
  '/new': 'new.html',
  '/repositories': 'repositories.html',
  '/images': 'images.html',
  '/assets/images.js': 'images.js',
  '/assets/repositories.js': 'repositories.js',
  '/assets/new.js': 'new.js',
  '/assets/style.css': 'style.css',
  '/assets/common.js': 'common.js',
  '/assets/list.js': 'list.js',
  '/assets/details.js': 'details.js',
  '/login': 'login.html',
  '/assets/login.js': 'login.js',
};

/** What an in-cluster console serves before login: the login page and what it needs, nothing with data. */
const PUBLIC_ROUTES = new Set(['/login', '/assets/login.js', '/assets/style.css']);

export function loadAssets(dir: URL = new URL('./assets/', import.meta.url)): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const [route, file] of Object.entries(PAGES)) {
    const type = ASSET_TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream';
    assets.set(route, { type, body: readFileSync(new URL(file, dir)) });
  }
  return assets;
}

const MAX_BODY = 64 * 1024;

class HttpError extends Error {
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, message: string) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

/**
 * The console's request handler. Every request: the Host must be the loopback address (DNS
 * rebinding), then a session cookie (401 without one), then for anything but GET the page's
 * Origin and the session's CSRF token (403). Kubernetes calls carry the user's own credentials,
 * so the API server's refusals come back to the page as they are.
 */
export function consoleHandler(given: ConsoleServerOptions, assets: Map<string, Asset> = loadAssets()) {
  const streams = new Set<ServerResponse>();
  // Local use: the account running the console is the one person it serves.
  const localUser = given.inCluster ? undefined : localAccount();
  const options = { ...given, reverter: given.reverter ?? new ConsoleReverter({ clock: given.clock, log: given.log, localUser }) };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    handle(options, assets, streams, req, res).catch((err: unknown) => {
      const failure = httpFailure(err);
      if (failure.status >= 500) options.log.warn({ err: failure.message, path: req.url }, 'console request failed');
      if (res.headersSent) res.end();
      else sendJson(res, failure.status, { error: failure.message, reason: failure.reason });
    });
  };
  return {
    handler,
    /** Ends open event streams, so the server can close. */
    closeStreams: () => {
      for (const res of streams) res.end();
    },
  };
}

async function handle(
  options: ConsoleServerOptions,
  assets: Map<string, Asset>,
  streams: Set<ServerResponse>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const port = options.port();
  const host = req.headers.host;
  const inCluster = options.inCluster;
  if (inCluster) {
    if (!publicHostAllowed(host, inCluster.address)) {
      return sendText(res, 403, `Forbidden: this console answers only to ${inCluster.address.hosts.join(', ')}.\n`);
    }
  } else if (!hostAllowed(host, port)) return sendText(res, 403, `Forbidden: this console answers only to 127.0.0.1:${port}.\n`);
  const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
  const method = req.method ?? 'GET';

  if (inCluster) {
    const publicAsset = method === 'GET' && PUBLIC_ROUTES.has(url.pathname) ? assets.get(url.pathname) : undefined;
    if (publicAsset) {
      // Under no-referrer a browser sends `Origin: null` with the form's POST, and the origin check
      // refuses it: the login page alone lets same-origin requests carry their origin.
      if (url.pathname === '/login') res.setHeader('referrer-policy', 'same-origin');
      res.writeHead(200, { 'content-type': publicAsset.type, 'cache-control': 'no-cache' }).end(publicAsset.body);
      return;
    }
    if (url.pathname === '/login' && method === 'POST') return tokenLogin(options, inCluster, req, res);
  } else if (url.pathname === '/login' && method === 'GET') {
    const session = options.sessions.exchange(url.searchParams.get('token') ?? undefined);
    if (!session) {
      return sendText(res, 401, 'This login link was used already or is wrong. Run tidemark dashboard again for a new one.\n');
    }
    res.setHeader('set-cookie', sessionCookie(port, session.id));
    res.setHeader('cache-control', 'no-store');
    res.writeHead(303, { location: '/' }).end();
    return;
  }

  const cookieName = inCluster ? publicCookieName(inCluster.address) : sessionCookieName(port);
  let session = options.sessions.find(parseCookies(req.headers.cookie).get(cookieName));
  const now = options.clock.now();
  if (session && inCluster && options.sessions.expired(session, now)) {
    await options.sessions.end(session);
    session = undefined;
  }
  if (!session) {
    if (url.pathname.startsWith('/api/')) return sendJson(res, 401, { error: 'not logged in', reason: 'Unauthorized' });
    if (inCluster) {
      res.writeHead(303, { location: '/login', 'cache-control': 'no-store' }).end();
      return;
    }
    return sendText(res, 401, 'Not logged in: open the URL that tidemark dashboard printed.\n');
  }
  session.lastSeen = now;
  if (method !== 'GET' && method !== 'HEAD') checkCsrf(req, session, port, inCluster?.address);
  if (inCluster && url.pathname === '/api/logout' && method === 'POST') {
    await options.sessions.end(session);
    res.setHeader('set-cookie', publicCookie(inCluster.address, '', 0));
    return sendJson(res, 200, { loggedOut: true });
  }
  // In-cluster, each session has its own client and watch with the user's token.
  return handleAs(
    session.cluster ? { ...options, kube: session.cluster.kube, feed: session.cluster.feed, planner: session.cluster.planner } : options,
    assets,
    streams,
    session,
    req,
    res,
    url,
    method,
  );
}

async function handleAs(
  options: ConsoleServerOptions,
  assets: Map<string, Asset>,
  streams: Set<ServerResponse>,
  session: Session,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  method: string,
): Promise<void> {
  const asset = method === 'GET' ? assets.get(url.pathname) : undefined;
  if (asset) {
    res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-cache' }).end(asset.body);
    return;
  }
  if (url.pathname === '/api/session' && method === 'GET') {
    return sendJson(res, 200, { csrfToken: session.csrf, scope: options.feed.currentScope, inCluster: options.inCluster !== undefined });
  }
  if (url.pathname === '/api/events' && method === 'GET') return openStream(options, streams, session, req, res);

  if (url.pathname === '/api/cds' && method === 'POST') return createCd(options, req, res);
  if (url.pathname === '/api/repositories' && method === 'GET') {
    const scope = options.feed.currentScope;
    const secrets = await options.kube.listRepositories(scope.all ? undefined : scope.namespace);
    // Only names, URLs and the kind of credential leave the server: never a value from the data.
    return sendJson(res, 200, { repositories: secrets.map(repositoryView) });
  }
  if (url.pathname === '/api/images' && method === 'GET') return sendJson(res, 200, await imagesPage(options));
  if (url.pathname === '/api/repositories' && method === 'POST') return importRepository(options, req, res);

  const match = /^\/api\/cds\/([^/]+)\/([^/]+)(?:\/(sync|suspend|resume|yaml|info|compare|revert))?$/.exec(url.pathname);
  if (!match) throw new HttpError(404, 'NotFound', `no such page: ${url.pathname}`);
  const namespace = decodeURIComponent(match[1] ?? '');
  const name = decodeURIComponent(match[2] ?? '');
  const problem = namespaceProblem(namespace) ?? objectNameProblem(name);
  if (problem) throw new HttpError(400, 'BadRequest', problem);
  const action = match[3];
  const cdRef = `${namespace}/${name}`;

  if (action === undefined && method === 'GET') {
    const cd = await options.kube.getCd(namespace, name);
    if (!cd) throw new HttpError(404, 'NotFound', `ContinuousDeployment ${cdRef} not found`);
    const events = await options.kube.events(namespace, name).catch((err: unknown) => {
      // The page still shows the deployment when the user may not read Events.
      if (err instanceof KubeApiError && err.status === 403) return [];
      throw err;
    });
    return sendJson(res, 200, cdDetails(cd, events));
  }
  if (action === 'compare' && method === 'GET') {
    if (!options.planner) throw new HttpError(501, 'NotImplemented', 'this console cannot compare with Git');
    // Read with the user's credentials first: who may not read the deployment gets no plan of it.
    const cd = await options.kube.getCd(namespace, name);
    if (!cd) throw new HttpError(404, 'NotFound', `ContinuousDeployment ${cdRef} not found`);
    return sendJson(res, 200, await options.planner(cd));
  }
  if (action === 'revert' && options.reverter && (method === 'GET' || method === 'POST')) {
    const kube = options.kube;
    const answer =
      method === 'GET'
        ? await options.reverter.choices(kube, namespace, name)
        : await options.reverter.revert(kube, namespace, name, await readJson(req));
    return sendJson(res, answer.status, answer.body);
  }
  if (action === 'sync' && method === 'POST') {
    const requestedAt = await requestSync(options, namespace, name);
    options.log.info({ cd: cdRef }, 'console: sync requested');
    return sendJson(res, 200, { requestedAt });
  }
  if ((action === 'suspend' || action === 'resume') && method === 'POST') {
    const suspend = action === 'suspend';
    await options.kube.patchCd(namespace, name, { spec: { suspend } });
    // Resuming syncs now, as `tidemark resume` does: the user expects to see it catch up.
    if (!suspend) await requestSync(options, namespace, name);
    options.log.info({ cd: cdRef, suspend }, 'console: suspend changed');
    return sendJson(res, 200, { suspended: suspend });
  }
  if (action === 'yaml' && method === 'GET') {
    const cd = await options.kube.getCd(namespace, name);
    if (!cd) throw new HttpError(404, 'NotFound', `ContinuousDeployment ${cdRef} not found`);
    return sendJson(res, 200, { yaml: editableYaml(cd) });
  }
  if (action === 'yaml' && method === 'POST') {
    const body = await readJson(req);
    const text = isRecord(body) && typeof body.yaml === 'string' ? body.yaml : undefined;
    if (text === undefined) throw new HttpError(400, 'BadRequest', 'expected {"yaml": "..."}');
    const edited = readEditedYaml(text, { namespace, name });
    if (!edited.ok) return sendJson(res, 422, { error: 'the YAML has problems', reason: 'InvalidSpec', problems: edited.problems });
    // The API server's own checks (schema, admission) first, without storing: only a change that
    // would be accepted whole is written.
    for (const dryRun of [true, false]) {
      try {
        await options.kube.replaceCd(edited.object, dryRun);
      } catch (err) {
        if (err instanceof KubeApiError && (err.status === 422 || err.status === 400)) {
          return sendJson(res, 422, { error: 'the API server refused the change', reason: err.code, problems: apiServerProblems(err) });
        }
        if (err instanceof KubeApiError && err.status === 409) {
          throw new HttpError(409, 'Conflict', 'the deployment changed since the editor opened; reload it and edit again');
        }
        throw err;
      }
    }
    options.log.info({ cd: cdRef }, 'console: YAML saved');
    return sendJson(res, 200, { saved: true });
  }
  if (action === 'info' && method === 'POST') {
    const info = informationPatch(await readJson(req));
    if (!info.ok) return sendJson(res, 422, { error: 'the information has problems', reason: 'InvalidSpec', problems: info.problems });
    await options.kube.patchCd(namespace, name, info.patch);
    options.log.info({ cd: cdRef }, 'console: information saved');
    return sendJson(res, 200, { saved: true });
  }
  if (action === undefined && method === 'DELETE') {
    const body = await readJson(req);
    const orphan = isRecord(body) && body.orphan === true;
    // The agent's finalizer reads this annotation when the deletion arrives: orphan keeps the
    // deployed objects; without it they are deleted with the deployment (KubeSphere's meaning).
    await options.kube.patchCd(namespace, name, { metadata: { annotations: { [Annotations.deletionPolicy]: orphan ? 'orphan' : null } } });
    await options.kube.deleteCd(namespace, name);
    options.log.info({ cd: cdRef, orphan }, 'console: deleted');
    return sendJson(res, 200, { deleted: true, orphan });
  }
  throw new HttpError(405, 'MethodNotAllowed', `${method} is not allowed on ${url.pathname}`);
}

/**
 * The create form's submit: our reader first (every problem by field), then the API server's
 * dry run (schema, admission, a name already taken), and only then the real create.
 */
async function createCd(options: ConsoleServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const read = readNewCd(await readJson(req));
  if (!read.ok) return sendJson(res, 422, { error: 'the form has problems', reason: 'InvalidSpec', problems: read.problems });
  const cd = read.cd as unknown as KubeObject;
  for (const dryRun of [true, false]) {
    try {
      await options.kube.createCd(cd, dryRun);
    } catch (err) {
      if (err instanceof KubeApiError && (err.status === 422 || err.status === 400)) {
        return sendJson(res, 422, { error: 'the API server refused it', reason: err.code, problems: apiServerProblems(err) });
      }
      if (err instanceof KubeApiError && err.status === 409) {
        const problems = [{ field: 'metadata.name', message: `${read.cd.metadata.namespace}/${read.cd.metadata.name} exists already` }];
        return sendJson(res, 422, { error: 'the name is taken', reason: 'AlreadyExists', problems });
      }
      throw err;
    }
  }
  options.log.info({ cd: `${read.cd.metadata.namespace}/${read.cd.metadata.name}` }, 'console: created');
  return sendJson(res, 201, { namespace: read.cd.metadata.namespace, name: read.cd.metadata.name });
}

/** Import a code repository: its Secret, dry run first; the answer never repeats the credential. */
async function importRepository(options: ConsoleServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const read = readRepositoryImport(await readJson(req));
  if (!read.ok) return sendJson(res, 422, { error: 'the form has problems', reason: 'InvalidSpec', problems: read.problems });
  const { namespace = '', name } = read.secret.metadata;
  for (const dryRun of [true, false]) {
    try {
      await options.kube.createSecret(read.secret, dryRun);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 409) {
        const problems = [{ field: 'name', message: `a Secret ${namespace}/${name} exists already` }];
        return sendJson(res, 422, { error: 'the name is taken', reason: 'AlreadyExists', problems });
      }
      if (err instanceof KubeApiError && (err.status === 422 || err.status === 400)) {
        // Its causes concern what the form set in metadata; the data's values are never in them.
        return sendJson(res, 422, { error: 'the API server refused it', reason: err.code, problems: apiServerProblems(err) });
      }
      throw err;
    }
  }
  options.log.info({ repository: `${namespace}/${name}` }, 'console: repository imported');
  return sendJson(res, 201, { namespace, name });
}

/**
 * The Images page: repositories, policies and automations in the user's scope. A kind the user
 * may not list is reported as such; the others still show.
 */
async function imagesPage(options: ConsoleServerOptions) {
  const scope = options.feed.currentScope;
  const refused: string[] = [];
  const list = async (kind: { kind: string; plural: string }) => {
    try {
      return await options.kube.listTidemark(kind.plural, scope.all ? undefined : scope.namespace);
    } catch (err) {
      if (!(err instanceof KubeApiError && (err.status === 403 || err.status === 404))) throw err;
      refused.push(`${kind.kind}: ${err.message}`);
      return [];
    }
  };
  const [repositories, policies, automations] = await Promise.all([
    list(Kinds.ImageRepository),
    list(Kinds.ImagePolicy),
    list(Kinds.ImageUpdateAutomation),
  ]);
  return {
    repositories: repositories.map(imageRepositoryRow),
    policies: policies.map(imagePolicyRow),
    automations: automations.map(imageAutomationRow),
    refused,
  };
}

async function requestSync(options: ConsoleServerOptions, namespace: string, name: string): Promise<string> {
  const requestedAt = new Date(options.clock.now()).toISOString();
  // Every writer of requestedAt names itself, so no earlier requester's name stays beside a new request.
  await options.kube.patchCd(namespace, name, {
    metadata: { annotations: { [Annotations.requestedAt]: requestedAt, [Annotations.requestedBy]: 'console' } },
  });
  return requestedAt;
}

/**
 * The login form's POST: the Origin first (no other site may log a browser in under its own
 * token), then the API server's word on the token. The token is never logged nor sent back.
 */
async function tokenLogin(
  options: ConsoleServerOptions,
  inCluster: InClusterLogin,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (!publicOriginAllowed(header(req, 'origin'), req.headers.host, inCluster.address)) {
    throw new HttpError(403, 'CsrfRejected', 'refused: the request does not come from this console (Origin)');
  }
  const form = new URLSearchParams((await readBody(req)).toString('utf8'));
  const token = form.get('token')?.trim() ?? '';
  const namespace = form.get('namespace')?.trim() || undefined;
  if (namespace !== undefined && namespaceProblem(namespace)) {
    res.writeHead(303, { location: '/login?failed=namespace', 'cache-control': 'no-store' }).end();
    return;
  }
  // Both refusals come before the API server is asked: neither a full console nor a flood of
  // guesses makes the console send it work.
  const hash = tokenHash(token);
  if (!options.sessions.hasRoomFor(hash)) return sendRefusal(res, sessionsFull());
  const client = clientAddress(req.socket.remoteAddress, header(req, 'x-forwarded-for'), inCluster.trustForwardedFor);
  const attempt = inCluster.limiter.begin(client, options.clock.now());
  if (!attempt.allowed) {
    options.log.warn({ client, scope: attempt.scope }, 'console: logins refused, too many failed');
    return sendRefusal(res, tooManyLogins(attempt));
  }
  let cluster: SessionCluster | undefined;
  try {
    cluster = token === '' ? undefined : await inCluster.login(token, namespace);
  } catch (err) {
    // An API server that could not answer refused no guess: the slot is given back, or an outage
    // would lock out everyone who retried during it.
    inCluster.limiter.release(attempt.ticket);
    throw err;
  }
  if (!cluster) {
    options.log.info({ client }, 'console: a login was refused');
    res.writeHead(303, { location: '/login?failed=token', 'cache-control': 'no-store' }).end();
    return;
  }
  inCluster.limiter.release(attempt.ticket);
  const session = await options.sessions.openForToken(cluster, hash, options.clock.now());
  if (!session) {
    await cluster.close();
    return sendRefusal(res, sessionsFull());
  }
  options.log.info({ client }, 'console: logged in');
  res.setHeader('set-cookie', publicCookie(inCluster.address, session.id));
  res.writeHead(303, { location: '/', 'cache-control': 'no-store' }).end();
}

function checkCsrf(req: IncomingMessage, session: Session, port: number, address: PublicAddress | undefined): void {
  const origin = header(req, 'origin');
  if (!(address ? publicOriginAllowed(origin, req.headers.host, address) : originAllowed(origin, req.headers.host, port))) {
    throw new HttpError(403, 'CsrfRejected', 'refused: the request does not come from this console (Origin)');
  }
  if (!Sessions.csrfMatches(session, header(req, 'x-csrf-token'))) {
    throw new HttpError(403, 'CsrfRejected', 'refused: the request carries no valid CSRF token');
  }
}

function openStream(
  options: ConsoleServerOptions,
  streams: Set<ServerResponse>,
  session: Session,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
  });
  res.write(sseEvent('snapshot', options.feed.snapshot().data));
  const unsubscribe = options.feed.subscribe((message) => res.write(sseEvent(message.event, message.data)));
  const heartbeat = setInterval(() => res.write(sseComment('ping')), options.heartbeatMs ?? 25_000);
  streams.add(res);
  session.streams += 1;
  // A session that ends (logout elsewhere, its lifetime, a newer login) takes its streams along.
  const end = () => res.end();
  session.onEnd.add(end);
  let open = true;
  const done = () => {
    if (!open) return;
    open = false;
    session.onEnd.delete(end);
    session.streams -= 1;
    session.lastSeen = options.clock.now();
    clearInterval(heartbeat);
    unsubscribe();
    streams.delete(res);
  };
  req.on('close', done);
  res.on('close', done);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, 'BadRequest', 'request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = (await readBody(req)).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'BadRequest', 'request body is not JSON');
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function httpFailure(err: unknown): { status: number; reason: string; message: string } {
  if (err instanceof HttpError) return { status: err.status, reason: err.reason, message: err.message };
  if (err instanceof KubeApiError) {
    const status = err.status >= 400 && err.status < 500 ? err.status : 502;
    return { status, reason: err.code, message: err.message };
  }
  if (isTidemarkError(err)) return { status: 502, reason: err.code, message: err.message };
  return { status: 500, reason: 'InternalError', message: 'internal error' };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end(text);
}
