import type { Clock } from '../time/clock.ts';
import type { ServiceAccountIdentity } from './impersonation.ts';
import { RestMapper } from './discovery.ts';
import type { KubeConnection } from './kubeconfig/index.ts';
import { ResourceManager } from './resource-manager.ts';
import type { KubePort } from './port.ts';
import { KubeRest } from './rest.ts';
import { createRestPort } from './rest-port.ts';
import type { RateLimit } from './rate-limit.ts';
import { TokenBucket } from './rate-limit.ts';

/** Everything that talks to one cluster, built once and shared. */
export interface KubeClient {
  connection: KubeConnection;
  rest: KubeRest;
  mapper: RestMapper;
  /** The operations controllers and reconcile steps use; unit tests put the in-memory fake here. */
  port: KubePort;
  resources: ResourceManager;
  /**
   * The same cluster with every request made as `identity` (Impersonate-User): the API server's
   * RBAC decides what it may do. Discovery stays shared — which kinds exist is no secret — and
   * closing the view leaves the connection pool to this client.
   */
  as(identity: ServiceAccountIdentity): KubeClient;
  close(): Promise<void>;
}

export function createKubeClient(
  connection: KubeConnection,
  options: {
    fieldManager: string;
    clock: Clock;
    /** Client-side rate limit of every request to this cluster (client-go's QPS and burst); none: unlimited. */
    rateLimit?: RateLimit | undefined;
  },
): KubeClient {
  const limiter = options.rateLimit ? new TokenBucket(options.rateLimit, options.clock) : undefined;
  const rest = new KubeRest(connection, undefined, limiter);
  return clientOver(rest, new RestMapper(rest), options);
}

function clientOver(rest: KubeRest, mapper: RestMapper, options: { fieldManager: string; clock: Clock }): KubeClient {
  const port = createRestPort(rest, mapper, { fieldManager: options.fieldManager });
  const resources = new ResourceManager(port, { clock: options.clock });
  return {
    connection: rest.connectionInfo,
    rest,
    mapper,
    port,
    resources,
    as: (identity) => clientOver(rest.as(identity), mapper, options),
    close: () => rest.close(),
  };
}
