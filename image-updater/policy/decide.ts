import { isTidemarkError, terminal, type TidemarkError } from '../../shared/errors/index.ts';
import type { ImagePolicyChoice, TagFilterSpec } from '../../shared/api/image.ts';
import { ExclusionList, TagFilter } from './filter.ts';
import { createPolicy } from './policy.ts';
import type { Candidate, Policy } from './types.ts';

/**
 * What `decide` needs. Each part may be given as written in a spec or already compiled; the
 * controller compiles once when it loads the configuration and passes the compiled forms.
 */
export interface DecideOptions {
  filterTags?: TagFilterSpec | TagFilter;
  /** From the ImageRepository; absent means the default `^.*\.sig$`. */
  exclusionList?: readonly string[] | ExclusionList;
  policy: ImagePolicyChoice | Policy;
}

export type Decision =
  | {
      /** The chosen tag as the registry lists it. */
      tag: string;
      /** The value the policy ordered by (the extracted value, or the tag). */
      value: string;
      /** How many distinct candidates the policy chose from (after exclusion, filter and de-duplication). */
      candidates: number;
    }
  | { error: TidemarkError };

/**
 * Pure: tags in, one decision out. Exclusion list first, then the filter (which also collapses
 * tags with equal values), then the policy. Configuration and content problems come back as
 * `{error}` with a terminal TidemarkError; anything else thrown is a bug and propagates.
 */
export function decide(tags: readonly string[], options: DecideOptions): Decision {
  try {
    const { exclusionList: exclusions, filterTags: filter, policy } = compileDecideOptions(options);
    const candidates = filter.apply(tags, exclusions);
    const chosen = choose(policy, candidates);
    if (!chosen) return { error: noMatch(tags.length, candidates.length, filter, policy) };
    return { tag: chosen.tag, value: chosen.value, candidates: candidates.length };
  } catch (err) {
    if (isTidemarkError(err)) return { error: err };
    throw err;
  }
}

/**
 * The policy's last choice per candidate list: a filter hands back the same frozen list for the
 * same tags, so the rescan of an unchanged repository does not parse and compare every value again.
 */
const lastChoice = new WeakMap<readonly Candidate[], { policy: Policy; chosen: Candidate | null }>();

function choose(policy: Policy, candidates: readonly Candidate[]): Candidate | null {
  const last = lastChoice.get(candidates);
  if (last?.policy === policy) return last.chosen;
  const chosen = policy.select(candidates);
  if (Object.isFrozen(candidates)) lastChoice.set(candidates, { policy, chosen });
  return chosen;
}

/** The compiled forms `decide` works with, as a controller keeps them per spec generation. */
export interface CompiledDecideOptions {
  filterTags: TagFilter;
  exclusionList: ExclusionList;
  policy: Policy;
}

/**
 * Compiles what is not compiled yet. Keep the result while the spec is unchanged: the filter
 * remembers each tag's outcome, so the next scan's decision runs only new tags through RE2.
 * Throws the same terminal errors `decide` reports.
 */
export function compileDecideOptions(options: DecideOptions): CompiledDecideOptions {
  return {
    exclusionList: options.exclusionList instanceof ExclusionList ? options.exclusionList : new ExclusionList(options.exclusionList),
    filterTags: options.filterTags instanceof TagFilter ? options.filterTags : new TagFilter(options.filterTags),
    policy: isPolicy(options.policy) ? options.policy : createPolicy(options.policy),
  };
}

function isPolicy(value: unknown): value is Policy {
  return typeof value === 'object' && value !== null && typeof (value as Policy).select === 'function';
}

/**
 * Nothing to choose. Terminal: deciding again on the same tags gives the same answer; the
 * decision is re-made when a scan brings new tags or the spec changes.
 */
function noMatch(tagCount: number, candidateCount: number, filter: TagFilter, policy: Policy): TidemarkError {
  let message: string;
  if (tagCount === 0) {
    message = 'the repository has no tags';
  } else if (candidateCount === 0) {
    message = `none of the ${tagCount} tags passed the exclusion list and filterTags.pattern ${JSON.stringify(filter.pattern)}`;
  } else if (policy.kind === 'semver') {
    const range = (policy as Policy & { range?: { source: string } }).range?.source ?? '';
    message = `none of the ${candidateCount} candidate tags is a version within range ${JSON.stringify(range)}`;
  } else {
    message = `the ${policy.kind} policy chose none of the ${candidateCount} candidate tags`;
  }
  return terminal(
    'NoMatchingTags',
    message,
    'check filterTags and the policy against the tags listed in the ImageRepository status; the policy is evaluated again after every scan',
  );
}
