import { describeRef } from '../../shared/kube/object.ts';
import type { HealthResult, HealthStatus } from './types.ts';

/** Argo CD's order, least to most severe. */
export const HEALTH_ORDER: readonly HealthStatus[] = ['Healthy', 'Suspended', 'Progressing', 'Missing', 'Degraded', 'Unknown'];

export function healthRank(status: HealthStatus): number {
  return HEALTH_ORDER.indexOf(status);
}

export function isWorse(candidate: HealthStatus, than: HealthStatus): boolean {
  return healthRank(candidate) > healthRank(than);
}

export interface HealthOfObject {
  kind: string;
  namespace?: string;
  name: string;
  /** Absent when the object was not assessed; such objects do not count (as in Argo CD). */
  health?: HealthResult;
}

/**
 * A unit is as healthy as its worst object. The message names the first object (in the order
 * given) with that status, so the same input always yields the same message.
 */
export function worstHealth(objects: readonly HealthOfObject[]): HealthResult {
  let worst: HealthOfObject | undefined;
  for (const o of objects) {
    if (!o.health) continue;
    if (!worst?.health || isWorse(o.health.status, worst.health.status)) worst = o;
  }
  if (!worst?.health || worst.health.status === 'Healthy') return { status: 'Healthy' };
  const { status, message } = worst.health;
  return { status, message: `${describeRef(worst)} is ${status}${message ? `: ${message}` : ''}` };
}
