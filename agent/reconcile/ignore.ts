import { FIELD_MANAGER } from '../../shared/api/constants.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { isObject, splitApiVersion } from '../../shared/kube/object.ts';
import { selectorMatches } from '../../shared/kube/selector.ts';
import type { IgnoreRule } from '../../shared/spec/index.ts';

/**
 * `spec.ignore`: the named fields are taken out of what we send, so server-side apply never claims
 * them and the live value stays; they are taken out of both sides of the comparison too, so they
 * are never drift. Pure functions over plain objects.
 */

/** What the rules that cover one object name: pointers (decoded) and field managers. */
export interface IgnoredFields {
  paths: string[][];
  managers: string[];
}

/** The fields the rules name for `obj` (the desired object), or undefined when no rule covers it. */
export function ignoredFields(rules: readonly IgnoreRule[], obj: KubeObject): IgnoredFields | undefined {
  if (rules.length === 0) return undefined;
  const { group, version } = splitApiVersion(obj.apiVersion);
  const paths: string[][] = [];
  const managers: string[] = [];
  for (const rule of rules) {
    const t = rule.target;
    if (t) {
      const fits = (pattern: { test(s: string): boolean } | undefined, value: string) => pattern === undefined || pattern.test(value);
      if (!fits(t.group, group) || !fits(t.version, version) || !fits(t.kind, obj.kind) || !fits(t.name, obj.metadata.name)) continue;
      if (!fits(t.namespace, obj.metadata.namespace ?? '')) continue;
      if (t.labelSelector && !selectorMatches(t.labelSelector, obj.metadata.labels)) continue;
      if (t.annotationSelector && !selectorMatches(t.annotationSelector, obj.metadata.annotations)) continue;
    }
    paths.push(...rule.paths);
    managers.push(...rule.managers);
  }
  return paths.length + managers.length > 0 ? { paths, managers } : undefined;
}

/**
 * The object to send. Fields the named managers own (their managedFields on `live`) are left out.
 * A pointer's field is left out too, unless we own it ourselves on the live object: leaving out a
 * field only we own would make the server delete it (a Deployment back to 1 replica), so we send
 * the live value instead and keep it. Once another actor writes the field it becomes theirs
 * (an update takes over the fields it changes) and from then on it is not sent at all.
 */
export function withoutIgnored(
  desired: KubeObject,
  live: KubeObject | undefined,
  fields: IgnoredFields,
  options: { replace?: boolean } = {},
): KubeObject {
  if (options.replace && live) return withLiveValues(desired, live, fields);
  const out = structuredClone(desired);
  const managed = live ? managedFieldsOf(live) : [];
  for (const entry of managed) {
    if (fields.managers.includes(entry.manager)) stripFieldSet(out, entry.fields);
  }
  const ours = managed.filter((m) => m.manager === FIELD_MANAGER && m.operation === 'Apply').map((m) => m.fields);
  for (const path of fields.paths) {
    const liveValue = live ? valueAt(live, path) : undefined;
    if (liveValue !== undefined && ours.some((set) => ownsPath(set, path))) setAt(out, path, structuredClone(liveValue));
    else removeAt(out, path);
  }
  return out;
}

/**
 * syncPolicy.replace sends the whole object (PUT): a field left out would be deleted, so the
 * ignored fields carry their live values instead. A manager's fields are copied where they are
 * plain members (not list items, which a PUT cannot address by key).
 */
function withLiveValues(desired: KubeObject, live: KubeObject, fields: IgnoredFields): KubeObject {
  const out = structuredClone(desired);
  const paths = [...fields.paths];
  for (const entry of managedFieldsOf(live)) if (fields.managers.includes(entry.manager)) paths.push(...memberPaths(entry.fields));
  for (const path of paths) {
    const value = valueAt(live, path);
    if (value === undefined) removeAt(out, path);
    else setAt(out, path, structuredClone(value));
  }
  return out;
}

/** The member paths a fieldsV1 set owns whole (`f:` only; list items are left out). */
function memberPaths(set: Record<string, unknown>, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const [key, child] of Object.entries(set)) {
    if (!key.startsWith('f:') || !isObject(child)) continue;
    const path = [...prefix, key.slice(2)];
    if (isLeaf(child)) out.push(path);
    else out.push(...memberPaths(child, path));
  }
  return out;
}

/** A copy without the pointers' fields, for comparing: what we do not manage is never drift. */
export function withoutPaths(obj: KubeObject, paths: readonly string[][]): KubeObject {
  if (paths.length === 0) return obj;
  const out = structuredClone(obj);
  for (const path of paths) removeAt(out, path);
  return out;
}

