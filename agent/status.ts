import type { ContinuousDeployment, ContinuousDeploymentStatus } from '../shared/api/continuous-deployment.ts';
import { ConditionType, removeCondition, setCondition } from '../shared/conditions/index.ts';
import { describeError, type Reason } from '../shared/errors/index.ts';
import type { ChangeSummary } from '../shared/kube/change-set.ts';
import { describeSummary, summarize } from '../shared/kube/change-set.ts';
import { rfc3339 } from '../shared/time/clock.ts';
import { historyEntry, withEntry, type RunFacts } from './history.ts';
import type { ReconcileOutcome } from './types.ts';

export interface StatusEvent {
  type: 'Normal' | 'Warning';
  reason: Reason;
  message: string;
}

export interface StatusContext {
  cd: ContinuousDeployment;
  cluster: string;
  namespace: string | undefined;
  nowMs: number;
  /** The requestedAt value this reconcile answered, if any. */
  handledRequest: string | undefined;
  windowMessage?: string | undefined;
  /** Start, trigger and commit subject of this run: with them a sync that applied or failed a revision enters status.history. */
  run?: Omit<RunFacts, 'finishedMs'> | undefined;
}

/**
 * Derives the next status and the Events to record from one reconcile outcome. Pure: the same
 * outcome always gives the same status, so a status write can be retried safely.
 */
export function statusFromOutcome(
  outcome: ReconcileOutcome,
  ctx: StatusContext,
): { status: ContinuousDeploymentStatus; events: StatusEvent[] } {
  const previous = ctx.cd.status ?? {};
  const generation = ctx.cd.metadata.generation;
  const summary = summarize(outcome.changes);
  const status: ContinuousDeploymentStatus = {
    ...previous,
    ...(generation === undefined ? {} : { observedGeneration: generation }),
    location: { cluster: ctx.cluster, ...(ctx.namespace ? { namespace: ctx.namespace } : {}) },
    resources: outcome.resources,
  };
  if (outcome.healthChecks) status.healthChecks = outcome.healthChecks;
  else if (!outcome.error) delete status.healthChecks;
  if (outcome.hooks) status.hooks = outcome.hooks;
  if (outcome.synced && outcome.postDeleteHooks) status.postDeleteHooks = outcome.postDeleteHooks;
  else if (outcome.synced) delete status.postDeleteHooks;
  if (ctx.handledRequest !== undefined) status.lastHandledRequestedAt = ctx.handledRequest;
  if (outcome.resolved) status.lastAttemptedRevision = outcome.resolved.revision;
  const entry = ctx.run && historyEntry(outcome, previous, hasChanges(summary), { ...ctx.run, finishedMs: ctx.nowMs });
  if (entry) status.history = withEntry(previous.history, entry);
  const events: StatusEvent[] = [];
  let conditions = previous.conditions ?? [];

  if (outcome.error) {
    const error = outcome.error;
    const message = `${phaseWord(outcome.failedPhase)} failed: ${describeError(error)}`;
    const revision = outcome.resolved?.revision ?? previous.sync?.revision;
    // Without the source (Git unreachable, its credentials unreadable, a spec or target that
    // stops the run before the fetch) nothing was compared: Unknown, as Argo CD reports it.
    const sourceUnread = outcome.failedPhase === undefined || outcome.failedPhase === 'fetch';
    status.sync = {
      status: sourceUnread ? 'Unknown' : 'OutOfSync',
      ...(revision === undefined ? {} : { revision }),
    };
    if (outcome.failedPhase === 'fetch' || outcome.failedPhase === 'render' || outcome.failedPhase === 'plan') {
      // Nothing was read from the cluster; keep the last known health.
      status.health = previous.health ?? { status: 'Unknown' };
    } else {
      status.health = outcome.health;
    }
    conditions = setCondition(
      conditions,
      { type: ConditionType.Ready, status: 'False', reason: error.code, message, observedGeneration: generation },
      ctx.nowMs,
    );
    if (error.kind === 'terminal') {
      conditions = setCondition(
        conditions,
        { type: ConditionType.Stalled, status: 'True', reason: error.code, message, observedGeneration: generation },
        ctx.nowMs,
      );
      conditions = removeCondition(conditions, ConditionType.Reconciling);
    } else {
      conditions = setCondition(
        conditions,
        {
          type: ConditionType.Reconciling,
          status: 'True',
          reason: 'ProgressingWithRetry',
          message,
          observedGeneration: generation,
        },
        ctx.nowMs,
      );
      conditions = removeCondition(conditions, ConditionType.Stalled);
    }
    events.push({ type: 'Warning', reason: error.code, message: withRevision(message, outcome) });
    status.conditions = conditions;
    return { status, events };
  }

  const revision = outcome.resolved?.revision;
  status.sync = { status: outcome.sync, ...(revision ? { revision } : {}) };
  status.health = outcome.health;
  conditions = removeCondition(removeCondition(conditions, ConditionType.Stalled), ConditionType.Reconciling);
  // The sync time moves when a sync did something, so a no-op reconcile leaves status untouched.
  if (outcome.synced && (hasChanges(summary) || previous.lastAppliedRevision !== revision)) {
    if (revision) status.lastAppliedRevision = revision;
    status.lastSyncTime = rfc3339(ctx.nowMs);
  }
  if (outcome.superseded) {
    // Neither done nor failed: Ready is Unknown, as while any run is in progress.
    const message = `superseded by ${outcome.superseded.by} while waiting for ${outcome.superseded.during}; the next run starts at once`;
    for (const type of [ConditionType.Ready, ConditionType.Reconciling]) {
      conditions = setCondition(
        conditions,
        { type, status: type === ConditionType.Ready ? 'Unknown' : 'True', reason: 'Superseded', message, observedGeneration: generation },
        ctx.nowMs,
      );
    }
    events.push({ type: 'Normal', reason: 'Superseded', message: withRevision(message, outcome) });
    status.conditions = conditions;
    return { status, events };
  }
  if (outcome.synced && outcome.sync === 'Synced') {
    conditions = setCondition(
      conditions,
      {
        type: ConditionType.Ready,
        status: 'True',
        reason: 'ReconciliationSucceeded',
        message: `Applied revision: ${revision ?? 'unknown'}`,
        observedGeneration: generation,
      },
      ctx.nowMs,
    );
  } else if (!outcome.synced) {
    const reason = ctx.windowMessage ? 'SyncWindowBlocked' : 'ManualSyncRequired';
    const why = ctx.windowMessage ?? 'manual sync policy: request a sync to apply';
    const message =
      outcome.sync === 'Synced' ? `In sync with ${revision}` : `${countOutOfSync(outcome)} objects differ from ${revision}; ${why}`;
    conditions = setCondition(
      conditions,
      {
        type: ConditionType.Ready,
        status: outcome.sync === 'Synced' ? 'True' : 'False',
        reason: outcome.sync === 'Synced' ? 'ReconciliationSucceeded' : reason,
        message,
        observedGeneration: generation,
      },
      ctx.nowMs,
    );
  } else {
    // Drift left alone on purpose (selfHeal off) says so; anything else still differing after an apply is OutOfSync.
    const drift = outcome.notes.find((n) => n.reason === 'DriftDetected');
    conditions = setCondition(
      conditions,
      drift
        ? {
            type: ConditionType.Ready,
            status: 'False',
            reason: 'DriftDetected',
            message: drift.message,
            observedGeneration: generation,
          }
        : {
            type: ConditionType.Ready,
            status: 'False',
            reason: 'OutOfSync',
            message: `applied ${revision} but some objects still differ`,
            observedGeneration: generation,
          },
      ctx.nowMs,
    );
  }
  for (const note of outcome.notes) {
    events.push({ type: 'Warning', reason: note.reason, message: note.message });
  }
  if (hasChanges(summary)) {
    events.push({
      type: 'Normal',
      reason: 'ReconciliationSucceeded',
      message: `Applied revision ${revision}: ${describeSummary(summary)}`,
    });
  }
  status.conditions = conditions;
  return { status, events };
}

