import { terminal } from '../../shared/errors/index.ts';
import { DEFAULT_EXCLUSION_LIST, type TagFilterSpec } from '../../shared/api/image.ts';
import { compareBytes, sortStringsByBytes } from './byte-order.ts';
import { expandParts, parseTemplate, type TemplatePart } from './expand.ts';
import { compilePattern, type CompiledPattern } from './pattern.ts';
import type { Candidate } from './types.ts';

const PATTERN_HINT =
  'filterTags.pattern uses Go/RE2 syntax, e.g. ^main-[a-f0-9]+-(?P<ts>[0-9]+); lookarounds and backreferences are not supported';

/**
 * `filterTags`: keeps the tags the pattern matches (unanchored unless the pattern anchors itself)
 * and computes each one's value from `extract`. Compiled once when the configuration is loaded.
 */
export class TagFilter {
  readonly pattern: string;
  readonly extract: string;
  private readonly compiled: CompiledPattern | undefined;
  private readonly template: readonly TemplatePart[] | undefined;
  /**
   * Each tag's outcome at the last `apply` (its value, or null when excluded or not matched), so a
   * rescan sends only new tags through RE2: a native call costs about a microsecond per tag, which
   * dominated a 10,000-tag scan. Holds only the tags of the latest listing (a slot per tag, the
   * outcome in `values`), and is dropped when a different exclusion list is passed.
   */
  private slots = new Map<string, number>();
  private values: (string | null)[] = [];
  private memoFor: ExclusionList | undefined;
  /** What `apply` returned for the tags in `slots`; frozen, as callers share it. */
  private candidates: readonly Candidate[] | undefined;
  /**
   * Per slot, the last check that met its tag: a rescan tells "the same tags again" (each known,
   * none twice, as many) without building a map for it.
   */
  private lastSeen = new Uint32Array(0);
  private check = 0;

  constructor(spec: TagFilterSpec | undefined) {
    this.pattern = spec?.pattern ?? '';
    this.extract = spec?.extract ?? '';
    this.compiled =
      this.pattern === ''
        ? undefined
        : compilePattern(this.pattern, {
            code: 'InvalidFilterPattern',
            field: 'filterTags.pattern',
            hint: PATTERN_HINT,
          });
    if (this.extract === '') {
      this.template = undefined;
      return;
    }
    if (!this.compiled) {
      throw terminal(
        'InvalidFilterExtract',
        `filterTags.extract ${JSON.stringify(this.extract)} is set without filterTags.pattern, so it has no groups to extract from`,
        'add a pattern with a capturing group, e.g. pattern ^main-[a-f0-9]+-(?P<ts>[0-9]+) with extract $ts',
      );
    }
    const parts = parseTemplate(this.extract);
    checkReferences(parts, this.compiled, this.extract);
    this.template = parts;
  }

  /** The value this tag is ordered by, or `undefined` when the pattern does not match it. */
  valueOf(tag: string): string | undefined {
    const compiled = this.compiled;
    if (!compiled) return tag;
    const match = compiled.regex.exec(tag);
    if (!match) return undefined;
    // Flux: an empty extract keeps the whole tag, not just the matched part.
    return this.template ? expandParts(this.template, match) : tag;
  }

  /**
   * Candidates in byte order of their tags, one per distinct value. Flux keys tags by value in a
   * map, so when two tags extract the same value (`1.2.3` and `v1.2.3` with `extract: $v`) the
   * survivor depends on listing order. Here the tag that sorts last in byte order is kept, which
   * depends only on the tag set and agrees with the tie rule every policy uses. The same set of
   * tags as in the last call returns the same (frozen) array.
   */
  apply(tags: readonly string[], exclusions?: ExclusionList): readonly Candidate[] {
    const sameExclusions = this.memoFor === exclusions;
    // The same set of tags as last time gives the same candidates: a rescan of an unchanged
    // repository skips the de-duplication and the sort, and `decide` reuses the policy's choice.
    if (sameExclusions && this.candidates !== undefined && this.sameTags(tags)) return this.candidates;
    const previousSlots = sameExclusions ? this.slots : new Map<string, number>();
    const previousValues = this.values;
    const slots = new Map<string, number>();
    const values: (string | null)[] = [];
    for (const tag of tags) {
      if (slots.has(tag)) continue;
      const previous = previousSlots.get(tag);
      let value: string | null;
      if (previous !== undefined) value = previousValues[previous] as string | null;
      else value = exclusions?.excludes(tag) ? null : (this.valueOf(tag) ?? null);
      slots.set(tag, values.length);
      values.push(value);
    }
    this.slots = slots;
    this.values = values;
    this.memoFor = exclusions;
    this.lastSeen = new Uint32Array(values.length);
    this.check = 0;
    const byValue = new Map<string, string>();
    for (const [tag, slot] of slots) {
      const value = values[slot] as string | null;
      if (value === null) continue;
      const kept = byValue.get(value);
      if (kept === undefined || compareBytes(tag, kept) > 0) byValue.set(value, tag);
    }
    const kept = sortStringsByBytes([...byValue.values()]);
    this.candidates = Object.freeze(kept.map((tag) => ({ tag, value: values[slots.get(tag) as number] as string })));
    return this.candidates;
  }

