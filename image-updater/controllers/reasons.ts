import type { ConditionContext } from '../../shared/conditions/ready.ts';
import { SummaryReason } from '../../shared/conditions/ready.ts';
import type { Reason as ReasonCode } from '../../shared/errors/index.ts';

/** One vocabulary for the image kinds: condition reasons and Event reasons that are not error codes. */
export const Reason = {
  ...SummaryReason,
  Suspended: 'Suspended',
  DependencyNotReady: 'DependencyNotReady',
  NewImage: 'NewImage',
} as const satisfies Record<string, ReasonCode>;

/** What the status functions of the image kinds are given besides the outcome. */
export interface StatusContext extends ConditionContext {
  /** The `tidemark.dev/requestedAt` value this reconcile answered, if any. */
  handledRequest?: string | undefined;
}
