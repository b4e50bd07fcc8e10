import type { Reason } from '../errors/reasons.ts';
import { ConditionType, removeCondition, setCondition, type Condition } from './index.ts';

/** Condition reasons of the kstatus summaries below that are not error codes. */
export const SummaryReason = {
  Succeeded: 'ReconciliationSucceeded',
  Progressing: 'Progressing',
} as const satisfies Record<string, Reason>;

export interface ConditionContext {
  /** The `metadata.generation` the conditions describe; undefined leaves `observedGeneration` out. */
  generation: number | undefined;
  nowMs: number;
}

/** Ready=True, nothing in progress, nothing stalled. */
export function readyConditions(conditions: readonly Condition[] | undefined, message: string, ctx: ConditionContext): Condition[] {
  const ready = {
    type: ConditionType.Ready,
    status: 'True',
    reason: SummaryReason.Succeeded,
    message,
    observedGeneration: ctx.generation,
  } as const;
  const next = removeCondition(setCondition(conditions, ready, ctx.nowMs), ConditionType.Reconciling);
  return removeCondition(next, ConditionType.Stalled);
}

/**
 * Ready=False with `reason`. `stalled`: retrying cannot help until the spec changes (kstatus
 * Stalled); otherwise the object is still being retried and no Stalled condition is shown.
 */
export function notReadyConditions(
  conditions: readonly Condition[] | undefined,
  reason: Reason,
  message: string,
  stalled: boolean,
  ctx: ConditionContext,
): Condition[] {
  const base = { reason, message, observedGeneration: ctx.generation };
  const next = removeCondition(
    setCondition(conditions, { type: ConditionType.Ready, status: 'False', ...base }, ctx.nowMs),
    ConditionType.Reconciling,
  );
  return stalled
    ? setCondition(next, { type: ConditionType.Stalled, status: 'True', ...base }, ctx.nowMs)
    : removeCondition(next, ConditionType.Stalled);
}

/**
 * Reconciling=True and Ready=Unknown while a new generation is being worked on; `reason` says why
 * it is taking a while (e.g. the server asked us to wait) when that is known.
 */
export function progressingConditions(
  conditions: readonly Condition[] | undefined,
  message: string,
  ctx: ConditionContext,
  reason: Reason = SummaryReason.Progressing,
): Condition[] {
  const base = { reason, message, observedGeneration: ctx.generation };
  let next = setCondition(conditions, { type: ConditionType.Reconciling, status: 'True', ...base }, ctx.nowMs);
  next = setCondition(next, { type: ConditionType.Ready, status: 'Unknown', ...base }, ctx.nowMs);
  return removeCondition(next, ConditionType.Stalled);
}
