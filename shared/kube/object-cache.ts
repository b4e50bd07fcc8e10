import type { Logger } from '../log/index.ts';
import type { Clock } from '../time/clock.ts';
import { listAndWatch } from '../controller/watch.ts';
import type { ResourceMapping } from './discovery.ts';
import type { KubeObject } from './object.ts';
import type { KubePort } from './port.ts';

export type CacheEvent = 'upsert' | 'delete';
export type CacheListener = (obj: KubeObject, event: CacheEvent, previous: KubeObject | undefined) => void;

interface KindWatch {
  objects: Map<string, KubeObject>;
  synced: boolean;
  failed: boolean;
  ready: Promise<void>;
}

/**
 * A watch-fed copy of the objects Tidemark manages, one cluster-wide watch per kind, filtered by
 * our ownership label. Reconciles read live objects from it instead of the API server, and its
 * change events drive self-heal and prompt health updates. A kind that cannot be watched (no
 * cluster-wide RBAC) reports `undefined` and the caller falls back to a GET.
 */
export class ObjectCache {
  private readonly port: KubePort;
  private readonly options: { labelSelector: string; clock: Clock; log: Logger };
  private readonly kinds = new Map<string, KindWatch>();
  private readonly listeners: CacheListener[] = [];
  private readonly abort = new AbortController();

  constructor(port: KubePort, options: { labelSelector: string; clock: Clock; log: Logger }) {
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
   * cache cannot tell (kind not watched or not synced).
   */
  get(mapping: ResourceMapping, namespace: string | undefined, name: string): KubeObject | null | undefined {
    const state = this.kinds.get(kindId(mapping));
    if (!state || !state.synced || state.failed) return undefined;
    return state.objects.get(`${mapping.namespaced ? (namespace ?? '') : ''}/${name}`) ?? null;
  }

  stop(): void {
    this.abort.abort();
  }
}

function kindId(mapping: ResourceMapping): string {
  return `${mapping.group}/${mapping.version}/${mapping.plural}`;
}

function objectId(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}
