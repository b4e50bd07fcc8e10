import type { KubeObject } from '../../../shared/kube/object.ts';
import { findCondition, int, rec, result } from '../fields.ts';
import type { HealthResult } from '../types.ts';

/**
 * Progressing when the controller has not yet looked at the newest spec: `status.observedGeneration`,
 * or the Ready condition's own `observedGeneration`, is older than `metadata.generation`. Right
 * after an apply the old Ready=True still stands; without this check a unit would report Healthy
 * for a spec nobody has acted on. Argo CD's scripts for these kinds skip this check (Argo waits
 * for its own sync to settle instead); kstatus and Flux make it. Undefined when current or unknown.
 */
export function staleGeneration(obj: KubeObject): HealthResult | undefined {
  const generation = obj.metadata.generation;
  if (generation === undefined) return undefined;
  const status = rec(obj.status);
  const observed = int(status?.observedGeneration);
  // Flux writes -1 before its first reconcile attempt; that is "never observed", reported by the rule itself.
  if (observed !== undefined && observed >= 0 && observed < generation) {
    return result('Progressing', `Waiting for the controller to observe generation ${generation} (observed ${observed})`);
  }
  const ready = findCondition(status, 'Ready');
  if (ready?.observedGeneration !== undefined && ready.observedGeneration < generation) {
    return result(
      'Progressing',
      `Waiting for the controller to observe generation ${generation} (Ready is from ${ready.observedGeneration})`,
    );
  }
  return undefined;
}
