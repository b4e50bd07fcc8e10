import { terminal } from '../../shared/errors/index.ts';
import type { NumericalPolicySpec, SortOrder } from '../../shared/api/image.ts';
import { chooseBest } from './choose.ts';
import { readOrder } from './order.ts';
import type { Candidate, Policy } from './types.ts';

/**
 * A decimal number compared exactly. Flux parses values with Go's `ParseFloat`, so build numbers
 * beyond 2^53 (20-digit timestamps such as 20240101123456789012) collapse onto the same float and
 * the "newest" becomes arbitrary. Here the digits are compared as text: any length, exact.
 *
 * Accepted: optional sign, digits, optional fraction (`42`, `-7`, `+3`, `1.50`, `5.`, `.5`,
 * leading zeros). Refused, although `ParseFloat` takes them: exponents (`1e3`), `Inf`, `NaN`,
 * hex floats and `_` separators. In tag space those shapes come from hex digests and version
 * fragments (`1e3` is a short commit hash), where reading them as numbers orders nonsense; a
 * build number never needs them.
 */
export interface Decimal {
  negative: boolean;
  /** Integer digits without leading zeros (`''` for zero). */
  integer: string;
  /** Fraction digits without trailing zeros. */
  fraction: string;
}

const DECIMAL = /^([+-]?)(?:([0-9]+)(?:\.([0-9]*))?|\.([0-9]+))$/;

export function parseDecimal(text: string): Decimal | undefined {
  const match = DECIMAL.exec(text);
  if (!match) return undefined;
  const integer = (match[2] ?? '').replace(/^0+/, '');
  const fraction = (match[3] ?? match[4] ?? '').replace(/0+$/, '');
  const zero = integer === '' && fraction === '';
  return { negative: match[1] === '-' && !zero, integer, fraction };
}

export function compareDecimals(a: Decimal, b: Decimal): number {
  if (a.negative !== b.negative) return a.negative ? -1 : 1;
  const magnitude = compareMagnitudes(a, b);
  return a.negative ? -magnitude : magnitude;
}

function compareMagnitudes(a: Decimal, b: Decimal): number {
  if (a.integer.length !== b.integer.length) return a.integer.length - b.integer.length;
  if (a.integer !== b.integer) return a.integer < b.integer ? -1 : 1;
  // Without trailing zeros, digit strings order like the fractions they spell.
  if (a.fraction !== b.fraction) return a.fraction < b.fraction ? -1 : 1;
  return 0;
}

export class NumericalPolicy implements Policy {
  readonly kind = 'numerical';
  readonly order: SortOrder;

  /** Throws InvalidPolicy for an order other than asc or desc. */
  constructor(spec: NumericalPolicySpec | undefined) {
    this.order = readOrder('numerical', spec);
  }

  /**
   * `asc`: the largest value is newest; `desc`: the smallest. Like Flux, one value that is not a
   * number fails the whole policy — picking among the rest could silently pick an old tag — but
   * the error names the tag so the filter can be narrowed.
   */
  select(candidates: readonly Candidate[]): Candidate | null {
    const parsed = candidates.map((candidate) => {
      const number = parseDecimal(candidate.value);
      if (!number) throw notANumber(candidate);
      return { ...candidate, number };
    });
    const direction = this.order === 'asc' ? 1 : -1;
    const best = chooseBest(parsed, (a, b) => direction * compareDecimals(a.number, b.number));
    return best && { tag: best.tag, value: best.value };
  }
}

function notANumber(candidate: Candidate) {
  const what =
    candidate.value === candidate.tag
      ? `tag ${JSON.stringify(candidate.tag)} is not a decimal number`
      : `tag ${JSON.stringify(candidate.tag)} extracts ${JSON.stringify(candidate.value)}, which is not a decimal number`;
  return terminal(
    'InvalidNumericalValue',
    `numerical policy: ${what}`,
    'narrow filterTags.pattern so that only numeric values are extracted (exponents, Inf and NaN are not accepted), ' +
      'or use the alphabetical or semver policy',
  );
}
