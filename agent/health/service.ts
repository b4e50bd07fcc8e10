import type { KubeObject } from '../../shared/kube/object.ts';
import { list, rec, result, str } from './fields.ts';
import type { HealthOptions, HealthResult } from './types.ts';

/** A LoadBalancer Service waits for its ingress point, unless the cluster has no LB controller. */
export function serviceHealth(obj: KubeObject, options: HealthOptions = {}): HealthResult {
  if (str(rec(obj.spec)?.type) !== 'LoadBalancer') return result('Healthy');
  if (list(rec(rec(obj.status)?.loadBalancer)?.ingress).length > 0) return result('Healthy');
  if (options.loadBalancerRequiresIngress === false)
    return result('Healthy', 'no load balancer address yet (not required by configuration)');
  return result('Progressing', 'Waiting for the load balancer to get an address');
}

/**
 * An Ingress waits for its controller to publish an address (Argo CD). Clusters whose ingress
 * controller never writes one would otherwise stay Progressing forever: the option turns it off.
 */
export function ingressHealth(obj: KubeObject, options: HealthOptions = {}): HealthResult {
  if (list(rec(rec(obj.status)?.loadBalancer)?.ingress).length > 0) return result('Healthy');
  if (options.ingressRequiresAddress === false) return result('Healthy', 'no load balancer address yet (not required by configuration)');
  return result('Progressing', 'Waiting for the ingress controller to publish an address');
}
