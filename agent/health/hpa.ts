import type { KubeObject } from '../../shared/kube/object.ts';
import type { Condition } from './fields.ts';
import { conditions, parseConditions, rec, result } from './fields.ts';
import type { HealthResult } from './types.ts';

/** Condition reasons with which the HPA controller reports that it cannot do its job. */
const FAILING: Record<string, readonly string[]> = {
  AbleToScale: ['FailedGetScale', 'FailedUpdateScale'],
  ScalingActive: ['FailedGetResourceMetric', 'FailedGetContainerResourceMetric', 'FailedGetPodsMetric', 'FailedGetObjectMetric', 'FailedGetExternalMetric', 'InvalidSelector', 'InvalidMetricSourceType'],
};

/**
 * Argo CD's HPA rules, with its 2024 fix: every condition is looked at, so a failing metric is
 * not hidden behind an earlier `AbleToScale=True`. Healthy needs `AbleToScale=True`;
 * `ScalingActive=False` with ScalingDisabled (scaled to zero on purpose) is not a failure.
 * autoscaling/v1 objects carry their conditions in an annotation.
 */
export function horizontalPodAutoscalerHealth(obj: KubeObject): HealthResult {
  const all = hpaConditions(obj);
  const failing = all.find((c) => FAILING[c.type]?.includes(c.reason));
  if (failing) return result('Degraded', failing.message || failing.reason);
  const able = all.find((c) => c.type === 'AbleToScale');
  if (able?.status === 'True') return result('Healthy', able.message);
  return result('Progressing', 'Waiting to Autoscale');
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
