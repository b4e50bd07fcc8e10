import type { KubeObject } from '../../../shared/kube/object.ts';
import { conditions, rec, result } from '../fields.ts';
import type { HealthResult } from '../types.ts';

/**
 * Kyverno Policy and ClusterPolicy, after Argo CD's resource_customizations/kyverno.io/Policy/health.lua:
 * Healthy once Kyverno reports the policy Ready (reason Succeeded, message "Ready") — that is,
 * once its webhooks are in place and it is enforced; Progressing until then.
 */
export function kyvernoPolicyHealth(obj: KubeObject): HealthResult {
  const ready = conditions(rec(obj.status)).some(
    (c) => c.type === 'Ready' && c.status === 'True' && c.reason === 'Succeeded' && c.message === 'Ready',
  );
  return ready ? result('Healthy', 'Policy is ready') : result('Progressing', 'Waiting for Policy to be ready');
}
