/** Go's `\s`: space, tab, newline, form feed, carriage return (no vertical tab, no Unicode spaces). */
export const GO_SPACE = '[\\t\\n\\f\\r ]';

const PART = '[0-9|xX*]+';
const IDENTIFIERS = '[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*';
/** Masterminds' cvRegex, groups included: a version in a range, wildcards and a `|` (its own quirk) allowed. */
const RANGE_VERSION = `v?(${PART})(\\.${PART})?(\\.${PART})?(-(${IDENTIFIERS}))?(\\+(${IDENTIFIERS}))?`;

// Masterminds' constraintRangeRegex. JavaScript's backtracking gives the same leftmost-first
// matches as Go here; its repetitions cannot trade characters (dots, "-" and "+" delimit them),
// so the cost stays quadratic at worst, and parseRange caps the length.
const HYPHEN_RANGE = new RegExp(`${GO_SPACE}*(${RANGE_VERSION})${GO_SPACE}+-${GO_SPACE}+(${RANGE_VERSION})${GO_SPACE}*`, 'g');

/**
 * `1.2 - 1.4.5` → `>= 1.2, <= 1.4.5 `, before anything else is parsed and across `||`, exactly
 * as Masterminds' rewriteRange does: each match is replaced where its text first occurs in the
 * string rewritten so far, which is not always where it was found.
 */
export function rewriteHyphenRanges(source: string): string {
  if (!source.includes('-')) return source;
  let out = source;
  for (const match of source.matchAll(HYPHEN_RANGE)) {
    const at = out.indexOf(match[0]);
    if (at < 0) continue;
    out = `${out.slice(0, at)}>= ${match[1]}, <= ${match[11]} ${out.slice(at + match[0].length)}`;
  }
  return out;
}
