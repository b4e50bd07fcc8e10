import type { KubeObject } from '../../shared/kube/object.ts';
import { describeCondition, findCondition, rec, result } from './fields.ts';
import type { HealthResult } from './types.ts';

/** An aggregated API is usable once the aggregator reports it Available (Argo CD). */
export function apiServiceHealth(obj: KubeObject): HealthResult {
  const available = findCondition(rec(obj.status), 'Available');
  if (!available) return result('Progressing', 'Waiting to be processed');
  return result(available.status === 'True' ? 'Healthy' : 'Progressing', describeCondition(available));
}
