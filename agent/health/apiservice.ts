import type { KubeObject } from '../../shared/kube/object.ts';
import { describeCondition, findCondition, rec, result } from './fields.ts';
import type { HealthResult } from './types.ts';

/**
 * An aggregated API is usable once the aggregator reports it Available. Unlike Argo CD (which
 * keeps Available=False Progressing), False is Degraded: the aggregator only says False when it
 * has tried the backend and failed (FailedDiscoveryCheck, MissingEndpoints, ServiceNotFound), and
 * while it does, every discovery call of every client in the cluster stumbles on it.
 */
export function apiServiceHealth(obj: KubeObject): HealthResult {
  const available = findCondition(rec(obj.status), 'Available');
  if (!available) return result('Progressing', 'Waiting to be processed');
  if (available.status === 'True') return result('Healthy', describeCondition(available));
  if (available.status === 'False') return result('Degraded', describeCondition(available) || 'APIService is not available');
  return result('Progressing', describeCondition(available) || 'Waiting for the APIService to become available');
}
