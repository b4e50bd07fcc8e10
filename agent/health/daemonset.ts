import type { KubeObject } from '../../shared/kube/object.ts';
import { int, rec, result, str } from './fields.ts';
import type { HealthResult } from './types.ts';

/** kubectl's `rollout status` for DaemonSets, as Argo CD reads it; OnDelete never waits for pods. */
export function daemonSetHealth(obj: KubeObject): HealthResult {
  const spec = rec(obj.spec);
  const status = rec(obj.status);
  if ((obj.metadata.generation ?? 0) > (int(status?.observedGeneration) ?? 0)) {
    return result('Progressing', 'Waiting for rollout to finish: observed daemon set generation less than desired generation');
  }
  const desired = int(status?.desiredNumberScheduled) ?? 0;
  const updated = int(status?.updatedNumberScheduled) ?? 0;
  const available = int(status?.numberAvailable) ?? 0;
  if (str(rec(spec?.updateStrategy)?.type) === 'OnDelete') {
    return result('Healthy', `daemon set ${updated} out of ${desired} new pods have been updated`);
  }
  const name = obj.metadata.name;
  if (updated < desired) {
    return result(
      'Progressing',
      `Waiting for daemon set "${name}" rollout to finish: ${updated} out of ${desired} new pods have been updated...`,
    );
  }
  if (available < desired) {
    return result(
      'Progressing',
      `Waiting for daemon set "${name}" rollout to finish: ${available} of ${desired} updated pods are available...`,
    );
  }
  return result('Healthy');
}
