import { formatDuration } from '../time/duration.ts';

/**
 * The bounds the spec readers hold tenant-written durations to (issue 21). Each is also in the
 * CRD's description; the readers repeat the check because the API server may not have applied
 * our schema.
 */

/**
 * The longest interval of any kind (pullInterval, ImageRepository and ImageUpdateAutomation
 * interval): a day. Longer intervals buy nothing a suspended object does not, and a timer cannot
 * hold more than about 24.8 days without overflowing into a 1 ms loop.
 */
export const MAX_INTERVAL_MS = 24 * 3_600_000;

export const MAX_INTERVAL_HINT = `poll at least once a day (at most ${formatDuration(MAX_INTERVAL_MS)}); suspend the object to stop it`;

/**
 * The longest `spec.timeout` of a ContinuousDeployment: an hour. It bounds each Git call and all
 * of one reconcile's waits together (CRDs and Namespaces ready, health before a pruneLast prune).
 */
export const MAX_TIMEOUT_MS = 3_600_000;

export const MAX_TIMEOUT_HINT = `a reconcile waits at most ${formatDuration(MAX_TIMEOUT_MS)}; anything slower is retried on the next run`;

/**
 * The longest ImageRepository `spec.timeout` (one scan, every page and retry included): 10
 * minutes. It defaults to the interval, as in Flux, held to this bound.
 */
export const MAX_SCAN_TIMEOUT_MS = 10 * 60_000;

export const MAX_SCAN_TIMEOUT_HINT = `a scan may take at most ${formatDuration(MAX_SCAN_TIMEOUT_MS)}`;