interface ManagedEntry {
  manager: string;
  operation: string;
  fields: Record<string, unknown>;
}

function managedFieldsOf(live: KubeObject): ManagedEntry[] {
  const out: ManagedEntry[] = [];
  for (const entry of live.metadata.managedFields ?? []) {
    if (!isObject(entry) || typeof entry.manager !== 'string' || !isObject(entry.fieldsV1)) continue;
    out.push({ manager: entry.manager, operation: typeof entry.operation === 'string' ? entry.operation : '', fields: entry.fieldsV1 });
  }
  return out;
}

/** True when a fieldsV1 set (`{"f:spec": {"f:replicas": {}}}`) holds the field at `path` (map fields only). */
function ownsPath(set: Record<string, unknown>, path: readonly string[]): boolean {
  let node: unknown = set;
  for (const token of path) {
    if (!isObject(node)) return false;
    node = node[`f:${token}`];
  }
  return isObject(node);
}

/** A leaf of a fieldsV1 set: the manager owns the whole value, not only some of its members. */
function isLeaf(node: Record<string, unknown>): boolean {
  const keys = Object.keys(node);
  return keys.length === 0 || (keys.length === 1 && keys[0] === '.');
}

/**
 * Removes from `obj` what a fieldsV1 set names: `f:<field>` members, `k:<json>` list items by their
 * keys, `v:<json>` set items by value. An item the set names only partly keeps its other fields.
 */
function stripFieldSet(obj: unknown, set: Record<string, unknown>): void {
  for (const [key, child] of Object.entries(set)) {
    if (key === '.' || !isObject(child)) continue;
    if (key.startsWith('f:') && isObject(obj)) {
      const field = key.slice(2);
      if (!(field in obj)) continue;
      if (isLeaf(child)) delete obj[field];
      else {
        stripFieldSet(obj[field], child);
        if (isObject(obj[field]) && Object.keys(obj[field]).length === 0) delete obj[field];
      }
    } else if (key.startsWith('k:') && Array.isArray(obj)) {
      const keys = parseJson(key.slice(2));
      if (!isObject(keys)) continue;
      const index = obj.findIndex((item) => isObject(item) && Object.entries(keys).every(([k, v]) => item[k] === v));
      if (index < 0) continue;
      if (!isLeaf(child)) stripFieldSet(obj[index], withoutKeyFields(child, keys));
      // The manager owns the item itself ('.') and we are left with only its keys: the item is theirs.
      const rest = obj[index] as Record<string, unknown>;
      if (isLeaf(child) || ('.' in child && Object.keys(rest).every((k) => k in keys))) obj.splice(index, 1);
    } else if (key.startsWith('v:') && Array.isArray(obj)) {
      const value = JSON.stringify(parseJson(key.slice(2)));
      const index = obj.findIndex((item) => JSON.stringify(item) === value);
      if (index >= 0) obj.splice(index, 1);
    }
  }
}

/** An item's key fields identify it: removing them would leave an item the server cannot merge. */
function withoutKeyFields(set: Record<string, unknown>, keys: Record<string, unknown>): Record<string, unknown> {
  const out = { ...set };
  for (const k of Object.keys(keys)) delete out[`f:${k}`];
  return out;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function valueAt(obj: unknown, path: readonly string[]): unknown {
  let node = obj;
  for (const token of path) {
    if (Array.isArray(node)) node = node[arrayIndex(token, node.length) ?? -1];
    else if (isObject(node)) node = node[token];
    else return undefined;
  }
  return node;
}

function removeAt(obj: unknown, path: readonly string[]): void {
  const parent = valueAt(obj, path.slice(0, -1));
  const last = path[path.length - 1] as string;
  if (Array.isArray(parent)) {
    const index = arrayIndex(last, parent.length);
    if (index !== undefined) parent.splice(index, 1);
  } else if (isObject(parent)) delete parent[last];
}

/** Sets a value whose parents exist (it was read from the live object at the same path). */
function setAt(obj: unknown, path: readonly string[], value: unknown): void {
  let node = obj;
  for (const token of path.slice(0, -1)) {
    if (!isObject(node)) return;
    if (!isObject(node[token])) node[token] = {};
    node = node[token];
  }
  if (isObject(node)) node[path[path.length - 1] as string] = value;
}

function arrayIndex(token: string, length: number): number | undefined {
  if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined;
  const index = Number(token);
  return index < length ? index : undefined;
}
