import type { AlphabeticalPolicySpec, SortOrder } from '../../shared/api/image.ts';
import { compareBytes } from './byte-order.ts';
import { chooseBest } from './choose.ts';
import { readOrder } from './order.ts';
import type { Candidate, Policy } from './types.ts';

/**
 * Byte order of the values, as Go's `sort.Strings` (never locale collation: `B` < `a`, `10` <
 * `9`). `asc`: the last value is newest; `desc`: the first.
 */
export class AlphabeticalPolicy implements Policy {
  readonly kind = 'alphabetical';
  readonly order: SortOrder;

  /** Throws InvalidPolicy for an order other than asc or desc. */
  constructor(spec: AlphabeticalPolicySpec | undefined) {
    this.order = readOrder('alphabetical', spec);
  }

  select(candidates: readonly Candidate[]): Candidate | null {
    const direction = this.order === 'asc' ? 1 : -1;
    const best = chooseBest(candidates, (a, b) => direction * compareBytes(a.value, b.value));
    return best && { tag: best.tag, value: best.value };
  }
}
