import type { Server } from 'node:http';
import { createKubeClient } from '../shared/kube/client.ts';
import { EventRecorder } from '../shared/kube/events.ts';
import { loadKubeconfig } from '../shared/kube/kubeconfig/index.ts';
import { createLogger, type Logger } from '../shared/log/index.ts';
import { forgetWebhookReceiver } from '../shared/metrics/index.ts';
import { systemClock, type Clock } from '../shared/time/clock.ts';
import { startAlerting } from './alerts/dispatch.ts';
import { ReceiverController } from './receivers/controller.ts';
import { ReceiverEndpoint, serveReceivers, type ReceiverServerOptions } from './receivers/server.ts';

/** The receiver port's default, as Flux's notification-controller serves receivers on 9292. */
export const DEFAULT_RECEIVER_ADDRESS = ':9292';

export interface NotificationOptions {
  /** `--kubeconfig`; without it KUBECONFIG, the service account, then ~/.kube/config. */
  kubeconfigPath?: string | undefined;
  context?: string | undefined;
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Watch only this namespace's Receivers; all when omitted. */
  namespace?: string | undefined;
  workers?: number | undefined;
  /** host:port for /healthz, /readyz and /metrics; none when omitted. */
  healthAddress?: string | undefined;
  /** host:port the webhook receivers listen on; default `:9292`. */
  receiverAddress?: string | undefined;
  /** `--no-cross-namespace-refs`: a Receiver selects objects of its own namespace only. */
  noCrossNamespaceRefs?: boolean | undefined;
  /** Body limit, rate limit and replay window of the receiver port. */
  limits?: Pick<ReceiverServerOptions, 'maxBodyBytes' | 'rateLimit' | 'replayWindowMs'> | undefined;
  log?: Logger;
  clock?: Clock;
}

export interface RunningNotification {
  receiverServer: Server;
  healthServer: Server | undefined;
  /** The receiver port's `http://host:port`, as it is listening (a port of 0 is chosen here). */
  receiverUrl: string;
  ready(): boolean;
  stop(): Promise<void>;
}

/**
 * Wires the notification program to one cluster: the Receiver controller on the shared loop keeps
 * the table of webhook paths, and the receiver port answers calls to them; Providers and Alerts
 * send the Events of Tidemark's objects out. Nothing below reads flags or env.
 */
export async function startNotification(options: NotificationOptions): Promise<RunningNotification> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? createLogger({ name: 'notification' });
  const workers = options.workers !== undefined && Number.isInteger(options.workers) && options.workers > 0 ? options.workers : 2;
  const connection = loadKubeconfig({
    path: options.kubeconfigPath,
    context: options.context,
    env: options.env ?? process.env,
    prefer: 'in-cluster',
  });
  const kube = createKubeClient(connection, { fieldManager: 'tidemark-notification', clock });
  // The controller's forget callback runs only after start, when the endpoint exists.
  const forget = { endpoint: undefined as ReceiverEndpoint | undefined };
  const events = new EventRecorder(kube.rest, { component: 'tidemark-notification', clock, log });
  const receivers = new ReceiverController({
    port: kube.port,
    clock,
    log,
    workers,
    namespace: options.namespace,
    noCrossNamespaceRefs: options.noCrossNamespaceRefs === true,
    events,
    onForget: (key) => {
      forget.endpoint?.forget(key);
      forgetWebhookReceiver(key);
    },
  });
  const endpoint = new ReceiverEndpoint({
    routes: receivers,
    kube: kube.port,
    clock,
    log: log.child({ component: 'receiver' }),
    ...options.limits,
  });
  forget.endpoint = endpoint;
  receivers.runner.start();
  const alerting = startAlerting({
    port: kube.port,
    clock,
    log: log.child({ component: 'alerts' }),
    workers,
    namespace: options.namespace,
    noCrossNamespaceRefs: options.noCrossNamespaceRefs === true,
    events,
  });

  let receiverServer: Server;
  try {
    receiverServer = await serveReceivers(options.receiverAddress ?? DEFAULT_RECEIVER_ADDRESS, endpoint, log);
  } catch (err) {
    await receivers.runner.stop();
    await alerting.stop();
    await kube.close();
    throw err;
  }
  const ready = () => receivers.runner.ready && alerting.ready();
  let healthServer: Server | undefined;
  if (options.healthAddress) {
    const { serveHealth } = await import('../shared/http/health.ts');
    healthServer = await serveHealth(options.healthAddress, ready);
  }
  const bound = receiverServer.address();
  const receiverUrl = typeof bound === 'object' && bound ? `http://${hostForUrl(bound.address)}:${bound.port}` : '';
  log.info({ namespace: options.namespace ?? '*', receiver: receiverUrl, server: kube.rest.server }, 'notification started');

  return {
    receiverServer,
    healthServer,
    receiverUrl,
    ready,
    async stop() {
      await receivers.runner.stop();
      await alerting.stop();
      await closeServer(receiverServer);
      if (healthServer) await closeServer(healthServer);
      await kube.close();
    },
  };
}

function hostForUrl(address: string): string {
  if (address === '0.0.0.0' || address === '::') return '127.0.0.1';
  return address.includes(':') ? `[${address}]` : address;
}

function closeServer(server: Server): Promise<void> {
  server.closeIdleConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
}
