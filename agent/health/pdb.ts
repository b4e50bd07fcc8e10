import type { KubeObject } from '../../shared/kube/object.ts';
import { conditions, rec, result } from './fields.ts';
import type { HealthResult } from './types.ts';

/**
 * Argo CD's rule (resource_customizations/policy/PodDisruptionBudget/health.lua): a False
 * condition other than InsufficientPods (the disruption controller could not compute the budget,
 * SyncFailed) → Degraded; otherwise Healthy once the controller has written its condition, named
 * by its reason. InsufficientPods is not a failure: a budget that allows no disruption right now
 * (a single replica, a rollout under way) is often what was asked for.
 */
export function podDisruptionBudgetHealth(obj: KubeObject): HealthResult {
  const all = conditions(rec(obj.status));
  const failed = all.find((c) => c.status === 'False' && c.reason !== 'InsufficientPods');
  if (failed) return result('Degraded', `PodDisruptionBudget has ${failed.reason}`);
  const last = all.at(-1);
  return last ? result('Healthy', `PodDisruptionBudget has ${last.reason}`) : result('Progressing', 'Waiting for status');
}
