/** Shapes shared by the marker scan, the rewrite and the commit message data. */

import type { Reason } from '../../shared/errors/index.ts';

/** The object a marked field belongs to: its document's apiVersion, kind, metadata.name/namespace. */
export interface ObjectId {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
}

/** Which part of the chosen image a marker takes. */
export type SetterField = 'image' | 'tag' | 'name' | 'digest';

/** A parsed `{"$imagepolicy": "ns:name[:field]"}` reference. */
export interface Setter {
  /** The policy string as written in the marker, e.g. `default:app:tag`. */
  raw: string;
  namespace: string;
  name: string;
  field: SetterField;
}

export type ScalarStyle = 'PLAIN' | 'QUOTE_SINGLE' | 'QUOTE_DOUBLE';

/** A marked value's style: a flow scalar, or a block scalar (`|`, `>`) whose header carries the marker. */
export type MarkerStyle = ScalarStyle | 'BLOCK_LITERAL' | 'BLOCK_FOLDED';

/** Where a block scalar's header indicator and body lie, for a rewrite that keeps its comment. */
export interface BlockParts {
  header: [number, number];
  body: [number, number];
  /** The body's indentation. */
  indent: string;
}

export interface Marker {
  setter: Setter;
  /** Offsets of the value token in the text, quotes included (JS string indices). */
  range: [number, number];
  style: MarkerStyle;
  /** The current value as YAML reads it (a string; plain scalars are taken verbatim). */
  value: string;
  /** 0-based index of the YAML document in the file. */
  document: number;
  objectId: ObjectId;
  /** Where the value sits, e.g. `spec.template.spec.containers[0].image`. */
  path: string;
  /** 1-based line of the value. */
  line: number;
  /** Whether the marker came from the line comment or the head comment above the value. */
  comment: 'line' | 'head';
  /** True when the value sits inside a flow collection (`[...]`, `{...}`). */
  flow: boolean;
  /** For a block scalar: its header and body. */
  block?: BlockParts;
}

export type ProblemCode = Extract<Reason, 'FileNotParsable' | 'MarkerInvalid' | 'MarkerUnknownPolicy' | 'MarkerValueUnavailable'>;

/** Something wrong in one file that does not stop the run; the automation reports these. */
export interface MarkerProblem {
  code: ProblemCode;
  message: string;
  /** 1-based line, when the problem has one. */
  line?: number;
  setter?: string;
}

/** What the automation decided for one setter. */
export type Decision =
  | { value: string }
  /** No policy of that namespace/name is known to the automation. */
  | { unknownPolicy: true }
  /** The policy is known but cannot give this part (e.g. `:digest` without a reflected digest). */
  | { unavailable: string };

export type Decide = (setter: Setter) => Decision;

export interface MarkerChange {
  setter: string;
  policy: { namespace: string; name: string };
  field: SetterField;
  oldValue: string;
  newValue: string;
  path: string;
  objectId: ObjectId;
  document: number;
  /** 1-based line of the value. */
  line: number;
}

export interface RewriteResult {
  /** The new file text; identical to the input when nothing changed. */
  text: string;
  changes: MarkerChange[];
  problems: MarkerProblem[];
}
