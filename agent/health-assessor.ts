import type { Clock } from '../shared/time/clock.ts';
import type { HealthAssessor } from './types.ts';
import { assessHealth } from './health/index.ts';

/** Binds the pure per-kind health rules to the clock and the facts the caller read; an absent object is Missing. */
export function createHealthAssessor(options: {
  clock: Clock;
  ingressRequiresAddress?: boolean;
  loadBalancerRequiresIngress?: boolean;
}): HealthAssessor {
  return (live, facts) => {
    if (!live) return { status: 'Missing', message: 'not found in the cluster' };
    return assessHealth(live, {
      now: options.clock.now(),
      options: {
        ingressRequiresAddress: options.ingressRequiresAddress ?? true,
        loadBalancerRequiresIngress: options.loadBalancerRequiresIngress ?? true,
      },
      exprs: facts?.exprs,
      crd: facts?.crd,
    });
  };
}
