/** A tag that passed the exclusion list and the filter, with the value the policy orders by. */
export interface Candidate {
  /** The tag exactly as the registry lists it; this is what gets written into manifests. */
  tag: string;
  /** `filterTags.extract` expanded for this tag, or the tag itself when there is no extract. */
  value: string;
}

export type PolicyKind = 'numerical' | 'semver' | 'alphabetical';

/**
 * Given the candidates, which one is newest. Constructors validate their configuration up front,
 * so `select` fails only on content (a numerical policy meeting a non-number). `null` means no
 * candidate qualifies (empty list, or no version within a semver range).
 */
export interface Policy {
  readonly kind: PolicyKind;
  select(candidates: readonly Candidate[]): Candidate | null;
}
