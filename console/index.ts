/**
 * The console's face: what the CLI (`tidemark dashboard`) and the tests use. Everything else in
 * console/ is internal and may change without notice.
 */
import type { AddressInfo } from 'node:net';
import { FIELD_MANAGER } from '../shared/api/constants.ts';
import { nodeHttp } from '../shared/http/node-http.ts';
import { createKubeClient } from '../shared/kube/client.ts';
import type { KubeClient } from '../shared/kube/client.ts';
import type { KubeConnection } from '../shared/kube/kubeconfig/index.ts';
import type { Logger } from '../shared/log/index.ts';
import type { Clock } from '../shared/time/clock.ts';
import { systemClock } from '../shared/time/clock.ts';
import type { CdPlanner } from './compare.ts';
import { CdFeed } from './feed.ts';
import { consoleKube } from './kube.ts';
import type { ConsoleKube } from './kube.ts';
import { consoleHandler } from './server.ts';
import { Sessions } from './sessions.ts';
import { DEFAULT_SESSION_LIMITS } from './sessions.ts';
import type { SessionCluster, SessionLimits } from './sessions.ts';
import { DEFAULT_LOGIN_LIMITS, LoginLimiter } from './login-limit.ts';
import type { LoginLimits } from './login-limit.ts';
import { KubeApiError } from '../shared/kube/errors.ts';
import { bearerAuth } from '../shared/kube/kubeconfig/auth.ts';
import type { TokenSource } from './security.ts';

/**
 * The cluster: the user's own kubeconfig connection (every API call is made with its
 * credentials), or for tests a ConsoleKube and the namespace to fall back to.
 */
export type ConsoleCluster = { connection: KubeConnection } | { kube: ConsoleKube; namespace: string } | { inCluster: InClusterConsole };

/**
 * In-cluster mode: the console listens on every interface behind a Service or Ingress, has no
 * Kubernetes rights of its own, and each user logs in with a bearer token that all of that
 * session's requests carry.
 */
export interface InClusterConsole {
  /** The API server (`https://KUBERNETES_SERVICE_HOST:PORT`) and its CA, PEM. */
  server: string;
  ca: string | undefined;
  /** The Host header values the console answers to: the Ingress host, the Service's name. */
  hosts: readonly string[];
  /** The browser reaches the console over TLS (the Ingress terminates it): Secure cookies, https origin. */
  secure: boolean;
  /** A session idle this long ends, its token forgotten; default 30 minutes. */
  idleMs?: number | undefined;
  /** A session ends this long after login however busy; default 12 hours. */
  lifetimeMs?: number | undefined;
  /** At most this many sessions at once (default 200) and per token (default 5, the oldest ends). */
  maxSessions?: number | undefined;
  maxSessionsPerToken?: number | undefined;
  /** Failed logins allowed per client address and in total (sliding windows). */
  loginLimits?: LoginLimits | undefined;
  /** Count logins against the last X-Forwarded-For entry: only behind a proxy that sets it. */
  trustForwardedFor?: boolean | undefined;
  /** Default 0.0.0.0. */
  listenHost?: string | undefined;
  /**
   * The details page's comparison with Git for a session, planned with that user's client (the
   * CLI injects the agent's planner; console/ imports only shared/). Without it the page says
   * it cannot compare.
   */
  planner?: ((client: KubeClient) => SessionPlanner) | undefined;
  /** Tests: a user's ConsoleKube for a token instead of a client to `server`. */
  connect?: ((token: string) => { kube: ConsoleKube; planner?: CdPlanner | undefined; close(): Promise<void> }) | undefined;
}

/** A session's planner and what it holds (a Git cache of its own), released at the session's end. */
export interface SessionPlanner {
  plan: CdPlanner;
  close(): Promise<void>;
}

export type ConsoleOptions = ConsoleCluster & {
  /** 0 (default): a free port. The console listens on 127.0.0.1 only. */
  port?: number | undefined;
  log: Logger;
  clock?: Clock | undefined;
  /** Tests name the tokens; default 32 random bytes each. */
  tokens?: TokenSource | undefined;
  /** Compares a deployment with Git for its details page; without one the page says it cannot. */
  planner?: CdPlanner | undefined;
};

export interface RunningConsole {
  /** The console's address, `http://127.0.0.1:PORT`. */
  origin: string;
  port: number;
  /** The URL that logs the first browser in; it works once. In-cluster: the login page. */
  loginUrl: string;
  stop(): Promise<void>;
}

export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const clock = options.clock ?? systemClock;
  if ('inCluster' in options) return startInCluster(options, options.inCluster, clock);
  let client: KubeClient | undefined;
  let kube: ConsoleKube;
  let fallbackNamespace: string;
  if ('kube' in options) {
    kube = options.kube;
    fallbackNamespace = options.namespace;
  } else {
    client = createKubeClient(options.connection, { fieldManager: FIELD_MANAGER, clock });
    kube = consoleKube(client);
    fallbackNamespace = options.connection.namespace ?? 'default';
  }
  const feed = new CdFeed(kube, { clock, log: options.log, fallbackNamespace });
  const sessions = new Sessions(options.tokens);
  let port = 0;
  const { handler, closeStreams } = consoleHandler({
    kube,
    feed,
    sessions,
    clock,
    log: options.log,
    port: () => port,
    planner: options.planner,
  });
  const server = nodeHttp.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  try {
    await feed.start();
  } catch (err) {
    server.close();
    await client?.close();
    throw err;
  }
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    port,
    loginUrl: `${origin}/login?token=${encodeURIComponent(sessions.pendingLoginToken ?? '')}`,
    async stop() {
      await feed.stop();
      closeStreams();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await client?.close();
    },
  };
}

