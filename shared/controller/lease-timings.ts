/** Leader election timings, apart from the elector so the CLI can read its flags without loading it. */
export interface LeaseTimings {
  /** How long a standby waits after the last renewal it saw before taking over (client-go: 15 s). */
  leaseDurationMs: number;
  /** How long a leader keeps trying to renew before it gives up leading (10 s). */
  renewDeadlineMs: number;
  /** How often the leader renews and a standby tries to acquire (2 s). */
  retryPeriodMs: number;
}

export const DEFAULT_LEASE_TIMINGS: LeaseTimings = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };
