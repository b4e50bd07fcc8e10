import type { KubeObject } from '../../shared/kube/object.ts';
import type { Condition } from './fields.ts';
import { conditions, parseConditions, rec, result } from './fields.ts';
import type { HealthResult } from './types.ts';

/**
 * Argo CD's HPA rule (gitops-engine pkg/health/health_hpa.go): the conditions are read in the
 * order the controller wrote them, and the first that says something decides. A known failure
 * (matched by type and reason, whatever its status) → Degraded; `AbleToScale` or `ScalingLimited`
 * True → Healthy; nothing decisive, or no condition yet → Progressing "Waiting to Autoscale".
 * Since the controller writes AbleToScale first, a failing metric behind `AbleToScale=True` reads
 * Healthy, as in Argo CD: the HPA still holds its replica count and the metric source is often
 * only briefly away. Beyond Argo's list, every `FailedGet*Metric` reason counts as a failure, not
 * only the resource-metric one. autoscaling/v1 objects carry their conditions in an annotation.
 */
export function horizontalPodAutoscalerHealth(obj: KubeObject): HealthResult {
  for (const c of hpaConditions(obj)) {
    if (isFailing(c)) return result('Degraded', c.message);
    if ((c.type === 'AbleToScale' || c.type === 'ScalingLimited') && c.status === 'True') return result('Healthy', c.message);
  }
  return result('Progressing', 'Waiting to Autoscale');
}

function isFailing(c: Condition): boolean {
  if (c.type === 'AbleToScale') return c.reason === 'FailedGetScale' || c.reason === 'FailedUpdateScale';
  if (c.type === 'ScalingActive') return c.reason === 'InvalidSelector' || /^FailedGet\w*Metric$/.test(c.reason);
  return false;
}

function hpaConditions(obj: KubeObject): Condition[] {
  const fromStatus = conditions(rec(obj.status));
  if (fromStatus.length > 0) return fromStatus;
  const annotation = obj.metadata.annotations?.['autoscaling.alpha.kubernetes.io/conditions'];
  if (!annotation) return [];
  try {
    return parseConditions(JSON.parse(annotation));
  } catch {
    return [];
  }
}
