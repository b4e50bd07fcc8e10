import { findCondition, ConditionType } from '../../shared/conditions/index.ts';
import { describeError, type TidemarkError } from '../../shared/errors/index.ts';
import type { ImageRepositoryStatus } from '../../shared/api/image.ts';
import { rfc3339 } from '../../shared/time/clock.ts';
import type { RetryWait } from '../../shared/time/backoff.ts';
import { formatDuration } from '../../shared/time/duration.ts';
import type { ScanRecord } from './tag-store.ts';
import { notReadyConditions, progressingConditions, readyConditions } from '../../shared/conditions/ready.ts';
import type { PlannedEvent } from '../../shared/kube/events.ts';
import { Reason, type StatusContext } from './reasons.ts';

/** Every status field the repository controller owns (the rest of a merge patch would leave stale ones). */
export const REPOSITORY_STATUS_FIELDS = [
  'canonicalImageName',
  'lastScanResult',
  'observedGeneration',
  'lastHandledRequestedAt',
  'conditions',
] as const;

export const LATEST_TAGS_COUNT = 10;

/**
 * The newest tags "by the registry's order". Registries list oldest first (distribution sorts
 * lexically, GHCR and Quay list in push order), so the newest are at the end of the list: this
 * takes the last ten and puts the newest first. No policy is applied: it is a sample of what the
 * registry holds, not what any ImagePolicy would choose.
 */
export function latestTags(tags: readonly string[], count = LATEST_TAGS_COUNT): string[] {
  return tags.slice(-count).reverse();
}

export interface ScanDueInput {
  record: ScanRecord | undefined;
  uid: string | undefined;
  generation: number | undefined;
  image: string;
  requestedAt: string | undefined;
  status: ImageRepositoryStatus | undefined;
  intervalMs: number;
  nowMs: number;
}

/**
 * Whether to scan now, and otherwise how long until the interval is up. A scan is due when there
 * are no tags for this object and spec, on a new `requestedAt`, after a failed attempt, and
 * once the interval has passed since the last successful scan.
 */
export function scanDue(input: ScanDueInput): { now: true } | { now: false; inMs: number } {
  const { record } = input;
  if (!record || record.uid !== input.uid || record.generation !== input.generation || record.image !== input.image) return { now: true };
  if (input.requestedAt !== undefined && input.requestedAt !== input.status?.lastHandledRequestedAt) return { now: true };
  if (findCondition(input.status?.conditions, ConditionType.Ready)?.status !== 'True') return { now: true };
  const elapsed = input.nowMs - record.scanTimeMs;
  if (elapsed >= input.intervalMs || elapsed < 0) return { now: true };
  return { now: false, inMs: input.intervalMs - elapsed };
}

function base(previous: ImageRepositoryStatus | undefined, ctx: StatusContext): ImageRepositoryStatus {
  const status: ImageRepositoryStatus = { ...previous };
  if (ctx.handledRequest !== undefined) status.lastHandledRequestedAt = ctx.handledRequest;
  return status;
}

/** After a successful scan; an Event when the number of tags changed (or on the first scan). */
export function scannedStatus(
  previous: ImageRepositoryStatus | undefined,
  scan: Pick<ScanRecord, 'canonicalImageName' | 'tags' | 'scanTimeMs'>,
  ctx: StatusContext,
): { status: ImageRepositoryStatus; events: PlannedEvent[] } {
  const count = scan.tags.length;
  const status = base(previous, ctx);
  status.canonicalImageName = scan.canonicalImageName;
  status.lastScanResult = { tagCount: count, scanTime: rfc3339(scan.scanTimeMs), latestTags: latestTags(scan.tags) };
  if (ctx.generation !== undefined) status.observedGeneration = ctx.generation;
  status.conditions = readyConditions(previous?.conditions, `successful scan: found ${count} tags`, ctx);
  const before = previous?.lastScanResult?.tagCount;
  const events: PlannedEvent[] =
    before === count
      ? []
      : [
          {
            type: 'Normal',
            reason: Reason.Succeeded,
            message: before === undefined ? `found ${count} tags` : `found ${count} tags (was ${before})`,
          },
        ];
  return { status, events };
}

/**
 * A failed scan or an invalid spec: the last scan result stays (policies keep choosing from the
 * tags they have). `stalled` for problems only a spec change can fix.
 */
export function failedStatus(
  previous: ImageRepositoryStatus | undefined,
  error: TidemarkError,
  ctx: StatusContext & { stalled: boolean; canonicalImageName?: string | undefined },
): { status: ImageRepositoryStatus; events: PlannedEvent[] } {
  const message = describeError(error);
  const status = base(previous, ctx);
  if (ctx.canonicalImageName !== undefined) status.canonicalImageName = ctx.canonicalImageName;
  if (ctx.generation !== undefined) status.observedGeneration = ctx.generation;
  status.conditions = notReadyConditions(previous?.conditions, error.code, message, ctx.stalled, ctx);
  return { status, events: [{ type: 'Warning', reason: error.code, message }] };
}

/**
 * A scan waiting to retry a failed request: the registry asked us to wait (429 Retry-After) or
 * failed (5xx, unreachable). Reconciling with the error's own reason and the wait, so the object
 * does not read "scanning" for as long as a Retry-After lasts; the last scan result stays.
 */
export function waitingStatus(previous: ImageRepositoryStatus | undefined, wait: RetryWait, ctx: StatusContext): ImageRepositoryStatus {
  const why = wait.retryAfter ? "as the registry's Retry-After asks" : 'backing off';
  const next = `attempt ${wait.nextAttempt} of ${wait.attempts}`;
  const message = `waiting ${formatDuration(wait.delayMs)} before ${next} (${why}): ${describeError(wait.error)}`;
  return { ...previous, conditions: progressingConditions(previous?.conditions, message, ctx, wait.error.code) };
}

/** A new spec is being scanned for the first time. */
export function progressingStatus(previous: ImageRepositoryStatus | undefined, image: string, ctx: StatusContext): ImageRepositoryStatus {
  return { ...previous, conditions: progressingConditions(previous?.conditions, `scanning ${image}`, ctx) };
}

export function suspendedStatus(previous: ImageRepositoryStatus | undefined, ctx: StatusContext): ImageRepositoryStatus {
  const status = base(previous, ctx);
  if (ctx.generation !== undefined) status.observedGeneration = ctx.generation;
  status.conditions = notReadyConditions(
    previous?.conditions,
    Reason.Suspended,
    'scanning is suspended; the last scan result stays',
    false,
    ctx,
  );
  return status;
}
