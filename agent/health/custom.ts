import type { KubeObject } from '../../shared/kube/object.ts';
import { conditions, describeCondition, int, rec, result, time } from './fields.ts';
import type { AssessContext, HealthResult } from './types.ts';
import { DEFAULT_STATUSLESS_GRACE_MS } from './types.ts';

/**
 * Ready=False reasons that mean "still working on it", not "failed". Deliberately exact: a loose
 * match on "progress" or "reconcil" would also catch ProgressDeadlineExceeded and
 * ReconciliationFailed.
 */
const STILL_WORKING = /^(Progressing|Reconciling)$|InProgress/i;

/**
 * Custom resources, read the kstatus way (the conventions Flux and most operators follow):
 * a stale `status.observedGeneration` → Progressing; `Stalled=True` → Degraded;
 * `Reconciling=True` → Progressing; `Ready` True → Healthy, False → Degraded (as Argo CD reads
 * Flux objects; kstatus itself would keep waiting) unless its reason says it is still progressing
 * or reconciling, Unknown → Progressing. A Ready condition that records an older
 * `observedGeneration` than the object's is stale → Progressing. A status without conditions
 * (many operators write only counters or phases) → Healthy.
 *
 * A custom resource with no status at all (or an empty one) is read by what its CRD declares,
 * which the assessor looks up and hands in (`ctx.crd`):
 * - the served version has a status subresource: a controller is expected to write status, so
 *   the object is Progressing until it does, never Healthy on the strength of silence (the Flux
 *   complaint); waits for health end at the deployment's timeout, as for any Progressing object;
 * - it has none (ServiceMonitor, VirtualService, plain configuration CRs): nothing will ever
 *   write status, and existing is being healthy.
 * The cost: a CRD that declares the subresource though nothing writes status (kubebuilder adds
 * it by default) stays Progressing; a `spec.healthCheckExprs` entry for the kind (`current:
 * 'true'`) says otherwise. Without the CRD's answer (not readable, or an aggregated API) the old
 * compromise holds: Progressing for `statuslessGraceMs` (default 30 s) after creation, then
 * Healthy.
 */
export function customResourceHealth(obj: KubeObject, ctx: AssessContext): HealthResult {
  const status = rec(obj.status);
  const generation = obj.metadata.generation;
  if (!status || Object.keys(status).length === 0) {
    if (ctx.crd?.statusSubresource === true) return result('Progressing', 'Waiting for the controller to report status');
    if (ctx.crd?.statusSubresource === false) return result('Healthy', 'No status reported (its CRD declares no status subresource)');
    const grace = ctx.options?.statuslessGraceMs ?? DEFAULT_STATUSLESS_GRACE_MS;
    const created = time(obj.metadata.creationTimestamp);
    if (created !== undefined && ctx.now < created + grace) return result('Progressing', 'Waiting for the controller to report status');
    return result('Healthy', 'No status reported');
  }
  const observed = int(status.observedGeneration);
  if (observed !== undefined && generation !== undefined && observed < generation) {
    return result('Progressing', `Waiting for the controller to observe generation ${generation} (observed ${observed})`);
  }
  const all = conditions(status);
  const stalled = all.find((c) => c.type === 'Stalled' && c.status === 'True');
  if (stalled) return result('Degraded', describeCondition(stalled) || 'Stalled');
  const reconciling = all.find((c) => c.type === 'Reconciling' && c.status === 'True');
  if (reconciling) return result('Progressing', describeCondition(reconciling) || 'Reconciling');
  const ready = all.find((c) => c.type === 'Ready');
  if (ready) {
    if (ready.observedGeneration !== undefined && generation !== undefined && ready.observedGeneration < generation) {
      return result(
        'Progressing',
        `Waiting for the controller to observe generation ${generation} (Ready is from ${ready.observedGeneration})`,
      );
    }
    if (ready.status === 'True') return result('Healthy', describeCondition(ready));
    if (ready.status === 'False' && !STILL_WORKING.test(ready.reason)) return result('Degraded', describeCondition(ready) || 'Not ready');
    return result('Progressing', describeCondition(ready) || 'Readiness unknown');
  }
  return result('Healthy');
}
