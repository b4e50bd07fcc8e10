/** Small, pure statistics for benchmark samples. */

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * The median of per-pair ratios ours[i] / peer[i]. Pairs ran back to back, so machine noise
 * that hits both sides of a pair cancels in its ratio; the median then drops outlier pairs.
 */
export function pairedRatio(ours: readonly number[], peer: readonly number[]): number {
  const n = Math.min(ours.length, peer.length);
  const ratios: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = peer[i] as number;
    if (p > 0) ratios.push((ours[i] as number) / p);
  }
  return median(ratios);
}

/** Least-squares slope of log(cost) over log(size): 1 is linear, 2 quadratic, 0 flat. */
export function growthExponent(points: ReadonlyArray<{ size: number; cost: number }>): number {
  const usable = points.filter((p) => p.size > 0 && p.cost > 0);
  if (usable.length < 2) return Number.NaN;
  const xs = usable.map((p) => Math.log(p.size));
  const ys = usable.map((p) => Math.log(p.cost));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    den += ((xs[i] as number) - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}
