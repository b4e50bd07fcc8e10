import type { ResourceStatus } from '../shared/api/continuous-deployment.ts';
import { createHash } from 'node:crypto';
import { Annotations, Labels } from '../shared/api/constants.ts';
import { terminal } from '../shared/errors/index.ts';
import type { KubeObject, ObjectRef } from '../shared/kube/object.ts';
import { objectKey, refOf, splitApiVersion } from '../shared/kube/object.ts';

export interface Owner {
  namespace: string;
  name: string;
}

/**
 * The ownership annotation names the owner *and* the object it sits on (Argo's self-referencing
 * tracking id). A copy of the annotation on another object — a child, a clone — does not match
 * that object's own identity, so it is never mistaken for ours and never pruned.
 */
export function ownershipValue(owner: Owner, ref: Pick<ObjectRef, 'group' | 'kind' | 'namespace' | 'name'>): string {
  return `${owner.namespace}/${owner.name}:${ref.group}/${ref.kind}:${ref.namespace ?? ''}/${ref.name}`;
}

/** Labels are only a watch filter; ownership is decided by the annotation above. */
export function ownerLabels(owner: Owner): Record<string, string> {
  return { [Labels.name]: labelValue(owner.name), [Labels.namespace]: labelValue(owner.namespace) };
}

/** The owner named by an object's labels, as `namespace/name`, when both labels are there. */
export function ownerKeyFromLabels(labels: Record<string, string> | undefined): string | undefined {
  const name = labels?.[Labels.name];
  const namespace = labels?.[Labels.namespace];
  return name && namespace ? `${namespace}/${name}` : undefined;
}

/**
 * The owner an object's ownership annotation names, when the annotation is the value we write
 * for this very object (a copy on another object names some other identity and does not count).
 */
export function ownerFromAnnotation(obj: KubeObject): Owner | undefined {
  const value = obj.metadata.annotations?.[Annotations.owner];
  if (!value) return undefined;
  const slash = value.indexOf('/');
  const colon = value.indexOf(':');
  if (slash < 0 || colon < slash) return undefined;
  const owner = { namespace: value.slice(0, slash), name: value.slice(slash + 1, colon) };
  return value === ownershipValue(owner, refOf(obj)) ? owner : undefined;
}

/** Stamped as ours: worth a whole copy in the watch cache. Anyone can forge it; it only buys memory. */
export function carriesOwnership(obj: KubeObject): boolean {
  return ownerFromAnnotation(obj) !== undefined;
}

/**
 * The ContinuousDeployment a watched change of `obj` should reconcile, if any. The labels and the
 * annotation only name candidates — anyone may write both on their own objects — so a candidate
 * wins only when the object is in its inventory (status.resources, which only the agent writes)
 * and `serves` says the change came from that deployment's cluster.
 */
export function ownerToWake(
  obj: KubeObject,
  inventoryOf: (owner: Owner) => readonly ResourceStatus[] | undefined,
  serves: (owner: Owner) => boolean = () => true,
): Owner | undefined {
  const candidates: Owner[] = [];
  const annotated = ownerFromAnnotation(obj);
  if (annotated) candidates.push(annotated);
  const labelled = ownerKeyFromLabels(obj.metadata.labels);
  const slash = labelled?.indexOf('/') ?? -1;
  if (labelled && slash > 0) {
    const owner = { namespace: labelled.slice(0, slash), name: labelled.slice(slash + 1) };
    if (!annotated || annotated.namespace !== owner.namespace || annotated.name !== owner.name) candidates.push(owner);
  }
  const key = objectKey(refOf(obj));
  return candidates.find((owner) => {
    if (!serves(owner)) return false;
    const inventory = inventoryOf(owner);
    return inventory !== undefined && inventoryKeys(inventory).has(key);
  });
}

/** Inventory keys per status.resources array: a flood of events costs one lookup each, not a scan. */
const inventoryIndex = new WeakMap<readonly ResourceStatus[], Set<string>>();

function inventoryKeys(inventory: readonly ResourceStatus[]): Set<string> {
  let keys = inventoryIndex.get(inventory);
  if (!keys) {
    keys = new Set(inventory.map((entry) => objectKey(entry)));
    inventoryIndex.set(inventory, keys);
  }
  return keys;
}

/** Label values stop at 63 characters; longer names keep a prefix and a hash, still unique. */
function labelValue(value: string): string {
  if (value.length <= 63) return value;
  return `${value.slice(0, 50)}-${createHash('sha256').update(value).digest('hex').slice(0, 12)}`;
}

export function isOwnedBy(live: KubeObject, owner: Owner): boolean {
  return live.metadata.annotations?.[Annotations.owner] === ownershipValue(owner, refOf(live));
}

export function pruneDisabled(live: KubeObject): boolean {
  return live.metadata.annotations?.[Annotations.prune] === 'disabled';
}

export interface ScopeLookup {
  /** true: namespaced, false: cluster-scoped, undefined: unknown kind. */
  (apiVersion: string, kind: string): boolean | undefined;
}

/**
 * Settles namespaces and stamps ownership. Namespaced objects without a namespace land in the
 * target namespace (else the ContinuousDeployment's own); a namespace on a cluster-scoped object
 * is dropped, as kubectl does. Pure: the scope of each kind comes from the caller.
 */
export function prepareObjects(
  objects: readonly KubeObject[],
  scope: ScopeLookup,
  options: { owner: Owner; defaultNamespace: string },
): KubeObject[] {
  return objects.map((obj) => {
    const namespaced = scope(obj.apiVersion, obj.kind);
    const metadata = { ...obj.metadata };
    if (namespaced === false) delete metadata.namespace;
    else if (!metadata.namespace) metadata.namespace = options.defaultNamespace;
    const prepared: KubeObject = { ...obj, metadata };
    metadata.annotations = {
      ...(obj.metadata.annotations ?? {}),
      [Annotations.owner]: ownershipValue(options.owner, refOf(prepared)),
    };
    metadata.labels = { ...(obj.metadata.labels ?? {}), ...ownerLabels(options.owner) };
    return prepared;
  });
}

/** Refuses a set where two objects end up with the same identity after namespace defaulting. */
export function assertUnique(objects: readonly KubeObject[]): void {
  const seen = new Set<string>();
  for (const obj of objects) {
    const key = objectKey(refOf(obj));
    if (seen.has(key)) {
      throw terminal(
        'DuplicateObject',
        `${obj.kind} ${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata.name} is defined twice`,
        'remove one of the copies from Git',
      );
    }
    seen.add(key);
  }
}

/** Objects in the last inventory that the new render no longer has: the prune candidates. */
export function staleEntries(previous: readonly ResourceStatus[], current: readonly ObjectRef[]): ResourceStatus[] {
  const keep = new Set(current.map((ref) => objectKey(ref)));
  return previous.filter((entry) => !keep.has(objectKey(entry)));
}

export function inventoryRef(entry: ResourceStatus): ObjectRef {
  const ref: ObjectRef = { group: entry.group ?? '', version: entry.version, kind: entry.kind, name: entry.name };
  if (entry.namespace) ref.namespace = entry.namespace;
  return ref;
}

export function apiVersionOf(ref: { group?: string; version: string }): string {
  return ref.group ? `${ref.group}/${ref.version}` : ref.version;
}

export { splitApiVersion };
