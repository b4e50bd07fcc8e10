import type { ContinuousDeployment } from '../shared/api/continuous-deployment.ts';
import { FIELD_MANAGER } from '../shared/api/constants.ts';
import { terminal } from '../shared/errors/index.ts';
import type { Clock } from '../shared/time/clock.ts';
import type { KubeClient } from '../shared/kube/client.ts';
import { createKubeClient } from '../shared/kube/client.ts';
import { connectionFromSecret } from '../shared/kube/kubeconfig/index.ts';
import { readSecretData } from '../shared/kube/secrets.ts';
import type { Logger } from '../shared/log/index.ts';
import type { ServiceAccountIdentity } from '../shared/kube/impersonation.ts';
import type { KubePort } from '../shared/kube/port.ts';
import type { RateLimit } from '../shared/kube/rate-limit.ts';
import { ObjectCache } from '../shared/kube/object-cache.ts';
import type { CacheEvent } from '../shared/kube/object-cache.ts';
import type { KubeObject } from '../shared/kube/object.ts';
import { Labels } from '../shared/api/constants.ts';
import type { DeploymentConfig } from '../shared/spec/index.ts';
import type { LiveObjects } from './reconcile/context.ts';
import { carriesOwnership } from './plan.ts';
import type { Owner } from './plan.ts';

/** A watched object changed in a target cluster; `serves` says which deployments that cluster speaks for. */
export type ObjectChangeListener = (obj: KubeObject, serves: (owner: Owner) => boolean, event: CacheEvent) => void;

export interface Target {
  kube: KubePort;
  /** Watch-fed copies of the objects we manage there; its events drive self-heal. */
  cache?: LiveObjects | undefined;
  /** The ServiceAccount `kube` acts as (home cluster only); undefined: the agent's own identity. */
  identity?: ServiceAccountIdentity | undefined;
  /** The deployment location's cluster, as status.location.cluster shows it. */
  name: string;
}

export interface TargetResolver {
  /** The agent's own cluster, as the agent. */
  readonly home: Target;
  /**
   * Where the deployment's objects go, and as whom: with an `identity`, every request on the home
   * cluster (the kubeconfig Secret's read included) impersonates that ServiceAccount.
   */
  resolve(cd: ContinuousDeployment, config: Pick<DeploymentConfig, 'kubeConfig'>, identity?: ServiceAccountIdentity): Promise<Target>;
  forget(cd: ContinuousDeployment): void;
  close(): Promise<void>;
}

/**
 * The cluster a ContinuousDeployment deploys to: the agent's own, or another one named by a
 * kubeconfig in a Secret. Remote clients are cached per Secret content so the discovery cache and
 * connection pool survive between reconciles.
 */
export function createTargetResolver(
  home: KubeClient,
  options: {
    clock: Clock;
    log: Logger;
    homeName?: string | undefined;
    onObjectChange: ObjectChangeListener;
    /** Client-side request limit of each remote cluster's client. */
    rateLimit?: RateLimit | undefined;
  },
): TargetResolver {
  const remote = new Map<string, { text: string; client: KubeClient; cache: ObjectCache; target: Target }>();
  /**
   * The home cache speaks for deployments to the home cluster, a remote cache only for the one
   * deployment whose kubeconfig opened it: objects in one cluster never wake a deployment of another.
   */
  const cacheFor = (client: KubeClient, only: string | undefined) => {
    const cache = new ObjectCache(client.port, {
      labelSelector: Labels.name,
      clock: options.clock,
      log: options.log,
      // Whole copies only of objects stamped as ours; a forged label costs the agent an identity.
      keepWhole: carriesOwnership,
    });
    const serves = (owner: Owner) => {
      const key = `${owner.namespace}/${owner.name}`;
      return only === undefined ? !remote.has(key) : key === only;
    };
    cache.onChange((obj, event) => options.onObjectChange(obj, serves, event));
    return cache;
  };
  const homeCache = cacheFor(home, undefined);
  const homeTarget: Target = { kube: home.port, cache: homeCache, name: options.homeName ?? 'in-cluster' };
  const drop = (key: string) => {
    const cached = remote.get(key);
    remote.delete(key);
    cached?.cache.stop();
    void cached?.client.close();
  };
  return {
    home: homeTarget,
    async resolve(cd, config, identity) {
      const acting = identity ? home.as(identity) : home;
      if (!config.kubeConfig) {
        // Moved back home: the old remote watch no longer speaks for it, and the home one does.
        drop(`${cd.metadata.namespace ?? 'default'}/${cd.metadata.name}`);
        if (!identity) return homeTarget;
        // The shared cache holds whatever the agent may read: a tenant reads through its own
        // identity instead, and the cache only wakes it when its objects change (ADR 0008).
        return { kube: acting.port, cache: watchOnly(homeCache), name: homeTarget.name, identity };
      }
      const namespace = cd.metadata.namespace ?? 'default';
      const data = await readSecretData(acting.rest, namespace, config.kubeConfig.name, { field: 'spec.kubeConfig.secretRef' });
      const text = data[config.kubeConfig.key];
      if (!text)
        throw terminal(
          'InvalidSecret',
          `Secret ${namespace}/${config.kubeConfig.name} has no key ${config.kubeConfig.key}`,
          'put the kubeconfig under that key',
        );
      const cacheKey = `${namespace}/${cd.metadata.name}`;
      const cached = remote.get(cacheKey);
      if (cached && cached.text === text) return cached.target;
      if (cached) {
        cached.cache.stop();
        await cached.client.close();
      }
      // A tenant's kubeconfig: static credentials only, it never runs a command or reads a file
      // here (InvalidKubeconfig says what to use instead).
      const connection = connectionFromSecret(
        text,
        `the kubeconfig in Secret ${namespace}/${config.kubeConfig.name} (key ${config.kubeConfig.key})`,
      );
      const client = createKubeClient(connection, { fieldManager: FIELD_MANAGER, clock: options.clock, rateLimit: options.rateLimit });
      const cache = cacheFor(client, cacheKey);
      const target = { kube: client.port, cache, name: connection.clusterName };
      remote.set(cacheKey, { text, client, cache, target });
      return target;
    },
    forget(cd) {
      drop(`${cd.metadata.namespace ?? 'default'}/${cd.metadata.name}`);
    },
    async close() {
      homeCache.stop();
      for (const r of remote.values()) r.cache.stop();
      await Promise.all([...remote.values()].map((r) => r.client.close()));
      remote.clear();
    },
  };
}

/** The cache's watches (self-heal wake-ups) without its copies: every read is a GET as the caller. */
function watchOnly(cache: ObjectCache): LiveObjects {
  return { get: () => undefined, watch: (mapping) => cache.watch(mapping) };
}
