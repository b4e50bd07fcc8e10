import type { KubeObject } from '../../shared/kube/object.ts';
import type { Condition } from './fields.ts';
import { conditions, parseConditions, rec, result } from './fields.ts';
import type { HealthResult } from './types.ts';

/**
 * Argo CD's HPA rules (hpa.go), except that every condition is checked for a failure before any
 * counts as healthy, so a failing metric is not hidden behind an earlier `AbleToScale=True`:
 * - `ScalingActive=False` because a metric, the selector or the metric source is broken
 *   (FailedGet*Metric, InvalidSelector, AmbiguousSelector, InvalidMetricSourceType) → Degraded;
 *   ScalingDisabled (the target is scaled to zero on purpose) is not a failure.
 * - `AbleToScale=False` because the scale subresource cannot be read or written
 *   (FailedGetScale, FailedUpdateScale) → Degraded; the Backoff* reasons older controllers set
 *   right after a rescale are routine.
 * - No condition yet: the controller has not run for it → Progressing "Waiting to Autoscale".
 * - Otherwise Healthy; ScalingLimited only explains why the count sits at a bound.
 * autoscaling/v1 objects carry their conditions in an annotation.
 */
export function horizontalPodAutoscalerHealth(obj: KubeObject): HealthResult {
  const all = hpaConditions(obj);
  const failing = all.find(isFailing);
  if (failing) return result('Degraded', failing.message || failing.reason);
  if (all.length === 0) return result('Progressing', 'Waiting to Autoscale');
  const explanation = all.find((c) => c.type === 'ScalingLimited') ?? all.find((c) => c.type === 'AbleToScale');
  return result('Healthy', explanation?.message);
}

function isFailing(c: Condition): boolean {
  if (c.status !== 'False') return false;
  if (c.type === 'ScalingActive') return /^(Failed|Invalid|Ambiguous)/.test(c.reason);
  if (c.type === 'AbleToScale') return c.reason.startsWith('Failed');
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
