/**
 * Byte order of the UTF-8 encodings, which is Go's string order and the order of Unicode code
 * points. JavaScript's `<` compares UTF-16 code units instead; the two disagree only when a
 * surrogate (U+D800–U+DFFF, used for code points above U+FFFF) meets a unit in U+E000–U+FFFF,
 * so those two ranges are swapped before comparing. Locale collation is never used: the order
 * must not depend on where the controller runs.
 */
export function compareBytes(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit >= 0xe000) return unit - 0x800;
  if (unit >= 0xd800) return unit + 0x2000;
  return unit;
}

/** Units at or above U+D800: where UTF-16 order and byte order can disagree. */
const WIDE_UNIT = /[\uD800-\uFFFF]/;

/**
 * Sorts in byte order. JavaScript's own string comparison (compiled, no per-unit callback work)
 * agrees with byte order unless a string holds a unit at or above U+D800, so that check is made
 * once per item instead of once per comparison.
 */
export function sortByBytes<T>(items: T[], key: (item: T) => string): T[] {
  if (items.some((item) => WIDE_UNIT.test(key(item)))) return items.sort((a, b) => compareBytes(key(a), key(b)));
  return items.sort((a, b) => {
    const x = key(a);
    const y = key(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}
