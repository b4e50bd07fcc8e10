import type { Reason } from '../errors/reasons.ts';
import { rfc3339 } from '../time/clock.ts';

/** metav1.Condition, as every Tidemark kind reports it. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: Reason;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/**
 * What callers hand to `setCondition`: the time is filled in, and an unknown generation (a
 * missing `metadata.generation`) leaves `observedGeneration` out of the written condition.
 */
export type ConditionInput = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'> & {
  observedGeneration?: number | undefined;
};

export const ConditionType = {
  Ready: 'Ready',
  Reconciling: 'Reconciling',
  Stalled: 'Stalled',
} as const;

/**
 * Returns a new list with `next` set. `lastTransitionTime` moves only when the status changes,
 * so `kubectl wait` and dashboards see real transitions, not every reconcile.
 */
export function setCondition(conditions: readonly Condition[] | undefined, next: ConditionInput, nowMs: number): Condition[] {
  const list = [...(conditions ?? [])];
  const index = list.findIndex((c) => c.type === next.type);
  const previous = index >= 0 ? list[index] : undefined;
  const lastTransitionTime = previous && previous.status === next.status ? previous.lastTransitionTime : rfc3339(nowMs);
  const { observedGeneration, ...rest } = next;
  const condition: Condition = {
    ...rest,
    message: truncate(next.message),
    lastTransitionTime,
    ...(observedGeneration === undefined ? {} : { observedGeneration }),
  };
  if (index >= 0) list[index] = condition;
  else list.push(condition);
  return list;
}

export function removeCondition(conditions: readonly Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** The API server caps condition messages at 32 KiB; keep ours readable well below that. */
function truncate(message: string, max = 4096): string {
  return message.length <= max ? message : `${message.slice(0, max - 1)}…`;
}
