import { compareBytes } from './byte-order.ts';
import type { Candidate } from './types.ts';

/**
 * The candidate that ranks highest by `rank`. Ties (two values the policy considers equal, such
 * as `1.0.0` and `v1.0.0`, or `10` and `010`) go to the tag that sorts last in byte order: the
 * answer then depends only on the set of tags, never on the order a registry happened to list
 * them in (Flux keeps whichever it saw first or last), and byte order is the one order Tidemark
 * already defines for tags (alphabetical `asc` also takes the last).
 */
export function chooseBest<T extends Candidate>(items: readonly T[], rank: (a: T, b: T) => number): T | null {
  let best: T | null = null;
  for (const item of items) {
    if (best === null) {
      best = item;
      continue;
    }
    const order = rank(item, best);
    if (order > 0 || (order === 0 && compareBytes(item.tag, best.tag) > 0)) best = item;
  }
  return best;
}
