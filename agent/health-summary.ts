import type { HealthStatus, ResourceStatus } from '../shared/api/continuous-deployment.ts';
import { describeRef } from '../shared/kube/object.ts';

/** Argo CD's order, least to most severe: the deployment is as healthy as its worst object. */
const SEVERITY: HealthStatus[] = ['Healthy', 'Suspended', 'Progressing', 'Missing', 'Degraded', 'Unknown'];

export function worstOf(resources: readonly ResourceStatus[]): { status: HealthStatus; message?: string } {
  let worst: ResourceStatus | undefined;
  let rank = 0;
  for (const r of resources) {
    const status = r.health?.status ?? 'Unknown';
    const next = SEVERITY.indexOf(status);
    if (next > rank || (worst === undefined && next >= rank)) {
      rank = next;
      worst = r;
    }
  }
  if (!worst || rank === 0) return { status: 'Healthy' };
  const status = SEVERITY[rank] as HealthStatus;
  const detail = worst.health?.message ? `: ${worst.health.message}` : '';
  return { status, message: `${describeRef(worst)} is ${status}${detail}` };
}
