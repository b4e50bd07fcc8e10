import { API_VERSION } from '../api/constants.ts';
import type { InvolvedObject } from '../kube/events.ts';
import type { KubeObject } from '../kube/object.ts';

/** A Tidemark kind's collection, in one namespace or across all of them. */
export function collectionPath(plural: string, namespace?: string): string {
  const ns = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `/apis/${API_VERSION}${ns}/${plural}`;
}

/** One Tidemark object; its status subresource is this path with `/status` appended. */
export function objectPath(plural: string, namespace: string, name: string): string {
  return `${collectionPath(plural, namespace)}/${encodeURIComponent(name)}`;
}

/** The API server fills in the namespace; objects built in memory may leave it out. */
export function namespaceOf(obj: KubeObject): string {
  return obj.metadata.namespace ?? 'default';
}

/** `<namespace>/<name>`: how controllers key objects in caches, queues and memories. */
export function keyOf(obj: KubeObject): string {
  return `${namespaceOf(obj)}/${obj.metadata.name}`;
}

/** The object an Event is about. */
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
