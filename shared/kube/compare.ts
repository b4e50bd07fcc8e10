import type { KubeObject } from './object.ts';
import { isObject } from './object.ts';

/** Fields the server owns or that change on every write; they are never drift. */
const SERVER_METADATA = ['managedFields', 'resourceVersion', 'generation', 'creationTimestamp', 'uid', 'selfLink'];

/** A copy without status and server-owned metadata, for comparing desired (dry-run) with live. */
export function comparable(obj: KubeObject): Record<string, unknown> {
  const { metadata, ...rest } = obj;
  delete rest.status; // rest is a fresh copy: obj keeps its status
  const meta: Record<string, unknown> = { ...metadata };
  for (const field of SERVER_METADATA) delete meta[field];
  return { ...rest, metadata: meta };
}

/**
 * True when a server-side dry-run of our apply would leave the live object unchanged. The dry-run
 * result carries the server's defaults and other managers' fields, so this has no false drift.
 */
export function sameObject(dryRun: KubeObject, live: KubeObject): boolean {
  return deepEqual(comparable(dryRun), comparable(live));
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((key) => Object.hasOwn(b, key) && deepEqual(a[key], b[key]));
  }
  return false;
}

/**
 * Equal as JSON would serialise them: key order does not count, and a member whose value is
 * undefined is the same as an absent one. Structural with early exit: a status of thousands of
 * resources is compared without building strings.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const present = (o: Record<string, unknown>) => Object.keys(o).filter((k) => o[k] !== undefined);
    const keys = present(a);
    if (keys.length !== present(b).length) return false;
    return keys.every((key) => jsonEqual(a[key], b[key]));
  }
  return false;
}
