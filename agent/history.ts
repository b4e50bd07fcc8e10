import type { ContinuousDeploymentStatus, SyncHistoryEntry, SyncTrigger } from '../shared/api/continuous-deployment.ts';
import { BOT_COMMIT_PREFIX } from '../shared/api/constants.ts';
import { describeError } from '../shared/errors/index.ts';
import { rfc3339 } from '../shared/time/clock.ts';
import type { ReconcileOutcome } from './types.ts';

/** As many entries as Argo CD keeps by default (revisionHistoryLimit). */
export const HISTORY_LIMIT = 10;

/** What the agent knows at the start of a run about why it runs. */
export interface TriggerFacts {
  syncRequested: boolean;
  /** The `tidemark.dev/requestedBy` annotation beside the request, if any. */
  requestedBy: string | undefined;
  generation: number | undefined;
  observedGeneration: number | undefined;
  /** The resolved commit differs from the last applied one. */
  revisionChanged: boolean;
  subject: string | undefined;
}

/** What a history entry records about its run besides the outcome. */
export interface RunFacts {
  startedMs: number;
  finishedMs: number;
  trigger: SyncTrigger;
  requestedBy?: string | undefined;
  subject?: string | undefined;
}

/**
 * Why a run started. A bot commit counts first: the image updater pushes it and then requests a
 * sync, so "sync request" would hide that an image push caused it. A receiver names itself in
 * requestedBy; a generation the status has not seen is a spec change; anything else found the
 * commit (or the drift) on its own schedule.
 */
export function syncTrigger(facts: TriggerFacts): { trigger: SyncTrigger; requestedBy?: string } {
  if (facts.revisionChanged && facts.subject?.startsWith(BOT_COMMIT_PREFIX)) return { trigger: 'ImagePush' };
  if (facts.syncRequested) {
    const by = facts.requestedBy ? { requestedBy: facts.requestedBy } : {};
    return { trigger: facts.requestedBy?.startsWith('receiver/') ? 'Webhook' : 'SyncRequest', ...by };
  }
  if (facts.generation !== facts.observedGeneration) return { trigger: 'SpecChange' };
  return { trigger: 'Interval' };
}

/**
 * The entry one run adds, or undefined when the run neither applied nor failed a revision: a
 * no-op reconcile, a compare-only (manual) run, or a failure before the commit was read.
 */
export function historyEntry(
  outcome: ReconcileOutcome,
  previous: ContinuousDeploymentStatus,
  changed: boolean,
  run: RunFacts,
): SyncHistoryEntry | undefined {
  const revision = outcome.resolved?.revision;
  if (revision === undefined) return undefined;
  const common = {
    revision,
    ...(run.subject ? { subject: run.subject } : {}),
    startedAt: rfc3339(run.startedMs),
    finishedAt: rfc3339(run.finishedMs),
    trigger: run.trigger,
    ...(run.requestedBy ? { requestedBy: run.requestedBy } : {}),
  };
  if (outcome.error) {
    if (outcome.failedPhase === undefined || outcome.failedPhase === 'fetch') return undefined;
    return { ...common, result: 'Failed', reason: outcome.error.code, message: describeError(outcome.error) };
  }
  if (!outcome.synced) return undefined;
  if (outcome.superseded) {
    return { ...common, result: 'Superseded', reason: 'Superseded', message: `superseded by ${outcome.superseded.by}` };
  }
  if (!changed && previous.lastAppliedRevision === revision) return undefined;
  return { ...common, result: 'Succeeded' };
}

/**
 * The history with `entry` in front, at most HISTORY_LIMIT long. A failure repeating the newest
 * entry (same revision, same reason: the retries of one broken commit) replaces it, so retries
 * with backoff do not push the last good syncs out of the list.
 */
export function withEntry(history: readonly SyncHistoryEntry[] | undefined, entry: SyncHistoryEntry): SyncHistoryEntry[] {
  const rest = [...(history ?? [])];
  const newest = rest[0];
  if (
    newest &&
    entry.result === 'Failed' &&
    newest.result === 'Failed' &&
    newest.revision === entry.revision &&
    newest.reason === entry.reason
  ) {
    rest.shift();
  }
  return [entry, ...rest].slice(0, HISTORY_LIMIT);
}
