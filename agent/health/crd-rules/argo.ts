import type { KubeObject } from '../../../shared/kube/object.ts';
import { HEALTH_ORDER } from '../aggregate.ts';
import { rec, result, str } from '../fields.ts';
import type { HealthResult, HealthStatus } from '../types.ts';

function isHealthStatus(value: string | undefined): value is HealthStatus {
  return HEALTH_ORDER.some((s) => s === value);
}

/**
 * Argo Workflows, after gitops-engine pkg/health/health_argo.go: Pending/Running (or no phase
 * yet) → Progressing, Succeeded → Healthy, Failed/Error → Degraded, with the workflow's message.
 */
export function workflowHealth(obj: KubeObject): HealthResult {
  const status = rec(obj.status);
  const message = str(status?.message);
  switch (str(status?.phase) ?? '') {
    case '':
    case 'Pending':
    case 'Running':
      return result('Progressing', message);
    case 'Succeeded':
      return result('Healthy', message);
    case 'Failed':
    case 'Error':
      return result('Degraded', message);
    default:
      return result('Unknown', message);
  }
}

/**
 * An Argo CD Application deployed by us reports the health Argo CD computed for it: the opt-in
 * check in Argo CD's docs (docs/operator-manual/health.md, `argoproj.io_Application`). Argo CD
 * itself ships no rule since 1.8 so that an app-of-apps does not wait on its children; here the
 * unit deploying an Application does want to know whether it came up. Until Argo CD has assessed
 * it, Progressing.
 */
export function applicationHealth(obj: KubeObject): HealthResult {
  const health = rec(rec(obj.status)?.health);
  const status = str(health?.status);
  return result(isHealthStatus(status) ? status : 'Progressing', str(health?.message));
}
