import { API_VERSION } from '../../shared/api/constants.ts';
import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import type { ImagePolicy, ImageRepository } from '../../shared/api/image.ts';
import { patchStatus } from '../../shared/controller/watch.ts';
import type { InvolvedObject } from '../../shared/kube/events.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import type { KubeRest } from '../../shared/kube/rest.ts';
import { sameJson } from './status-common.ts';

export type RepositoryObject = ImageRepository & KubeObject;
export type PolicyObject = ImagePolicy & KubeObject;
export type DeploymentObject = ContinuousDeployment & KubeObject;

/** A Tidemark kind's collection, in one namespace or across all of them. */
export function collectionPath(plural: string, namespace?: string): string {
  const ns = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `/apis/${API_VERSION}${ns}/${plural}`;
}

export function objectPath(plural: string, namespace: string, name: string): string {
  return `${collectionPath(plural, namespace)}/${encodeURIComponent(name)}`;
}

export function namespaceOf(obj: KubeObject): string {
  return obj.metadata.namespace ?? 'default';
}

export function keyOf(obj: KubeObject): string {
  return `${namespaceOf(obj)}/${obj.metadata.name}`;
}

export function involvedObject(obj: KubeObject): InvolvedObject {
  const ref: InvolvedObject = {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    name: obj.metadata.name,
    namespace: namespaceOf(obj),
  };
  if (obj.metadata.uid) ref.uid = obj.metadata.uid;
  return ref;
}

/**
 * The status this process last wrote per object. A reconcile can run before the watch has
 * delivered our own previous write; starting from the watched copy then would repeat an Event
 * or lose an observedPreviousRef. Keyed by uid, so a recreated object starts from its own status.
 */
export class StatusMemory<S> {
  private readonly written = new Map<string, { uid: string | undefined; status: S }>();

  current(obj: KubeObject & { status?: S }): S | undefined {
    const mine = this.written.get(keyOf(obj));
    return mine && mine.uid === obj.metadata.uid ? mine.status : obj.status;
  }

  remember(obj: KubeObject, status: S): void {
    this.written.set(keyOf(obj), { uid: obj.metadata.uid, status });
  }

  /** Drops what is remembered for objects that no longer exist. */
  retain(keep: (key: string) => boolean): void {
    for (const key of this.written.keys()) if (!keep(key)) this.written.delete(key);
  }
}

/** Writes the status subresource unless it would not change; true when it wrote. */
export async function writeStatus<S extends object>(
  rest: KubeRest,
  path: string,
  previous: S | undefined,
  next: S,
  fields: readonly string[],
): Promise<boolean> {
  const owned = (status: S | undefined) => Object.fromEntries(fields.map((f) => [f, (status as Record<string, unknown> | undefined)?.[f]]));
  if (sameJson(owned(previous), owned(next))) return false;
  await patchStatus(rest, path, next as Record<string, unknown>, fields);
  return true;
}
