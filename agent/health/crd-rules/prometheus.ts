import type { KubeObject } from '../../../shared/kube/object.ts';
import { conditions, rec, result } from '../fields.ts';
import type { HealthResult } from '../types.ts';

/**
 * Prometheus Operator's Prometheus, after Argo CD's resource_customizations/monitoring.coreos.com/Prometheus/health.lua:
 * the Available condition decides — True → Healthy; not True because some pods are not ready
 * yet (reason SomePodsNotReady) → Progressing; otherwise Degraded. Without it, Progressing.
 * Alertmanager, ThanosRuler and PrometheusAgent carry the same condition and read alike;
 * ServiceMonitor, PodMonitor and PrometheusRule have no status to wait for.
 */
export function prometheusOperatorHealth(obj: KubeObject): HealthResult {
  const available = conditions(rec(obj.status)).findLast((c) => c.type === 'Available');
  if (!available) return result('Progressing', 'Waiting for initialization');
  if (available.status === 'True') return result('Healthy', 'All instances are available');
  return result(available.reason === 'SomePodsNotReady' ? 'Progressing' : 'Degraded', available.message || available.reason);
}
