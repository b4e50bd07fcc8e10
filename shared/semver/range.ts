import { terminal, type TidemarkError } from '../errors/index.ts';
import { admits, type Comparator } from './comparators.ts';
import { rewriteHyphenRanges } from './hyphen.ts';
import { isBlank, RangeSyntaxError, scanAlternative } from './range-syntax.ts';
import type { Version } from './version.ts';

/** A compiled range: `||` alternatives, each a list of comparators that must all hold. */
export interface SemverRange {
  source: string;
  alternatives: readonly Alternative[];
}

interface Alternative {
  comparators: readonly Comparator[];
  /** Some comparator names a pre-release, so pre-release versions are considered in this group. */
  includePrerelease: boolean;
}

/**
 * Masterminds has no limit; this one keeps the hyphen rewrite's regular expression cheap and is
 * far above any range a person writes.
 */
export const MAX_RANGE_LENGTH = 512;

export const RANGE_HINT =
  'write ranges as Flux does (Masterminds/semver): ">=1.0.0 <2.0.0", ">= 1.0, < 2.0", "^1.2", "~1.2.3", "1.x", "*", ' +
  '"1.2 - 1.4.5", "!=1.3.0", alternatives joined by ||; add -0 (">=1.0.0-0") to admit pre-releases';

/**
 * Reads a range with the meaning Masterminds/semver v3.4 gives it (Flux's GitRepository
 * `ref.semver` and ImagePolicy `semver.range`). `field` is the path the range came from, for the
 * message: a terminal InvalidSemverRange error reads `spec.git.semver ">=1 <<2" is not a valid
 * range: expected a version in "<<2"`.
 */
export function parseRange(source: string, field: string): SemverRange {
  try {
    return compileRange(source);
  } catch (err) {
    if (err instanceof RangeSyntaxError) throw invalidRange(field, source, err.message);
    throw err;
  }
}

/** A range longer than this is quoted by its start and its length: a condition is no place for kilobytes of spec. */
export const MAX_QUOTED_RANGE = 64;

export function invalidRange(field: string, source: string, why: string): TidemarkError {
  const quoted =
    source.length > MAX_QUOTED_RANGE
      ? `${JSON.stringify(`${source.slice(0, MAX_QUOTED_RANGE)}…`)} (${source.length} characters)`
      : JSON.stringify(source);
  return terminal('InvalidSemverRange', `${field} ${quoted} is not a valid range: ${why}`, RANGE_HINT);
}

/** Throws RangeSyntaxError; see parseRange. */
export function compileRange(source: string): SemverRange {
  if (source.length > MAX_RANGE_LENGTH) throw new RangeSyntaxError(`it is longer than ${MAX_RANGE_LENGTH} characters`);
  if (isBlank(source)) throw new RangeSyntaxError('it is empty');
  const alternatives = rewriteHyphenRanges(source)
    .split('||')
    .map((text) => {
      const comparators = scanAlternative(text);
      return { comparators, includePrerelease: comparators.some((c) => c.version.prerelease !== '') };
    });
  return { source, alternatives };
}

/** Masterminds' Constraints.Check: some alternative whose comparators all admit the version. */
export function satisfies(range: SemverRange, version: Version): boolean {
  return range.alternatives.some((alternative) =>
    alternative.comparators.every((comparator) => admits(comparator, version, alternative.includePrerelease)),
  );
}
