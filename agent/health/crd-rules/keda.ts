import type { KubeObject } from '../../../shared/kube/object.ts';
import { conditions, rec, result } from '../fields.ts';
import type { HealthResult } from '../types.ts';

/**
 * KEDA ScaledObject and ScaledJob, after Argo CD's resource_customizations/keda.sh/{ScaledObject,ScaledJob}/health.lua:
 * Ready=False, or a ScaledObject running on its fallback replica count (Fallback=True), or a
 * ScaledJob whose Ready is Unknown → Degraded; Ready=True → Healthy, or Suspended when
 * `Paused=True`; otherwise Progressing. The message is the last relevant condition's, as in Argo.
 */
export function kedaHealth(obj: KubeObject): HealthResult {
  const job = obj.kind === 'ScaledJob';
  let message: string | undefined;
  let healthy = false;
  let degraded = false;
  let paused = false;
  for (const c of conditions(rec(obj.status))) {
    const ready = c.type === 'Ready';
    if (
      (ready && c.status === 'False') ||
      (ready && job && c.status === 'Unknown') ||
      (!job && c.type === 'Fallback' && c.status === 'True')
    ) {
      degraded = true;
    } else if (ready && c.status === 'True') {
      healthy = true;
    } else if (c.type === 'Paused' && c.status === 'True') {
      paused = true;
    } else {
      continue;
    }
    message = c.message;
  }
  if (degraded) return result('Degraded', message);
  if (healthy) return result(paused ? 'Suspended' : 'Healthy', message);
  return result('Progressing', job ? 'Waiting for ScaledJob' : 'Creating HorizontalPodAutoscaler Object');
}
