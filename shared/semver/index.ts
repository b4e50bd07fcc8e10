/**
 * Semantic versions and ranges with Flux's meaning, which is Masterminds/semver v3.4's: one
 * module for a ContinuousDeployment's `spec.git.semver` and an ImagePolicy's `semver.range`.
 * Tags are read as Flux reads them (a full `X.Y.Z`, one optional `v`); ranges as NewConstraint
 * reads them, with pre-releases admitted per `||` group. fixtures/masterminds.json holds the
 * library's own answers (oracle/), and oracle.test.ts holds this module to every one of them.
 */
export type { Version } from './version.ts';
export { parseTagVersion } from './version.ts';
export { compareVersions } from './compare.ts';
export type { SemverRange } from './range.ts';
export { MAX_RANGE_LENGTH, parseRange, satisfies } from './range.ts';