export type { ConsoleKube } from './kube.ts';
export type { CdRow, CdDetails } from './view.ts';
export { isBotCommit } from './compare.ts';
export type { CdComparison, CdPlanner, CommitView, ObjectChange } from './compare.ts';

export { DEFAULT_SESSION_LIMITS } from './sessions.ts';
export { DEFAULT_LOGIN_LIMITS, parseLoginWindow } from './login-limit.ts';
export type { LoginLimits } from './login-limit.ts';

async function startInCluster(options: ConsoleOptions, config: InClusterConsole, clock: Clock): Promise<RunningConsole> {
  const limits: SessionLimits = {
    idleMs: config.idleMs ?? DEFAULT_SESSION_LIMITS.idleMs,
    lifetimeMs: config.lifetimeMs ?? DEFAULT_SESSION_LIMITS.lifetimeMs,
    maxSessions: config.maxSessions ?? DEFAULT_SESSION_LIMITS.maxSessions,
    maxPerToken: config.maxSessionsPerToken ?? DEFAULT_SESSION_LIMITS.maxPerToken,
  };
  const sessions = new Sessions(options.tokens, { oneTimeLogin: false, limits });
  const connect =
    config.connect ??
    ((token: string) => {
      const connection: KubeConnection = {
        server: config.server,
        clusterName: 'in-cluster',
        contextName: undefined,
        namespace: undefined,
        tls: { ca: config.ca, cert: undefined, key: undefined, serverName: undefined, rejectUnauthorized: true },
        headers: {},
        auth: bearerAuth(token),
      };
      const client = createKubeClient(connection, { fieldManager: FIELD_MANAGER, clock });
      const planner = config.planner?.(client);
      return {
        kube: consoleKube(client, { bearerToken: token }),
        planner: planner?.plan,
        async close() {
          await planner?.close();
          await client.close();
        },
      };
    });
  const login = async (token: string, namespace: string | undefined): Promise<SessionCluster | undefined> => {
    const connected = connect(token);
    const { kube } = connected;
    const close = () => connected.close();
    const feed = new CdFeed(kube, { clock, log: options.log, fallbackNamespace: namespace ?? 'default' });
    try {
      // Its access review is the check of the token: any authenticated user may ask it (1.20 too),
      // and the API server answers 401 to a token it does not accept.
      await feed.start();
    } catch (err) {
      await feed.stop().catch(() => undefined);
      await close();
      if (err instanceof KubeApiError && err.status === 401) return undefined;
      throw err;
    }
    return {
      kube,
      feed,
      planner: connected.planner,
      async close() {
        await feed.stop();
        await close();
      },
    };
  };
  let port = 0;
  // The shared feed is never started: every session brings its own.
  const unusedFeed = new CdFeed(unusedKube, { clock, log: options.log, fallbackNamespace: 'default' });
  const { handler, closeStreams } = consoleHandler({
    kube: unusedKube,
    feed: unusedFeed,
    sessions,
    clock,
    log: options.log,
    port: () => port,
    planner: undefined,
    inCluster: {
      address: { hosts: config.hosts, secure: config.secure },
      limiter: new LoginLimiter(config.loginLimits ?? DEFAULT_LOGIN_LIMITS),
      trustForwardedFor: config.trustForwardedFor === true,
      login,
    },
  });
  const server = nodeHttp.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, config.listenHost ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  // Sessions left without a logout would keep a watch and the token; they end when idle.
  const sweepMs = Math.min(limits.idleMs, limits.lifetimeMs, 60_000);
  const sweep = setInterval(() => void sessions.expire(clock.now()).catch(() => undefined), sweepMs);
  sweep.unref();
  const origin = `http://${config.listenHost === undefined || config.listenHost === '0.0.0.0' ? '127.0.0.1' : config.listenHost}:${port}`;
  return {
    origin,
    port,
    loginUrl: `${origin}/login`,
    async stop() {
      clearInterval(sweep);
      closeStreams();
      await sessions.endAll();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Stands where a local console's shared client would be; in-cluster every call goes through a session's. */
const refuse = (): Promise<never> => Promise.reject(new Error('in-cluster console: no session cluster'));
const unusedKube: ConsoleKube = {
  port: { list: refuse, watch: refuse, canI: refuse },
  getCd: refuse,
  patchCd: refuse,
  deleteCd: refuse,
  createCd: refuse,
  replaceCd: refuse,
  listRepositories: refuse,
  listTidemark: refuse,
  createSecret: refuse,
  events: refuse,
};
