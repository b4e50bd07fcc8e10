import type { KubeObject } from '../../../shared/kube/object.ts';
import { conditions, rec, result } from '../fields.ts';
import type { HealthResult } from '../types.ts';
import { staleGeneration } from './generation.ts';

/**
 * The shape most of Argo CD's scripts share: the first condition of `type` that is True or False
 * decides (True → Healthy, False → Degraded, with its message); without one, Progressing with
 * `waiting`. A spec the controller has not observed yet is Progressing first (generation.ts).
 */
export function conditionDecides(obj: KubeObject, type: string, waiting: string): HealthResult {
  const stale = staleGeneration(obj);
  if (stale) return stale;
  const decisive = conditions(rec(obj.status)).find((c) => c.type === type && (c.status === 'True' || c.status === 'False'));
  if (!decisive) return result('Progressing', waiting);
  return result(decisive.status === 'True' ? 'Healthy' : 'Degraded', decisive.message);
}
