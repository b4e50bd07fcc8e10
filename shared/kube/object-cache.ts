import { Labels } from '../api/constants.ts';
import type { Logger } from '../log/index.ts';
import type { Clock } from '../time/clock.ts';
import { listAndWatch } from '../controller/watch.ts';
import { withoutLastApplied } from './compare.ts';
import type { ResourceMapping } from './discovery.ts';
import type { KubeObject } from './object.ts';
import type { KubePort } from './port.ts';

export type CacheEvent = 'upsert' | 'delete';
export type CacheListener = (obj: KubeObject, event: CacheEvent, previous: KubeObject | undefined) => void;

export interface ObjectCacheOptions {
  labelSelector: string;
  clock: Clock;
  log: Logger;
  /**
   * Whether an object is worth a whole copy (ours: the reconcile compares and rates it). Any
   * other object that carries the label is kept as its identity alone, and `get` says it cannot
   * tell (the caller GETs). Default: every object whole.
   */
  keepWhole?: ((obj: KubeObject) => boolean) | undefined;
  /** Objects per LIST request; default the watch's own page size. */
  pageSize?: number | undefined;
}

interface KindWatch {
  objects: Map<string, KubeObject>;
  synced: boolean;
  failed: boolean;
  ready: Promise<void>;
}

/** Identity-only copies: what `get` will not answer for. */
const partial = new WeakSet<KubeObject>();

/**
 * A watch-fed copy of the objects Tidemark manages, one cluster-wide watch per kind, filtered by
 * our ownership label. Reconciles read live objects from it instead of the API server, and its
 * change events drive self-heal and prompt health updates. A kind that cannot be watched (no
 * cluster-wide RBAC) reports `undefined` and the caller falls back to a GET.
 *
 * Anyone may put the label on their own objects, so the cache keeps only what the agent reads:
 * no managedFields and no kubectl last-applied record on any copy, and only the identity of
 * objects `keepWhole` refuses. Lists come in pages.
 */
export class ObjectCache {
  private readonly port: KubePort;
  private readonly options: ObjectCacheOptions;
  private readonly kinds = new Map<string, KindWatch>();
  private readonly listeners: CacheListener[] = [];
  private readonly abort = new AbortController();

  constructor(port: KubePort, options: ObjectCacheOptions) {
    this.port = port;
    this.options = options;
  }

  onChange(listener: CacheListener): void {
    this.listeners.push(listener);
  }

  /** Starts watching a kind (once) and resolves when its first list has arrived or failed. */
  watch(mapping: ResourceMapping): Promise<void> {
    const id = kindId(mapping);
    const existing = this.kinds.get(id);
    if (existing) return existing.ready;
    let markReady!: () => void;
    const state: KindWatch = {
      objects: new Map(),
      synced: false,
      failed: false,
      ready: new Promise<void>((resolve) => (markReady = resolve)),
    };
    this.kinds.set(id, state);
    const emit = (obj: KubeObject, event: CacheEvent, previous: KubeObject | undefined) => {
      for (const listener of this.listeners) listener(obj, event, previous);
    };
    void listAndWatch<KubeObject>(
      this.port,
      mapping,
      {
        onList: (items) => {
          const fresh = new Map(items.map((o) => [objectId(o), o]));
          for (const [key, old] of state.objects) if (!fresh.has(key)) emit(old, 'delete', old);
          for (const [key, obj] of fresh) {
            const previous = state.objects.get(key);
            if (previous?.metadata.resourceVersion !== obj.metadata.resourceVersion) emit(obj, 'upsert', previous);
          }
          state.objects = fresh;
          state.synced = true;
          state.failed = false;
          markReady();
        },
        onUpsert: (obj) => {
          const previous = state.objects.get(objectId(obj));
          state.objects.set(objectId(obj), obj);
          emit(obj, 'upsert', previous);
        },
        onDelete: (obj) => {
          state.objects.delete(objectId(obj));
          emit(obj, 'delete', obj);
        },
      },
      {
        signal: this.abort.signal,
        clock: this.options.clock,
        log: this.options.log,
        labelSelector: this.options.labelSelector,
        pageSize: this.options.pageSize,
        transform: (obj) => (this.options.keepWhole && !this.options.keepWhole(obj) ? identityOf(obj) : slim(obj)),
        // Forbidden or unserved: stop answering for this kind; readers fall back to GETs.
        onError: () => {
          state.failed = true;
          markReady();
        },
      },
    );
    return state.ready;
  }

  /**
   * The cached copy: an object, `null` when the cache knows it does not exist, `undefined` when the
   * cache cannot tell (kind not watched or not synced, or only the object's identity is kept).
   */
  get(mapping: ResourceMapping, namespace: string | undefined, name: string): KubeObject | null | undefined {
    const state = this.kinds.get(kindId(mapping));
    if (!state || !state.synced || state.failed) return undefined;
    const obj = state.objects.get(`${mapping.namespaced ? (namespace ?? '') : ''}/${name}`);
    if (obj && partial.has(obj)) return undefined;
    return obj ?? null;
  }

  /** Every copy kept for a kind, identity-only ones included: what the cache costs, for tests and metrics. */
  kept(mapping: ResourceMapping): KubeObject[] {
    return [...(this.kinds.get(kindId(mapping))?.objects.values() ?? [])];
  }

  stop(): void {
    this.abort.abort();
  }
}

/** A whole copy minus the server's field bookkeeping and kubectl's record (the diff ignores both). */
export function slim(obj: KubeObject): KubeObject {
  const metadata = withoutLastApplied(obj.metadata);
  delete metadata.managedFields;
  return { ...obj, metadata };
}

/** What a refused object keeps: enough to key it, notice a change, and name its owner's labels. */
function identityOf(obj: KubeObject): KubeObject {
  const { name, namespace, resourceVersion, labels } = obj.metadata;
  const metadata: KubeObject['metadata'] = { name };
  if (namespace !== undefined) metadata.namespace = namespace;
  if (resourceVersion !== undefined) metadata.resourceVersion = resourceVersion;
  const own: Record<string, string> = {};
  for (const key of OWNER_LABELS) {
    const value = labels?.[key];
    if (value !== undefined) own[key] = value;
  }
  if (Object.keys(own).length > 0) metadata.labels = own;
  const stub: KubeObject = { apiVersion: obj.apiVersion, kind: obj.kind, metadata };
  partial.add(stub);
  return stub;
}

const OWNER_LABELS = [Labels.name, Labels.namespace];

function kindId(mapping: ResourceMapping): string {
  return `${mapping.group}/${mapping.version}/${mapping.plural}`;
}

function objectId(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}
