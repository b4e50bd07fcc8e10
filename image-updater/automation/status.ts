import type { ImageRef } from '../../shared/api/image.ts';
import { findCondition, removeCondition, setCondition } from '../../shared/conditions/index.ts';
import { describeError, type Reason, type TidemarkError } from '../../shared/errors/index.ts';
import { rfc3339 } from '../../shared/time/clock.ts';
import { notReadyConditions, readyConditions } from '../../shared/conditions/ready.ts';
import type { PlannedEvent } from '../../shared/kube/events.ts';
import type { StatusContext } from '../controllers/reasons.ts';
import type { ImageUpdateAutomationStatus } from './types.ts';
import type { RunProblem } from './update-run.ts';

export const AUTOMATION_STATUS_FIELDS = [
  'lastAutomationRunTime',
  'lastPushCommit',
  'lastPushTime',
  'observedPolicies',
  'observedGeneration',
  'lastHandledRequestedAt',
  'conditions',
] as const;

/** Reports markers the run could not resolve; True when every marker was. */
export const MARKERS_CONDITION = 'MarkersResolved';

export const AutomationReason = {
  Pushed: 'PushSucceeded',
  AllMarkersResolved: 'AllMarkersResolved',
} as const satisfies Record<string, Reason>;

export type AutomationOutcome =
  | { kind: 'failed'; error: TidemarkError; observedPolicies?: Record<string, ImageRef> | undefined }
  | {
      kind: 'done';
      /** Present when a commit was pushed. */
      pushed?: { commit: string; branch: string; message: string; changes: number } | undefined;
      /** Why nothing was pushed, for the Ready message. */
      unchanged?: 'no-change' | 'branch-current' | undefined;
      problems: readonly RunProblem[];
      observedPolicies: Record<string, ImageRef>;
    };

/** Problems listed in the condition message; the rest are counted. */
const MAX_LISTED_PROBLEMS = 10;

/**
 * The next status and the Events to record for one run. Pure. `lastAutomationRunTime` moves on
 * every run, the push fields only when a commit was pushed.
 */
export function nextAutomationStatus(
  previous: ImageUpdateAutomationStatus | undefined,
  outcome: AutomationOutcome,
  ctx: StatusContext,
): { status: ImageUpdateAutomationStatus; events: PlannedEvent[] } {
  const status: ImageUpdateAutomationStatus = {
    ...(previous ?? {}),
    lastAutomationRunTime: rfc3339(ctx.nowMs),
    ...(ctx.generation === undefined ? {} : { observedGeneration: ctx.generation }),
  };
  if (ctx.handledRequest !== undefined) status.lastHandledRequestedAt = ctx.handledRequest;
  const events: PlannedEvent[] = [];

  if (outcome.kind === 'failed') {
    const message = describeError(outcome.error);
    if (outcome.observedPolicies) status.observedPolicies = outcome.observedPolicies;
    status.conditions = notReadyConditions(previous?.conditions, outcome.error.code, message, outcome.error.kind === 'terminal', ctx);
    events.push({ type: 'Warning', reason: outcome.error.code, message });
    return { status, events };
  }

  status.observedPolicies = outcome.observedPolicies;
  let ready: string;
  if (outcome.pushed) {
    status.lastPushCommit = outcome.pushed.commit;
    status.lastPushTime = rfc3339(ctx.nowMs);
    ready = `pushed commit ${outcome.pushed.commit.slice(0, 12)} to branch ${outcome.pushed.branch}`;
    events.push({ type: 'Normal', reason: AutomationReason.Pushed, message: `${ready}\n${outcome.pushed.message}` });
  } else if (outcome.unchanged === 'branch-current') {
    ready = 'the push branch already holds these updates on the current base';
  } else {
    ready = 'no updates made: every marked value is current';
  }
  let conditions = readyConditions(previous?.conditions, ready, ctx);

  const before = findCondition(previous?.conditions, MARKERS_CONDITION);
  if (outcome.problems.length === 0) {
    conditions = before
      ? setCondition(
          conditions,
          {
            type: MARKERS_CONDITION,
            status: 'True',
            reason: AutomationReason.AllMarkersResolved,
            message: 'every marker names a known policy and every file parsed',
            observedGeneration: ctx.generation,
          },
          ctx.nowMs,
        )
      : removeCondition(conditions, MARKERS_CONDITION);
  } else {
    const first = outcome.problems[0] as RunProblem;
    const message = describeProblems(outcome.problems);
    conditions = setCondition(
      conditions,
      { type: MARKERS_CONDITION, status: 'False', reason: first.code, message, observedGeneration: ctx.generation },
      ctx.nowMs,
    );
    // Announced when the set of problems changes, not on every run.
    if (before?.message !== message || before.status !== 'False') {
      for (const problem of outcome.problems.slice(0, MAX_LISTED_PROBLEMS)) {
        events.push({ type: 'Warning', reason: problem.code, message: problemText(problem) });
      }
    }
  }
  status.conditions = conditions;
  return { status, events };
}

export function describeProblems(problems: readonly RunProblem[]): string {
  const listed = problems.slice(0, MAX_LISTED_PROBLEMS).map(problemText);
  const more = problems.length - listed.length;
  const head = `${problems.length} marker problem${problems.length === 1 ? '' : 's'}: `;
  return head + listed.join('; ') + (more > 0 ? `; and ${more} more` : '');
}

function problemText(problem: RunProblem): string {
  const where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}`;
  return `${where}: ${problem.message}`;
}
