import { describeError, type TidemarkError } from '../../shared/errors/index.ts';
import type { DigestReflectionPolicy, ImagePolicyStatus, ImageRef } from '../../shared/api/image.ts';
import { notReadyConditions, readyConditions } from '../../shared/conditions/ready.ts';
import type { PlannedEvent } from '../../shared/kube/events.ts';
import { Reason, type StatusContext } from './reasons.ts';

export const POLICY_STATUS_FIELDS = [
  'latestRef',
  'observedPreviousRef',
  'observedGeneration',
  'lastHandledRequestedAt',
  'conditions',
] as const;

export type PolicyOutcome =
  /** A tag was chosen (and its digest looked up, when the policy asks for it). */
  | { kind: 'resolved'; ref: ImageRef; candidates: number }
  /** The spec is invalid (stalled: only a spec change helps), no tag qualifies, or the digest lookup failed. */
  | { kind: 'failed'; error: TidemarkError; stalled: boolean }
  /** The ImageRepository is missing or not scanned yet. */
  | { kind: 'waiting'; message: string };

export function sameRef(a: ImageRef | undefined, b: ImageRef | undefined): boolean {
  if (!a || !b) return a === b;
  return a.name === b.name && a.tag === b.tag && (a.digest ?? '') === (b.digest ?? '');
}

export function describeRef(ref: ImageRef): string {
  return `${ref.name}:${ref.tag}${ref.digest ? `@${ref.digest}` : ''}`;
}

/**
 * Whether the chosen tag's digest must be looked up. `IfNotPresent` keeps the digest already in
 * the status while the same image and tag stay chosen; `Always` asks the registry every time.
 */
export function digestPlan(
  policy: DigestReflectionPolicy,
  previous: ImageRef | undefined,
  name: string,
  tag: string,
): { lookup: false; digest: string | undefined } | { lookup: true } {
  if (policy === 'Never') return { lookup: false, digest: undefined };
  if (policy === 'IfNotPresent' && previous?.digest && previous.name === name && previous.tag === tag) {
    return { lookup: false, digest: previous.digest };
  }
  return { lookup: true };
}

/**
 * The status after one reconcile. A failure keeps the last latestRef: automations go on using
 * the image chosen before rather than nothing. A new latestRef moves the old one to
 * observedPreviousRef and is announced with a NewImage Event.
 */
export function nextPolicyStatus(
  previous: ImagePolicyStatus | undefined,
  outcome: PolicyOutcome,
  ctx: StatusContext,
): { status: ImagePolicyStatus; events: PlannedEvent[] } {
  const status: ImagePolicyStatus = {
    ...previous,
    ...(ctx.generation === undefined ? {} : { observedGeneration: ctx.generation }),
  };
  if (ctx.handledRequest !== undefined) status.lastHandledRequestedAt = ctx.handledRequest;
  const events: PlannedEvent[] = [];
  switch (outcome.kind) {
    case 'resolved': {
      const ref = outcome.ref;
      const before = previous?.latestRef;
      if (!sameRef(before, ref)) {
        if (before) status.observedPreviousRef = before;
        status.latestRef = ref;
        events.push({
          type: 'Normal',
          reason: Reason.NewImage,
          message: before
            ? `latest image changed from ${describeRef(before)} to ${describeRef(ref)}`
            : `latest image is ${describeRef(ref)}`,
        });
      }
      const of = outcome.candidates === 1 ? '1 candidate tag' : `${outcome.candidates} candidate tags`;
      status.conditions = readyConditions(previous?.conditions, `latest image tag for ${ref.name} resolved to ${ref.tag} (of ${of})`, ctx);
      break;
    }
    case 'failed': {
      const message = describeError(outcome.error);
      status.conditions = notReadyConditions(previous?.conditions, outcome.error.code, message, outcome.stalled, ctx);
      events.push({ type: 'Warning', reason: outcome.error.code, message });
      break;
    }
    case 'waiting':
      status.conditions = notReadyConditions(previous?.conditions, Reason.DependencyNotReady, outcome.message, false, ctx);
      break;
  }
  return { status, events };
}
