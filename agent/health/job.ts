import type { KubeObject } from '../../shared/kube/object.ts';
import { conditions, int, list, rec, result, time } from './fields.ts';
import type { HealthResult } from './types.ts';

/**
 * Argo CD's Job rules: Failed → Degraded, Complete → Healthy, suspended → Suspended, otherwise
 * Progressing. `FailureTarget` (Kubernetes ≥ 1.31 sets it while the failed Job's pods are being
 * terminated) already means the Job has failed. `spec.suspend` counts before the controller has
 * confirmed it with a Suspended condition, but a finished Job stays what it finished as: setting
 * suspend on it changes nothing in the cluster.
 */
export function jobHealth(obj: KubeObject): HealthResult {
  const spec = rec(obj.spec);
  const status = rec(obj.status);
  const all = conditions(status).filter((c) => c.status === 'True');
  const failed = all.find((c) => c.type === 'Failed') ?? all.find((c) => c.type === 'FailureTarget');
  if (failed) return result('Degraded', failed.message || failed.reason || 'Job failed');
  const complete = all.find((c) => c.type === 'Complete');
  if (complete) return result('Healthy', complete.message || complete.reason);
  const suspended = all.find((c) => c.type === 'Suspended');
  if (suspended || spec?.suspend === true) return result('Suspended', suspended?.message || 'Job is suspended');
  const completions = int(spec?.completions);
  const succeeded = int(status?.succeeded) ?? 0;
  const active = int(status?.active) ?? 0;
  return result(
    'Progressing',
    `Waiting for Job to complete: ${succeeded}${completions !== undefined ? ` of ${completions}` : ''} succeeded, ${active} active`,
  );
}

/**
 * Argo CD's CronJob rule (resource_customizations/batch/CronJob/health.lua). A CronJob has no
 * condition saying its last run failed; it is inferred: no job running and no success since the
 * last schedule. Two departures, both listed in the fixture test: `spec.suspend` is Suspended
 * (Argo reports Healthy only until its issue #24428 is fixed; Suspended is what the status is
 * for), and a CronJob that has run but never succeeded, with nothing running now, is Degraded —
 * Argo keeps it Healthy because it cannot tell "never ran" from "never succeeded", but
 * `lastScheduleTime` says it ran, and the controller writes `lastSuccessfulTime` in the same
 * update that removes a successful job from `active`.
 */
export function cronJobHealth(obj: KubeObject): HealthResult {
  const spec = rec(obj.spec);
  const status = rec(obj.status);
  if (spec?.suspend === true) return result('Suspended', 'CronJob is suspended');
  if (!status) return result('Progressing', 'Waiting for CronJob');
  const lastSchedule = time(status.lastScheduleTime);
  if (lastSchedule === undefined) return result('Healthy', 'CronJob has not been scheduled yet');
  if (list(status.active).length > 0) return result('Healthy', 'The job is running. Its last execution may not have been successful');
  const lastSuccess = time(status.lastSuccessfulTime);
  if (lastSuccess === undefined) return result('Degraded', 'CronJob has never completed an execution successfully');
  if (lastSuccess < lastSchedule) return result('Degraded', 'CronJob has not completed its last execution successfully');
  return result('Healthy', 'CronJob has completed its last execution successfully');
}
