import { ConditionType, removeCondition, setCondition, type Condition } from '../../shared/conditions/index.ts';
import { TidemarkError, type Reason as ReasonCode } from '../../shared/errors/index.ts';
import type { EventType } from '../../shared/kube/events.ts';

/** One vocabulary for both kinds: condition reasons and Event reasons that are not error codes. */
export const Reason = {
  Succeeded: 'ReconciliationSucceeded',
  Progressing: 'Progressing',
  Suspended: 'Suspended',
  DependencyNotReady: 'DependencyNotReady',
  NewImage: 'NewImage',
} as const satisfies Record<string, ReasonCode>;

export interface PlannedEvent {
  type: EventType;
  reason: ReasonCode;
  message: string;
}

export interface StatusContext {
  generation: number | undefined;
  nowMs: number;
  /** The `tidemark.dev/requestedAt` value this reconcile answered, if any. */
  handledRequest?: string | undefined;
}

/** Ready=True, nothing in progress, nothing stalled. */
export function readyConditions(conditions: readonly Condition[] | undefined, message: string, ctx: StatusContext): Condition[] {
  let next = setCondition(
    conditions,
    {
      type: ConditionType.Ready,
      status: 'True',
      reason: Reason.Succeeded,
      message,
      observedGeneration: ctx.generation,
    },
    ctx.nowMs,
  );
  next = removeCondition(next, ConditionType.Reconciling);
  return removeCondition(next, ConditionType.Stalled);
}

/**
 * Ready=False with `reason`. `stalled`: retrying cannot help until the spec changes (kstatus
 * Stalled); otherwise the object is still being retried and no Stalled condition is shown.
 */
export function notReadyConditions(
  conditions: readonly Condition[] | undefined,
  reason: ReasonCode,
  message: string,
  stalled: boolean,
  ctx: StatusContext,
): Condition[] {
  let next = setCondition(
    conditions,
    { type: ConditionType.Ready, status: 'False', reason, message, observedGeneration: ctx.generation },
    ctx.nowMs,
  );
  next = removeCondition(next, ConditionType.Reconciling);
  return stalled
    ? setCondition(next, { type: ConditionType.Stalled, status: 'True', reason, message, observedGeneration: ctx.generation }, ctx.nowMs)
    : removeCondition(next, ConditionType.Stalled);
}

/** Reconciling=True and Ready=Unknown while a new generation is being worked on. */
export function progressingConditions(conditions: readonly Condition[] | undefined, message: string, ctx: StatusContext): Condition[] {
  let next = setCondition(
    conditions,
    {
      type: ConditionType.Reconciling,
      status: 'True',
      reason: Reason.Progressing,
      message,
      observedGeneration: ctx.generation,
    },
    ctx.nowMs,
  );
  next = setCondition(
    next,
    {
      type: ConditionType.Ready,
      status: 'Unknown',
      reason: Reason.Progressing,
      message,
      observedGeneration: ctx.generation,
    },
    ctx.nowMs,
  );
  return removeCondition(next, ConditionType.Stalled);
}

/** Equal as JSON regardless of key order (the API server returns keys sorted, we build them in any order). */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Validation finds every problem at once; status and Events carry them as one error. */
export function combineErrors(errors: readonly TidemarkError[]): TidemarkError {
  const first = errors[0];
  if (!first) return new TidemarkError('InvalidSpec', 'the spec is invalid', { kind: 'terminal' });
  if (errors.length === 1) return first;
  return new TidemarkError(first.code, errors.map((e) => e.message).join('; '), { kind: 'terminal', hint: first.hint });
}
