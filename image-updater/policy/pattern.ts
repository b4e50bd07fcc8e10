import RE2 from 're2';
import { terminal, type Reason } from '../../shared/errors/index.ts';

/** A user-supplied regular expression compiled with RE2: linear-time matching, Go syntax. */
export interface CompiledPattern {
  source: string;
  regex: RE2;
  /** Number of capturing groups; `$N` above this expands to nothing. */
  groupCount: number;
  /** Names of the `(?P<name>...)` groups. */
  groupNames: ReadonlySet<string>;
}

export interface PatternContext {
  /** Error code (condition reason) when the pattern does not compile. */
  code: Reason;
  /** Where the pattern came from, e.g. `filterTags.pattern`. */
  field: string;
  hint: string;
}

/**
 * Compiles a pattern in RE2 syntax, which is what Go's `regexp` (and so Flux) accepts, including
 * `(?P<name>...)`. Matching is linear in the tag length whatever the pattern, so a hostile tag
 * list cannot stall a scan. The `re2` binding also takes a few JavaScript spellings Go does not
 * (`\uXXXX`, `\cX`); they mean the same thing, so accepting them harms no one.
 *
 * Throws a terminal error naming the problem and where it is in the pattern.
 */
export function compilePattern(source: string, context: PatternContext): CompiledPattern {
  let regex: RE2;
  try {
    regex = new RE2(source, 'u');
  } catch (err) {
    throw terminal(
      context.code,
      `${context.field} ${JSON.stringify(source)} is not a valid RE2 pattern: ${describeSyntaxError(source, err)}`,
      context.hint,
      err,
    );
  }
  const { groupCount, groupNames } = groupsOf(source);
  return { source, regex, groupCount, groupNames };
}

/**
 * RE2 reports `<problem>: <fragment>` where the fragment is the offending piece of the pattern
 * (for an unclosed class, everything from its `[` to the end). Turn that into an offset a user
 * can find; when the fragment is the whole pattern there is no better position to give.
 */
export function describeSyntaxError(source: string, err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const colon = text.indexOf(': ');
  if (colon < 0) return text;
  const problem = text.slice(0, colon);
  const fragment = text.slice(colon + 2);
  if (fragment === '' || fragment === source) return problem === 'missing )' ? 'missing ) at end of pattern' : problem;
  const offset = source.endsWith(fragment) && problem.startsWith('missing') ? source.length - fragment.length : source.indexOf(fragment);
  return offset >= 0 ? `${problem} at offset ${offset} (${JSON.stringify(fragment)})` : `${problem} (${JSON.stringify(fragment)})`;
}

/**
 * The binding does not expose the group table, so ask RE2 itself: `pattern|` always matches the
 * empty string and reports every group (unset) and every group name. A pattern that ends inside
 * `\Q...` would swallow the `|`, so that case closes the quote first.
 */
function groupsOf(source: string): { groupCount: number; groupNames: Set<string> } {
  for (const probe of [`${source}|`, `${source}\\E|`]) {
    let match: RegExpExecArray | null;
    try {
      match = new RE2(probe, 'u').exec('');
    } catch {
      continue;
    }
    if (match) return { groupCount: match.length - 1, groupNames: new Set(Object.keys(match.groups ?? {})) };
  }
  // Unreachable for a pattern RE2 compiled; report no groups rather than guess.
  return { groupCount: 0, groupNames: new Set() };
}
