import type { ContinuousDeployment } from '../shared/api/continuous-deployment.ts';
import { FIELD_MANAGER } from '../shared/api/constants.ts';
import { terminal } from '../shared/errors/index.ts';
import type { Clock } from '../shared/time/clock.ts';
import type { KubeClient } from '../shared/kube/client.ts';
import { createKubeClient, loadKubeConfig } from '../shared/kube/client.ts';
import { readSecretData } from './credentials.ts';
import type { DeploymentConfig } from './spec.ts';

export interface Target {
  client: KubeClient;
  /** The deployment location's cluster, as status.location.cluster shows it. */
  name: string;
}

export interface TargetResolver {
  resolve(cd: ContinuousDeployment, config: DeploymentConfig): Promise<Target>;
  forget(cd: ContinuousDeployment): void;
  close(): Promise<void>;
}

/**
 * The cluster a ContinuousDeployment deploys to: the agent's own, or another one named by a
 * kubeconfig in a Secret. Remote clients are cached per Secret content so the discovery cache and
 * connection pool survive between reconciles.
 */
export function createTargetResolver(home: KubeClient, options: { clock: Clock; homeName?: string }): TargetResolver {
  const remote = new Map<string, { text: string; target: Target }>();
  return {
    async resolve(cd, config) {
      if (!config.kubeConfig) return { client: home, name: options.homeName ?? 'in-cluster' };
      const namespace = cd.metadata.namespace ?? 'default';
      const data = await readSecretData(home.rest, namespace, config.kubeConfig.name);
      const text = data[config.kubeConfig.key];
      if (!text) throw terminal('InvalidSecret', `Secret ${namespace}/${config.kubeConfig.name} has no key ${config.kubeConfig.key}`, 'put the kubeconfig under that key');
      const cacheKey = `${namespace}/${cd.metadata.name}`;
      const cached = remote.get(cacheKey);
      if (cached && cached.text === text) return cached.target;
      if (cached) await cached.target.client.close();
      let kubeConfig;
      try {
        kubeConfig = loadKubeConfig({ kubeconfigText: text });
      } catch (err) {
        throw terminal('InvalidKubeconfig', `Secret ${namespace}/${config.kubeConfig.name} does not hold a valid kubeconfig`, undefined, err);
      }
      const target = { client: createKubeClient(kubeConfig, { fieldManager: FIELD_MANAGER, clock: options.clock }), name: kubeConfig.getCurrentCluster()?.name ?? 'remote' };
      remote.set(cacheKey, { text, target });
      return target;
    },
    forget(cd) {
      const key = `${cd.metadata.namespace ?? 'default'}/${cd.metadata.name}`;
      const cached = remote.get(key);
      remote.delete(key);
      void cached?.target.client.close();
    },
    async close() {
      await Promise.all([...remote.values()].map((r) => r.target.client.close()));
      remote.clear();
    },
  };
}
