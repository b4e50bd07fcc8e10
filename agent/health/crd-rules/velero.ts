import type { KubeObject } from '../../../shared/kube/object.ts';
import { list, rec, result, str } from '../fields.ts';
import type { HealthResult } from '../types.ts';

/**
 * Velero (Argo CD has no script; Velero's API docs, https://velero.io/docs/main/api-types/).
 * Backup and Restore: phase Completed → Healthy; Failed, PartiallyFailed, FailedValidation →
 * Degraded (Velero does not retry them; a partial backup is a backup you cannot trust); New,
 * InProgress, WaitingForPluginOperations*, Finalizing* → Progressing. A PartiallyFailed phase
 * still being finalised is already known to be partial, so the `*PartiallyFailed` in-between
 * phases are Degraded too.
 */
export function veleroRunHealth(obj: KubeObject): HealthResult {
  const status = rec(obj.status);
  const phase = str(status?.phase) ?? '';
  const why =
    str(status?.failureReason) ||
    list(status?.validationErrors)
      .filter((e) => typeof e === 'string')
      .join('; ');
  if (phase === 'Completed') return result('Healthy', `${obj.kind} completed`);
  if (phase === 'Failed' || phase === 'FailedValidation' || phase.endsWith('PartiallyFailed')) {
    return result('Degraded', why ? `${obj.kind} ${phase}: ${why}` : `${obj.kind} ${phase}`);
  }
  return result('Progressing', phase ? `${obj.kind} ${phase}` : `Waiting for the ${obj.kind} to start`);
}

/**
 * Schedule: `spec.paused` → Suspended; phase Enabled → Healthy; FailedValidation (a bad cron
 * expression, an unknown storage location) → Degraded with Velero's validation errors; New or
 * no phase yet → Progressing.
 */
export function veleroScheduleHealth(obj: KubeObject): HealthResult {
  if (rec(obj.spec)?.paused === true) return result('Suspended', 'Schedule is paused');
  const status = rec(obj.status);
  const phase = str(status?.phase);
  if (phase === 'Enabled') return result('Healthy', 'Schedule is enabled');
  if (phase === 'FailedValidation') {
    const errors = list(status?.validationErrors).filter((e) => typeof e === 'string');
    return result('Degraded', errors.length > 0 ? errors.join('; ') : 'Schedule failed validation');
  }
  return result('Progressing', 'Waiting for the schedule to be validated');
}

/**
 * BackupStorageLocation and VolumeSnapshotLocation: phase Available → Healthy, Unavailable →
 * Degraded (backups to it fail), with Velero's message; before the first check, Progressing.
 */
export function veleroLocationHealth(obj: KubeObject): HealthResult {
  const status = rec(obj.status);
  const phase = str(status?.phase);
  const message = str(status?.message);
  if (phase === 'Available') return result('Healthy', message);
  if (phase === 'Unavailable') return result('Degraded', message || `${obj.kind} is unavailable`);
  return result('Progressing', 'Waiting for the location to be checked');
}
