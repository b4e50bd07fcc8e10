import type { SemverPolicySpec } from '../../shared/api/image.ts';
import { compareVersions, parseRange, parseTagVersion, satisfies, type SemverRange, type Version } from '../../shared/semver/index.ts';
import { chooseBest } from './choose.ts';
import { invalidPolicy } from './order.ts';
import type { Candidate, Policy } from './types.ts';

/**
 * The highest version within the range, read as Flux reads it (shared/semver: Masterminds
 * semantics). Values that are not full versions (`latest`, `1.2`, `main-abc`) are skipped, as in
 * Flux; the tag is reported as the registry lists it. Versions equal in precedence (`1.0.0`,
 * `v1.0.0`, `1.0.0+build.7`: build metadata does not order) tie, and the tag that sorts last in
 * byte order wins.
 */
export class SemverPolicy implements Policy {
  readonly kind = 'semver';
  readonly range: SemverRange;

  /** Throws InvalidSemverRange for a range that does not parse, InvalidPolicy for a bad shape. */
  constructor(spec: SemverPolicySpec | undefined) {
    if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
      throw invalidPolicy('policy.semver must be an object with a range, e.g. {range: ">=1.0.0 <2.0.0"}');
    }
    const extra = Object.keys(spec).filter((key) => key !== 'range');
    if (extra.length > 0) throw invalidPolicy(`policy.semver has unknown field ${JSON.stringify(extra[0])}; only range is accepted`);
    const range: unknown = spec.range;
    if (typeof range !== 'string' || range.trim() === '') {
      throw invalidPolicy('policy.semver.range is required, e.g. ">=1.0.0 <2.0.0" or "1.x"');
    }
    this.range = parseRange(range, 'policy.semver.range');
  }

  select(candidates: readonly Candidate[]): Candidate | null {
    const matching: (Candidate & { version: Version })[] = [];
    for (const candidate of candidates) {
      const version = parseTagVersion(candidate.value);
      if (version && satisfies(this.range, version)) matching.push({ ...candidate, version });
    }
    const best = chooseBest(matching, (a, b) => compareVersions(a.version, b.version));
    return best && { tag: best.tag, value: best.value };
  }
}
