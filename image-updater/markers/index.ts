/**
 * `$imagepolicy` markers: finding them in YAML and rewriting the marked values in place, as
 * pure functions over file text. Walking a checkout and writing files is the automation's job.
 */
export { MARKER_TOKEN, hasMarker, isCandidateFile } from './screen.ts';
export { looksLikeMarker, parseMarkerComment, parseSetter } from './setter.ts';
export type { MarkerParse } from './setter.ts';
export { findMarkers } from './scan.ts';
export type { ScanResult } from './scan.ts';
export { doubleQuoted, encodeScalar, isSafePlain, singleQuoted } from './encode.ts';
export { decideFromPolicies, imageReference, valueForField } from './decide.ts';
export type { ImageDecision } from './decide.ts';
export { rewrite } from './rewrite.ts';
export type {
  BlockParts,
  Decide,
  Decision,
  Marker,
  MarkerChange,
  MarkerProblem,
  MarkerStyle,
  ObjectId,
  ProblemCode,
  RewriteResult,
  ScalarStyle,
  Setter,
  SetterField,
} from './types.ts';
