/**
 * The console's face: what the CLI (`tidemark dashboard`) and the tests use. Everything else in
 * console/ is internal and may change without notice.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FIELD_MANAGER } from '../shared/api/constants.ts';
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
import type { TokenSource } from './security.ts';

/**
 * The cluster: the user's own kubeconfig connection (every API call is made with its
 * credentials), or for tests a ConsoleKube and the namespace to fall back to.
 */
export type ConsoleCluster = { connection: KubeConnection } | { kube: ConsoleKube; namespace: string };

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
  /** The URL that logs the first browser in; it works once. */
  loginUrl: string;
  stop(): Promise<void>;
}

export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const clock = options.clock ?? systemClock;
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
  const server = createServer(handler);
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
