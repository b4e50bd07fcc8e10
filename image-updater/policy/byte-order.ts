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
 * Sorts strings in byte order, in place. Without a comparator the engine compares UTF-16 code
 * units in native code, with no callback per comparison; that is byte order unless a string holds
 * a unit at or above U+D800, which is checked once per string.
 */
export function sortStringsByBytes(strings: string[]): string[] {
  return strings.some((s) => WIDE_UNIT.test(s)) ? strings.sort(compareBytes) : strings.sort();
}
