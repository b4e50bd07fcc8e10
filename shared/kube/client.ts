import type { Clock } from '../time/clock.ts';
import { RestMapper } from './discovery.ts';
import type { KubeConnection } from './kubeconfig/index.ts';
import { ResourceManager } from './resource-manager.ts';
import type { KubePort } from './port.ts';
import { KubeRest } from './rest.ts';
import { createRestPort } from './rest-port.ts';

/** Everything that talks to one cluster, built once and shared. */
export interface KubeClient {
  connection: KubeConnection;
  rest: KubeRest;
  mapper: RestMapper;
  /** The operations controllers and reconcile steps use; unit tests put the in-memory fake here. */
  port: KubePort;
  resources: ResourceManager;
  close(): Promise<void>;
}

export function createKubeClient(connection: KubeConnection, options: { fieldManager: string; clock: Clock }): KubeClient {
  const rest = new KubeRest(connection);
  const mapper = new RestMapper(rest);
  const port = createRestPort(rest, mapper, { fieldManager: options.fieldManager });
  const resources = new ResourceManager(port, { clock: options.clock });
  return { connection, rest, mapper, port, resources, close: () => rest.close() };
}
