import type { KubeObject } from '../../../shared/kube/object.ts';
import { findCondition, rec, result, str } from '../fields.ts';
import type { HealthResult } from '../types.ts';

/**
 * Tekton PipelineRun, TaskRun and CustomRun (Argo CD has no script; Tekton's documented
 * `Succeeded` condition, https://tekton.dev/docs/pipelines/pipelineruns/#monitoring-execution-status):
 * True → Healthy; False → Degraded (failed, timed out or cancelled — the run is over and did not
 * do its work); Unknown or absent → Progressing, except a PipelineRun held with
 * `spec.status: PipelineRunPending`, which waits for someone to start it: Suspended. Tekton
 * writes the condition's message for every state ("Tasks Completed: 3 (Failed: 1, ...)").
 */
export function tektonRunHealth(obj: KubeObject): HealthResult {
  const succeeded = findCondition(rec(obj.status), 'Succeeded');
  const message = succeeded ? succeeded.message || succeeded.reason : undefined;
  if (succeeded?.status === 'True') return result('Healthy', message);
  if (succeeded?.status === 'False') return result('Degraded', message);
  if (str(rec(obj.spec)?.status) === 'PipelineRunPending') return result('Suspended', 'PipelineRun is pending');
  return result('Progressing', message || `Waiting for the ${obj.kind} to start`);
}
