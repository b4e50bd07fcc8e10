import type { KubeObject } from '../../shared/kube/object.ts';
import { int, rec, result, str } from './fields.ts';
import type { HealthResult } from './types.ts';

/**
 * kubectl's `rollout status` for StatefulSets, as Argo CD reads it. A RollingUpdate strategy (the
 * API server always fills in `rollingUpdate.partition`) is judged by updated replicas against the
 * unpartitioned ones, not by revisions: a StatefulSet scaled to zero may never move its
 * currentRevision, and must not stay Progressing for that.
 */
export function statefulSetHealth(obj: KubeObject): HealthResult {
  const spec = rec(obj.spec);
  const status = rec(obj.status);
  const observed = int(status?.observedGeneration) ?? 0;
  if (observed === 0 || (obj.metadata.generation ?? 0) > observed) {
    return result('Progressing', 'Waiting for statefulset spec update to be observed...');
  }
  const desired = int(spec?.replicas);
  const ready = int(status?.readyReplicas) ?? 0;
  const updated = int(status?.updatedReplicas) ?? 0;
  if (desired !== undefined && ready < desired) return result('Progressing', `Waiting for ${desired - ready} pods to be ready...`);

  const strategy = rec(spec?.updateStrategy);
  const type = str(strategy?.type) ?? 'RollingUpdate';
  const rolling = rec(strategy?.rollingUpdate);
  if (type === 'RollingUpdate' && rolling) {
    const partition = int(rolling.partition) ?? 0;
    if (desired !== undefined && updated < desired - partition) {
      const what = partition > 0 ? 'partitioned roll out' : 'rolling update';
      return result('Progressing', `Waiting for ${what} to finish: ${updated} out of ${desired - partition} new pods have been updated...`);
    }
    return result(
      'Healthy',
      partition > 0
        ? `partitioned roll out complete: ${updated} new pods have been updated...`
        : `roll out complete: ${updated} new pods have been updated...`,
    );
  }
  if (type === 'OnDelete') return result('Healthy', `statefulset has ${ready} ready pods`);
  const updateRevision = str(status?.updateRevision) ?? '';
  const currentRevision = str(status?.currentRevision) ?? '';
  if (updateRevision !== currentRevision) {
    return result('Progressing', `waiting for statefulset rolling update to complete ${updated} pods at revision ${updateRevision}...`);
  }
  return result(
    'Healthy',
    `statefulset rolling update complete ${int(status?.currentReplicas) ?? 0} pods at revision ${currentRevision}...`,
  );
}
