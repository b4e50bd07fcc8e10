/** Parsing of marker comments: `# {"$imagepolicy": "<namespace>:<name>[:tag|:name|:digest]"}`. */
import { namespaceProblem, objectNameProblem } from '../../shared/spec/names.ts';
import type { Setter, SetterField } from './types.ts';

const FIELDS: ReadonlySet<string> = new Set<SetterField>(['tag', 'name', 'digest']);

/** A comment is treated as a marker attempt when it has `"$imagepolicy"` as a JSON key. */
export function looksLikeMarker(comment: string): boolean {
  return /"\$imagepolicy"\s*:/.test(comment);
}

export type MarkerParse = { ok: true; setter: Setter } | { ok: false; reason: string };

/** A marker value longer than this is quoted by its start and its length: a problem is read in a condition. */
export const MAX_QUOTED_MARKER = 64;

function quote(raw: string): string {
  return raw.length > MAX_QUOTED_MARKER ? `"${raw.slice(0, MAX_QUOTED_MARKER)}…" (${raw.length} characters)` : `"${raw}"`;
}

/**
 * Parses `ns:name` or `ns:name:field`. The namespace and name must be ones Kubernetes allows
 * (a DNS label, a DNS subdomain): no other can name a policy, and a megabyte of "name" would
 * otherwise travel into the "unknown policy" problem, the condition and the Event.
 */
export function parseSetter(raw: string): MarkerParse {
  const parts = raw.split(':');
  const bad = (reason: string): MarkerParse => ({ ok: false, reason });
  if (parts.length < 2 || parts.length > 3) {
    return bad(`marker policy ${quote(raw)} is not "<namespace>:<name>" or "<namespace>:<name>:<tag|name|digest>"`);
  }
  const [namespace = '', name = '', field] = parts;
  if (namespace === '' || name === '' || /\s/.test(raw)) {
    return bad(`marker policy ${quote(raw)} needs a non-empty namespace and name without spaces`);
  }
  if (field !== undefined && !FIELDS.has(field)) {
    return bad(`marker policy ${quote(raw)} ends in ":${field.slice(0, MAX_QUOTED_MARKER)}"; only :tag, :name and :digest are known`);
  }
  const nsProblem = namespace.length > 63 ? 'must be at most 63 characters' : namespaceProblem(namespace);
  const nameProblem = name.length > 253 ? 'must be at most 253 characters' : objectNameProblem(name);
  if (nsProblem !== undefined) return bad(`marker policy ${quote(raw)}: the namespace ${nsProblem}`);
  if (nameProblem !== undefined) return bad(`marker policy ${quote(raw)}: the name ${nameProblem}`);
  return { ok: true, setter: { raw, namespace, name, field: (field as SetterField | undefined) ?? 'image' } };
}

/**
 * Parses a comment's text (with its `#`). As in Flux, leading `#`s are dropped and the rest
 * must be a JSON object of strings with nothing after it.
 */
export function parseMarkerComment(comment: string): MarkerParse {
  // A checkout repeats the same few markers in every file, and each parse costs a JSON.parse and
  // two RE2 calls: answers for short comments are kept (frozen, as markers share them).
  if (comment.length > COMMENT_MEMO_MAX_LENGTH) return parseComment(comment);
  let parsed = commentMemo.get(comment);
  if (parsed === undefined) {
    parsed = deepFreeze(parseComment(comment));
    if (commentMemo.size >= COMMENT_MEMO_SIZE) commentMemo.clear();
    commentMemo.set(comment, parsed);
  }
  return parsed;
}

const COMMENT_MEMO_SIZE = 4096;
const COMMENT_MEMO_MAX_LENGTH = 512;
const commentMemo = new Map<string, MarkerParse>();

function deepFreeze(parsed: MarkerParse): MarkerParse {
  if (parsed.ok) Object.freeze(parsed.setter);
  return Object.freeze(parsed);
}

function parseComment(comment: string): MarkerParse {
  const body = comment.replace(/^#+/, '');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    return { ok: false, reason: `marker is not valid JSON (${detail})` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, reason: 'marker must be a JSON object' };
  }
  const entries = Object.entries(parsed as Record<string, unknown>);
  if (entries.some(([, v]) => typeof v !== 'string')) {
    return { ok: false, reason: 'marker values must be strings' };
  }
  const raw = (parsed as Record<string, string>)['$imagepolicy'];
  if (raw === undefined || raw === '') return { ok: false, reason: 'marker has an empty "$imagepolicy"' };
  return parseSetter(raw);
}
