import type { KubeObject } from '../../shared/kube/object.ts';
import { findCondition, rec, result } from './fields.ts';
import type { HealthResult } from './types.ts';

/**
 * Argo CD's rule (gitops-engine health_apiservice.go): Available=True → Healthy, anything else →
 * Progressing, with the condition's `reason: message`. Available=False is not Degraded: the
 * aggregator reports it through every install (MissingEndpoints, FailedDiscoveryCheck) until the
 * backing pods serve, and the reason still tells a backend that never comes up apart.
 */
export function apiServiceHealth(obj: KubeObject): HealthResult {
  const available = findCondition(rec(obj.status), 'Available');
  if (!available) return result('Progressing', 'Waiting to be processed');
  return result(available.status === 'True' ? 'Healthy' : 'Progressing', `${available.reason}: ${available.message}`);
}
