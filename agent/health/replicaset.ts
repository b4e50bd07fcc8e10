import type { KubeObject } from '../../shared/kube/object.ts';
import { findCondition, int, rec, result } from './fields.ts';
import type { HealthResult } from './types.ts';

/** A ReplicaSet that cannot create pods (quota, admission) says so in its ReplicaFailure condition. */
export function replicaSetHealth(obj: KubeObject): HealthResult {
  const spec = rec(obj.spec);
  const status = rec(obj.status);
  if ((obj.metadata.generation ?? 0) > (int(status?.observedGeneration) ?? 0)) {
    return result('Progressing', 'Waiting for rollout to finish: observed replica set generation less than desired generation');
  }
  const failure = findCondition(status, 'ReplicaFailure');
  if (failure?.status === 'True') return result('Degraded', failure.message || failure.reason);
  const desired = int(spec?.replicas);
  const available = int(status?.availableReplicas) ?? 0;
  if (desired !== undefined && available < desired) {
    return result('Progressing', `Waiting for rollout to finish: ${available} out of ${desired} new replicas are available...`);
  }
  return result('Healthy');
}
