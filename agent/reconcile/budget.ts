import { transient } from '../../shared/errors/index.ts';
import type { Clock } from '../../shared/time/clock.ts';
import { formatDuration } from '../../shared/time/duration.ts';
import type { ObjectRef } from '../../shared/kube/object.ts';
import { ResourceManager, type PlannedObject } from '../../shared/kube/resource-manager.ts';
import type { StepContext } from './context.ts';

/**
 * One reconcile's time budget: `spec.timeout` (at most an hour) from its start. Git and the render
 * are aborted when it is spent (`signal`); the waits end at `deadline` and let the run finish.
 */
export interface RunBudget {
  /** When the waits end, on the run's clock. */
  deadline: number;
  /** The caller's signal, also aborted with a transient ReconcileTimeout when the budget is spent. */
  signal: AbortSignal;
  /** The run is over: stops the timer. */
  end(): void;
}

export function runBudget(clock: Clock, timeoutMs: number, stop: AbortSignal): RunBudget {
  const spent = new AbortController();
  const ended = new AbortController();
  clock.sleep(timeoutMs, AbortSignal.any([stop, ended.signal])).then(
    () =>
      spent.abort(
        transient('ReconcileTimeout', `the reconcile took longer than spec.timeout (${formatDuration(timeoutMs)}); it is retried`),
      ),
    () => undefined, // ended or stopped first
  );
  return { deadline: clock.now() + timeoutMs, signal: AbortSignal.any([stop, spent.signal]), end: () => ended.abort() };
}

/** When this run's waits end: the budget's deadline, or `spec.timeout` from now without one (a plan). */
export function waitDeadline(ctx: StepContext): number {
  return ctx.deps.deadline ?? ctx.deps.clock.now() + ctx.input.config.timeoutMs;
}

/** The newer intent that ends this run's waits, once there is one: what the run was superseded by. */
export function supersededBy(ctx: StepContext): string | undefined {
  const newer = ctx.deps.newer;
  if (!newer?.aborted) return undefined;
  return typeof newer.reason === 'string' ? newer.reason : 'a newer revision';
}

/**
 * Sleeps `ms`, never past `deadline`, without holding one of the controller's workers meanwhile
 * (the run is parked): a deployment that waits for health cannot starve the others. A newer
 * intent ends the sleep early; the waits see it with `supersededBy`.
 */
export function pause(ctx: StepContext, ms: number, deadline: number): Promise<void> {
  const { deps } = ctx;
  // Once superseded a pause sleeps in full: a wait that does not look at supersededBy still never spins.
  const signals = [deps.signal, deps.newer?.aborted ? undefined : deps.newer].filter((s) => s !== undefined);
  const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
  const sleep = () =>
    deps.clock.sleep(Math.max(0, Math.min(ms, deadline - deps.clock.now())), signal).catch((err: unknown) => {
      if (deps.signal?.aborted || !deps.newer?.aborted) throw err;
    });
  return deps.park ? deps.park(sleep) : sleep();
}

/** CRDs established and Namespaces active, polled until the run's deadline; the refs still not ready. */
export function waitForFoundation(ctx: StepContext, planned: readonly PlannedObject[]): Promise<ObjectRef[]> {
  const deadline = waitDeadline(ctx);
  // A newer intent ends this wait as its deadline does: from then on the deadline has passed.
  const now = () => (supersededBy(ctx) ? Infinity : ctx.deps.clock.now());
  // The same library call, with sleeps that park the run and end at the deadline.
  const resources = new ResourceManager(ctx.deps.kube, { clock: { now, sleep: (ms) => pause(ctx, ms, deadline) } });
  return resources.waitForFoundation(planned, Math.max(0, deadline - ctx.deps.clock.now()));
}
