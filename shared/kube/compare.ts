import type { KubeObject } from './object.ts';
import { isObject } from './object.ts';

/** Fields the server owns or that change on every write; they are never drift. */
const SERVER_METADATA = ['managedFields', 'resourceVersion', 'generation', 'creationTimestamp', 'uid', 'selfLink'];

/** kubectl's client-side apply record: a second copy of the object, and never ours to manage. */
export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** A copy without status and server-owned metadata, for comparing desired (dry-run) with live. */
export function comparable(obj: KubeObject): Record<string, unknown> {
  const { metadata, ...rest } = obj;
  delete rest.status; // rest is a fresh copy: obj keeps its status
  const meta: Record<string, unknown> = withoutLastApplied(metadata);
  for (const field of SERVER_METADATA) delete meta[field];
  return { ...rest, metadata: meta };
}

/**
 * The metadata without kubectl's last-applied record (a fresh top-level copy). The watch cache
 * drops it to save memory, so the comparison must ignore it on both sides.
 */
export function withoutLastApplied(metadata: KubeObject['metadata']): KubeObject['metadata'] {
  const meta = { ...metadata };
  if (meta.annotations && LAST_APPLIED in meta.annotations) {
    const annotations = { ...meta.annotations };
    delete annotations[LAST_APPLIED];
    if (Object.keys(annotations).length > 0) meta.annotations = annotations;
    else delete meta.annotations;
  }
  return meta;
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
