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
