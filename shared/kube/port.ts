import type { ResourceMapping } from './discovery.ts';
import type { KubeObject } from './object.ts';

export type PropagationPolicy = 'foreground' | 'background' | 'orphan';

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: unknown;
}

export interface ListOptions {
  /** Omitted: all namespaces (or a cluster-scoped kind). */
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  /** Server-side field selection (`involvedObject.apiVersion=…` on Events); the fake port ignores it. */
  fieldSelector?: string | undefined;
}

/** One page of a LIST: at most `limit` objects, from where `continue` left off. */
export interface PageOptions extends ListOptions {
  limit?: number | undefined;
  continue?: string | undefined;
}

export interface ListPage {
  items: KubeObject[];
  /** The snapshot every page of one listing shares. */
  resourceVersion: string;
  /** Set while more pages follow: pass it back as `continue`. */
  continue?: string | undefined;
}

export interface DryRunOptions {
  /** Ask the server what it would store, and store nothing. */
  dryRun?: boolean | undefined;
}

export interface ApplyOptions extends DryRunOptions {
  /** `fieldValidation=Ignore`: the server drops fields its schema does not know. */
  skipSchemaValidation?: boolean | undefined;
}

/** Metadata a controller changes on its own objects; a resourceVersion makes the patch conditional. */
export interface MetadataPatch {
  finalizers?: string[];
  annotations?: Record<string, string | null>;
  resourceVersion?: string | undefined;
}

/** What a SelfSubjectAccessReview asks: may this port's identity do `verb` on this object? */
export interface AccessAttributes {
  verb: 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';
  resource: ResourceMapping;
  namespace: string | undefined;
  name?: string | undefined;
}

/**
 * The Kubernetes operations controllers and reconcile steps need, and nothing more. Errors are
 * `KubeApiError`s with the server's status (404, 409, 422 ...) in both implementations, so
 * `isNotFound`/`isConflict` work the same against the real server and the in-memory fake.
 */
export interface KubePort {
  /** The REST mapping of a kind; undefined when the server does not serve it. */
  mapping(apiVersion: string, kind: string): Promise<ResourceMapping | undefined>;
  /** Forgets cached mappings, e.g. after CRDs were applied. */
  forgetMappings(): void;
  get(resource: ResourceMapping, namespace: string | undefined, name: string): Promise<KubeObject | undefined>;
  /** One page when `limit` is set (follow `continue`), else every object at once. */
  list(resource: ResourceMapping, options?: PageOptions): Promise<ListPage>;
  /** Streams changes after `resourceVersion` until the stream ends or the signal aborts. */
  watch(
    resource: ResourceMapping,
    options: ListOptions & { resourceVersion: string },
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
  ): Promise<void>;
  /** Server-side apply under the port's field manager, taking ownership of conflicting fields. */
  apply(resource: ResourceMapping, obj: KubeObject, options?: ApplyOptions): Promise<KubeObject>;
  create(resource: ResourceMapping, obj: KubeObject, options?: DryRunOptions): Promise<KubeObject>;
  /** Update (PUT) of the whole object; `obj.metadata.resourceVersion` makes it conditional. */
  replace(resource: ResourceMapping, obj: KubeObject): Promise<KubeObject>;
  /** `preconditions.uid`: delete only that incarnation of the object (409 when another one holds the name). */
  delete(
    resource: ResourceMapping,
    namespace: string | undefined,
    name: string,
    propagation: PropagationPolicy,
    preconditions?: { uid: string },
  ): Promise<void>;
  /** Merge patch of the status subresource: listed fields replace, `null` removes. */
  patchStatus(resource: ResourceMapping, namespace: string | undefined, name: string, status: Record<string, unknown>): Promise<KubeObject>;
  patchMetadata(resource: ResourceMapping, namespace: string | undefined, name: string, patch: MetadataPatch): Promise<KubeObject>;
  /**
   * The API server's answer to "may I?" for the identity this port acts as (kubectl auth can-i):
   * a SelfSubjectAccessReview, which every authenticated user may ask about itself.
   */
  canI(attributes: AccessAttributes): Promise<{ allowed: boolean; reason?: string | undefined }>;
}

export function propagationName(policy: PropagationPolicy): 'Foreground' | 'Background' | 'Orphan' {
  return policy === 'foreground' ? 'Foreground' : policy === 'orphan' ? 'Orphan' : 'Background';
}