/** Status of a suspended ContinuousDeployment: nothing is applied or pruned; the rest is kept. */
export function suspendedStatus(cd: ContinuousDeployment, nowMs: number): ContinuousDeploymentStatus {
  const previous = cd.status ?? {};
  const generation = cd.metadata.generation;
  return {
    ...previous,
    ...(generation === undefined ? {} : { observedGeneration: generation }),
    health: { status: 'Suspended', message: 'spec.suspend is true: no apply, no prune' },
    conditions: setCondition(
      previous.conditions,
      {
        type: ConditionType.Ready,
        status: 'False',
        reason: 'Suspended',
        message: 'reconciliation is suspended',
        observedGeneration: generation,
      },
      nowMs,
    ),
  };
}

function hasChanges(summary: ChangeSummary): boolean {
  return summary.created + summary.configured + summary.deleted > 0;
}

function countOutOfSync(outcome: ReconcileOutcome): number {
  return outcome.resources.filter((r) => r.status !== 'Synced').length;
}

function phaseWord(phase: ReconcileOutcome['failedPhase']): string {
  return phase ? phase[0]!.toUpperCase() + phase.slice(1) : 'Reconcile';
}

function withRevision(message: string, outcome: ReconcileOutcome): string {
  return outcome.resolved ? `${message} (revision ${outcome.resolved.revision})` : message;
}
