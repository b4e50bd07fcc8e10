import type { KubeObject } from '../../shared/kube/object.ts';
import { rec, result, str } from './fields.ts';
import type { HealthResult } from './types.ts';

/**
 * Bound → Healthy, Pending → Progressing (also with WaitForFirstConsumer, until a pod uses it),
 * Lost → Degraded.
 */
export function persistentVolumeClaimHealth(obj: KubeObject): HealthResult {
  const phase = str(rec(obj.status)?.phase);
  switch (phase) {
    case 'Bound':
      return result('Healthy');
    case 'Pending':
    case undefined:
      return result('Progressing', 'Waiting for the claim to be bound');
    case 'Lost':
      return result('Degraded', 'The claim lost its underlying volume');
    default:
      return result('Unknown', `unrecognised phase ${JSON.stringify(phase)}`);
  }
}
