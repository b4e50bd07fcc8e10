import { KubeConfig } from '@kubernetes/client-node';
import type { Clock } from '../time/clock.ts';
import { RestMapper } from './discovery.ts';
import { ResourceManager } from './resource-manager.ts';
import type { KubePort } from './port.ts';
import { KubeRest } from './rest.ts';
import { createRestPort } from './rest-port.ts';

export interface KubeConfigSource {
  /** Path to a kubeconfig file; omitted: in-cluster service account, else ~/.kube/config. */
  kubeconfigPath?: string | undefined;
  /** Inline kubeconfig text, e.g. from a Secret for a remote cluster. */
  kubeconfigText?: string | undefined;
  context?: string | undefined;
}

export function loadKubeConfig(source: KubeConfigSource): KubeConfig {
  const kc = new KubeConfig();
  if (source.kubeconfigText !== undefined) kc.loadFromString(source.kubeconfigText);
  else if (source.kubeconfigPath) kc.loadFromFile(source.kubeconfigPath);
  else kc.loadFromDefault();
  if (source.context) kc.setCurrentContext(source.context);
  return kc;
}

/** Everything that talks to one cluster, built once and shared. */
export interface KubeClient {
  kubeConfig: KubeConfig;
  rest: KubeRest;
  mapper: RestMapper;
  /** The operations controllers and reconcile steps use; unit tests put the in-memory fake here. */
  port: KubePort;
  resources: ResourceManager;
  close(): Promise<void>;
}

export function createKubeClient(kubeConfig: KubeConfig, options: { fieldManager: string; clock: Clock }): KubeClient {
  const rest = new KubeRest(kubeConfig);
  const mapper = new RestMapper(rest);
  const port = createRestPort(rest, mapper, { fieldManager: options.fieldManager });
  const resources = new ResourceManager(port, { clock: options.clock });
  return { kubeConfig, rest, mapper, port, resources, close: () => rest.close() };
}