  /** Whether `tags` holds exactly the tags of the last `apply`, each once, in any order. */
  private sameTags(tags: readonly string[]): boolean {
    if (tags.length !== this.slots.size) return false;
    if (this.check === 0xffffffff) {
      this.lastSeen.fill(0);
      this.check = 0;
    }
    const check = ++this.check;
    for (const tag of tags) {
      const slot = this.slots.get(tag);
      if (slot === undefined || this.lastSeen[slot] === check) return false;
      this.lastSeen[slot] = check;
    }
    return true;
  }
}

/**
 * Go silently expands a reference to a missing group as nothing, which turns a typo (`$tsx` for
 * `${ts}x`, `$timestamp` for `(?P<ts>...)`) into every tag having the same empty value. The
 * template is checked against the pattern's groups up front instead.
 */
function checkReferences(parts: readonly TemplatePart[], compiled: CompiledPattern, extract: string): void {
  const { groupCount, groupNames: names } = compiled;
  for (const part of parts) {
    if (part.kind !== 'ref') continue;
    const known = part.index >= 0 ? part.index <= groupCount : names.has(part.name);
    if (known) continue;
    const available = [
      ...(groupCount === 1 ? ['$1'] : groupCount > 1 ? [`$1..$${groupCount}`] : []),
      ...[...names].map((name) => `$${name}`),
    ];
    const longest = part.index < 0 ? longestKnownPrefix(part.name, names, groupCount) : undefined;
    throw terminal(
      'InvalidFilterExtract',
      `filterTags.extract ${JSON.stringify(extract)} refers to ${part.written}, but filterTags.pattern ${JSON.stringify(
        compiled.source,
      )} has no such group (it has ${available.length > 0 ? available.join(', ') : 'no groups'}, and $0 for the whole match)`,
      longest
        ? `a $name reference takes as many letters, digits and _ as it can: ` +
            `write \${${longest}}${part.name.slice(longest.length)} to follow ${part.written.slice(0, longest.length + 1)} with text`
        : 'name a group of the pattern, e.g. (?P<ts>[0-9]+) with extract $ts',
    );
  }
}

function longestKnownPrefix(name: string, names: ReadonlySet<string>, groupCount: number): string | undefined {
  for (let end = name.length - 1; end > 0; end--) {
    const prefix = name.slice(0, end);
    if (names.has(prefix)) return prefix;
    if (/^(0|[1-9][0-9]*)$/.test(prefix) && Number(prefix) <= groupCount) return prefix;
  }
  return undefined;
}

/**
 * Tags that never become candidates, checked before the filter. Flux's default excludes cosign
 * signature tags (`^.*\.sig$`). Unlike Flux, an explicit empty list means "exclude nothing"
 * rather than falling back to the default, so signature tags can be opted back in.
 */
export class ExclusionList {
  readonly patterns: readonly string[];
  private readonly compiled: readonly CompiledPattern[];
  /**
   * Each tag's outcome at the last `keep`, for the same reason as TagFilter's: the scan of an
   * ImageRepository applies the list to every listed tag, and tags change little between scans.
   */
  private memo = new Map<string, boolean>();

  constructor(patterns: readonly string[] | undefined) {
    this.patterns = patterns ?? DEFAULT_EXCLUSION_LIST;
    this.compiled = this.patterns.map((source, index) =>
      compilePattern(source, {
        code: 'InvalidExclusionPattern',
        field: `exclusionList[${index}]`,
        hint: 'exclusionList entries use Go/RE2 syntax, e.g. ^.*\\.sig$',
      }),
    );
  }

  excludes(tag: string): boolean {
    return this.compiled.some((pattern) => pattern.regex.test(tag));
  }

  /** The tags no pattern matches, in their order; only tags the last call did not see reach RE2. */
  keep(tags: readonly string[]): string[] {
    if (this.compiled.length === 0) return [...tags];
    const known: string[] = [];
    for (const tag of tags) {
      const excluded = this.memo.get(tag);
      if (excluded === undefined) return this.keepAndRemember(tags);
      if (!excluded) known.push(tag);
    }
    // Nothing new: the memo stays as it is (it may still hold tags that went away).
    return known;
  }

  private keepAndRemember(tags: readonly string[]): string[] {
    const previous = this.memo;
    const current = new Map<string, boolean>();
    const kept: string[] = [];
    for (const tag of tags) {
      let excluded = previous.get(tag);
      if (excluded === undefined) excluded = this.excludes(tag);
      current.set(tag, excluded);
      if (!excluded) kept.push(tag);
    }
    this.memo = current;
    return kept;
  }
}
