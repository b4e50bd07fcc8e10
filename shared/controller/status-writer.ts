import type { ResourceMapping } from '../kube/discovery.ts';
import { jsonEqual } from '../kube/compare.ts';
import { isNotFound } from '../kube/errors.ts';
import type { KubePort } from '../kube/port.ts';
import { recordResourceInfo } from '../metrics/index.ts';

export interface StatusWrite<S extends object> {
  resource: ResourceMapping;
  namespace: string | undefined;
  name: string;
  /** The status as this process last saw or wrote it (see `StatusMemory`); undefined when it has none. */
  previous: S | undefined;
  next: S;
  /** Every status field the writer owns: a field `next` leaves out is removed, one not listed is never touched. */
  fields: readonly string[];
}

/**
 * Writes the status subresource (a merge patch of the owned fields) when one of them changed, and
 * nothing otherwise, so a resync that finds nothing new costs no write and no watch event. True
 * when it wrote. An object deleted meanwhile has no status to write: false, not an error.
 */
export async function writeStatus<S extends object>(kube: Pick<KubePort, 'patchStatus'>, write: StatusWrite<S>): Promise<boolean> {
  // Before the equality check: after a restart the status is unchanged but the series is new.
  recordResourceInfo({ kind: write.resource.kind, namespace: write.namespace, name: write.name }, write.next);
  if (ownedFieldsEqual(write.previous, write.next, write.fields)) return false;
  const next = write.next as Record<string, unknown>;
  const body: Record<string, unknown> = {};
  for (const field of write.fields) body[field] = next[field] ?? null;
  try {
    await kube.patchStatus(write.resource, write.namespace, write.name, body);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** Equal in every owned field, compared as JSON: key order, undefined and null-for-absent do not count. */
export function ownedFieldsEqual(previous: object | undefined, next: object, fields: readonly string[]): boolean {
  const a = previous as Record<string, unknown> | undefined;
  const b = next as Record<string, unknown>;
  return fields.every((field) => jsonEqual(a?.[field] ?? null, b[field] ?? null));
}
