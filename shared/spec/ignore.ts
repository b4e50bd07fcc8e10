import RE2 from 're2';
import { Annotations, FIELD_MANAGER, Labels } from '../api/constants.ts';
import { parseSelector, type Selector } from '../kube/selector.ts';
import { checkKnownFields, isObject, type Problems } from './problems.ts';
import { describe, readString } from './read.ts';

/**
 * `spec.ignore`: fields that are neither compared for drift nor sent on apply, so another actor
 * (an HPA's `spec.replicas`, a webhook's injected field) keeps them. Flux Kustomization's
 * `ignore: [{paths, target}]` plus Argo CD's `managedFieldsManagers` (with its
 * `RespectIgnoreDifferences=true`, which here is always on).
 */

export const MAX_IGNORE_RULES = 64;
export const MAX_IGNORE_PATHS = 64;
export const IGNORE_FIELDS = ['paths', 'managedFieldsManagers', 'target'] as const;
export const IGNORE_TARGET_FIELDS = ['group', 'version', 'kind', 'name', 'namespace', 'labelSelector', 'annotationSelector'] as const;

/** Which objects a rule covers; an absent field matches anything. Names are anchored RE2 patterns, as kustomize's selector. */
export interface IgnoreTarget {
  group?: RE2 | undefined;
  version?: RE2 | undefined;
  kind?: RE2 | undefined;
  name?: RE2 | undefined;
  namespace?: RE2 | undefined;
  labelSelector?: Selector | undefined;
  annotationSelector?: Selector | undefined;
}

export interface IgnoreRule {
  /** Where it was written, for messages: `spec.ignore[0]`. */
  at: string;
  /** JSON pointers (RFC 6901), decoded into their reference tokens. */
  paths: string[][];
  /** Field managers whose fields the rule covers, read from the live object's managedFields. */
  managers: string[];
  target: IgnoreTarget | undefined;
}

/**
 * Fields a rule may not remove: without them the object cannot be applied, or stops being
 * recognisably ours (the ownership label and annotation). A pointer to one of them, or to a field
 * that contains one (`/metadata`), is refused.
 */
const PROTECTED: readonly (readonly string[])[] = [
  ['apiVersion'],
  ['kind'],
  ['metadata', 'name'],
  ['metadata', 'namespace'],
  ['metadata', 'labels', Labels.name],
  ['metadata', 'labels', Labels.namespace],
  ['metadata', 'annotations', Annotations.owner],
];

export function readIgnore(problems: Problems, value: unknown, at = 'ignore'): IgnoreRule[] | undefined {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    problems.add(at, `must be a list of {paths, managedFieldsManagers, target}, not ${describe(value)}`);
    return undefined;
  }
  if (value.length > MAX_IGNORE_RULES) {
    problems.add(at, `has ${value.length} entries; at most ${MAX_IGNORE_RULES} are allowed`);
    return undefined;
  }
  const before = problems.errors.length;
  const out: IgnoreRule[] = [];
  value.forEach((item: unknown, i) => {
    const entryAt = `${at}[${i}]`;
    if (!isObject(item)) {
      problems.add(entryAt, `must be an object, not ${describe(item)}`);
      return;
    }
    checkKnownFields(problems, `${entryAt}.`, item, IGNORE_FIELDS);
    const paths = readStringList(problems, item, 'paths', `${entryAt}.paths`);
    const managers = readStringList(problems, item, 'managedFieldsManagers', `${entryAt}.managedFieldsManagers`);
    const tokens: string[][] = [];
    paths?.forEach((pointer, j) => {
      const parsed = parsePointer(pointer);
      if ('problem' in parsed) problems.add(`${entryAt}.paths[${j}]`, parsed.problem, 'e.g. /spec/replicas');
      else tokens.push(parsed.tokens);
    });
    managers?.forEach((manager, j) => {
      if (manager === '') problems.add(`${entryAt}.managedFieldsManagers[${j}]`, 'must not be empty');
      // Ignoring our own fields would strip everything we apply.
      else if (manager === FIELD_MANAGER)
        problems.add(`${entryAt}.managedFieldsManagers[${j}]`, `${JSON.stringify(manager)} is the agent's own field manager`);
    });
    if (paths !== undefined && managers !== undefined && paths.length === 0 && managers.length === 0) {
      problems.add(entryAt, 'names no field', 'set paths (JSON pointers) or managedFieldsManagers, or both');
    }
    const target = readTarget(problems, item.target, `${entryAt}.target`);
    if (paths === undefined || managers === undefined || target === null) return;
    out.push({ at: problems.path(entryAt), paths: tokens, managers, target });
  });
  return problems.errors.length > before ? undefined : out;
}

/** RFC 6901: `/a/b~1c` → `['a', 'b/c']`; the protected fields are refused. */
export function parsePointer(pointer: string): { tokens: string[] } | { problem: string } {
  if (!pointer.startsWith('/')) return { problem: `${JSON.stringify(pointer)} is not a JSON pointer (it starts with "/")` };
  const raw = pointer.slice(1).split('/');
  if (raw.some((t) => /~(?![01])/.test(t)))
    return { problem: `${JSON.stringify(pointer)} has "~" not followed by 0 or 1 (write ~0 for "~", ~1 for "/")` };
  const tokens = raw.map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (tokens.some((t) => t === '')) return { problem: `${JSON.stringify(pointer)} has an empty segment` };
  const hit = PROTECTED.find((p) => tokens.length <= p.length && tokens.every((t, k) => t === p[k]));
  if (hit) return { problem: `${JSON.stringify(pointer)} would remove ${hit.join('.')}, which every applied object needs` };
  return { tokens };
}

function readStringList(problems: Problems, from: Record<string, unknown>, key: string, at: string): string[] | undefined {
  const value = from[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    problems.add(at, `must be a list of strings, not ${describe(value)}`);
    return undefined;
  }
  if (value.length > MAX_IGNORE_PATHS) {
    problems.add(at, `has ${value.length} entries; at most ${MAX_IGNORE_PATHS} are allowed`);
    return undefined;
  }
  return value as string[];
}

/** Undefined: no target (every object); null: a problem was reported. */
function readTarget(problems: Problems, value: unknown, at: string): IgnoreTarget | undefined | null {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) {
    problems.add(
      at,
      `must be an object {group, version, kind, name, namespace, labelSelector, annotationSelector}, not ${describe(value)}`,
    );
    return null;
  }
  const before = problems.errors.length;
  checkKnownFields(problems, `${at}.`, value, IGNORE_TARGET_FIELDS);
  const target: IgnoreTarget = {};
  for (const key of ['group', 'version', 'kind', 'name', 'namespace'] as const) {
    const pattern = readString(problems, value, key, { at: `${at}.${key}` });
    if (pattern === undefined || pattern === '') continue;
    try {
      target[key] = new RE2(`^(?:${pattern})$`);
    } catch (err) {
      problems.add(`${at}.${key}`, `${JSON.stringify(pattern)} is not a valid RE2 pattern: ${(err as Error).message}`);
    }
  }
  for (const key of ['labelSelector', 'annotationSelector'] as const) {
    const text = readString(problems, value, key, { at: `${at}.${key}` });
    if (text === undefined || text.trim() === '') continue;
    const parsed = parseSelector(text);
    if ('problem' in parsed) problems.add(`${at}.${key}`, parsed.problem, 'e.g. app=web,tier!=db');
    else target[key] = parsed.selector;
  }
  return problems.errors.length > before ? null : target;
}
