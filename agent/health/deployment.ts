import type { KubeObject } from '../../shared/kube/object.ts';
import { findCondition, int, rec, result } from './fields.ts';
import type { HealthResult } from './types.ts';

/** kubectl's `rollout status` logic, as Argo CD reads it. */
export function deploymentHealth(obj: KubeObject): HealthResult {
  const spec = rec(obj.spec);
  const status = rec(obj.status);
  if (spec?.paused === true) return result('Suspended', 'Deployment is paused');
  if ((obj.metadata.generation ?? 0) > (int(status?.observedGeneration) ?? 0)) {
    return result('Progressing', 'Waiting for rollout to finish: observed deployment generation less than desired generation');
  }
  if (findCondition(status, 'Progressing')?.reason === 'ProgressDeadlineExceeded') {
    return result('Degraded', `Deployment "${obj.metadata.name}" exceeded its progress deadline`);
  }
  const desired = int(spec?.replicas);
  const replicas = int(status?.replicas) ?? 0;
  const updated = int(status?.updatedReplicas) ?? 0;
  const available = int(status?.availableReplicas) ?? 0;
  if (desired !== undefined && updated < desired) {
    return result('Progressing', `Waiting for rollout to finish: ${updated} out of ${desired} new replicas have been updated...`);
  }
  if (replicas > updated) {
    return result('Progressing', `Waiting for rollout to finish: ${replicas - updated} old replicas are pending termination...`);
  }
  if (available < updated) {
    return result('Progressing', `Waiting for rollout to finish: ${available} of ${updated} updated replicas are available...`);
  }
  return result('Healthy');
}
