import type { ResourceMapping } from './discovery.ts';
import { KubeApiError } from './errors.ts';
import type { KubeObject } from './object.ts';
import { isObject, joinApiVersion, splitApiVersion } from './object.ts';
import type {
  AccessAttributes,
  KubePort,
  ListOptions,
  ListPage,
  MetadataPatch,
  PageOptions,
  PropagationPolicy,
  WatchEvent,
} from './port.ts';

/** For unit tests only: an in-memory API server that keeps just enough of Kubernetes' rules. */

export type FakeOperation = 'get' | 'list' | 'apply' | 'dryRun' | 'create' | 'replace' | 'delete' | 'patchStatus' | 'patchMetadata';

export interface FakeCall {
  op: FakeOperation;
  kind: string;
  namespace?: string;
  name?: string;
}

interface Failure {
  op: FakeOperation;
  kind: string | undefined;
  name: string | undefined;
  error: KubeApiError;
  times: number;
}

interface Watcher {
  resource: ResourceMapping;
  options: ListOptions;
  onEvent: (event: WatchEvent) => void;
  /** Ends the watch with an error, as a dropped connection does. */
  fail?: (err: Error) => void;
}

const WRITES: ReadonlySet<FakeOperation> = new Set(['apply', 'create', 'replace', 'delete', 'patchStatus', 'patchMetadata']);

const BUILT_IN: ResourceMapping[] = [
  { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false },
  { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true },
  { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true },
  { group: '', version: 'v1', kind: 'Service', plural: 'services', namespaced: true },
  { group: '', version: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true },
  { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', namespaced: true },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole', plural: 'clusterroles', namespaced: false },
  {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    kind: 'CustomResourceDefinition',
    plural: 'customresourcedefinitions',
    namespaced: false,
  },
  { group: 'tidemark.dev', version: 'v1alpha1', kind: 'ContinuousDeployment', plural: 'continuousdeployments', namespaced: true },
];

/**
 * Objects get resourceVersions (one counter, as etcd's), uids and generations (bumped when
 * anything but metadata and status changes); apply is a plain deep merge, dry-runs answer without
 * storing; delete of an object with finalizers only marks it; every write is a watch event. Tests
 * inject failures per operation, kind and name, and read `calls` to assert what was written.
 */
export class FakeKubePort implements KubePort {
  readonly calls: FakeCall[] = [];
  private readonly mappings = new Map<string, ResourceMapping>();
  private readonly objects = new Map<string, KubeObject>();
  private readonly watchers = new Set<Watcher>();
  private readonly failures: Failure[] = [];
  /** Every event so far, so a watch from a list's resourceVersion misses nothing written in between. */
  private readonly history: Array<{ resource: ResourceMapping; event: WatchEvent; version: number }> = [];
  // As etcd, whose first revision is the cluster's own first write: no object here has resourceVersion "1".
  private version = 1;
  /** Access reviews refused by deny(); every other one is allowed. */
  private readonly denied: Array<{ verb: string | undefined; kind: string | undefined; namespace: string | undefined }> = [];
  /** Every access review asked, in order. */
  readonly accessReviews: AccessAttributes[] = [];

  constructor(extraKinds: ResourceMapping[] = []) {
    for (const m of [...BUILT_IN, ...extraKinds]) this.serve(m);
  }

  serve(mapping: ResourceMapping): void {
    this.mappings.set(`${joinApiVersion(mapping.group, mapping.version)}|${mapping.kind}`, mapping);
  }

  /** The next `times` calls of `op` (on this kind and name, when given) fail with `error`. */
  fail(op: FakeOperation, target: { kind?: string; name?: string }, error: KubeApiError, times = Infinity): void {
    this.failures.push({ op, kind: target.kind, name: target.name, error, times });
  }

  /** Every open watch ends with `error`, as when the API server goes away. */
  dropWatches(error: Error): void {
    for (const watcher of [...this.watchers]) watcher.fail?.(error);
  }

  /** Writes recorded so far (dry-runs and reads are not writes). */
  writes(): FakeCall[] {
    return this.calls.filter((c) => WRITES.has(c.op));
  }

  /** Stores an object as if someone else had created it; returns the stored copy. */
  seed(obj: KubeObject): KubeObject {
    const resource = this.mappingOf(obj);
    return this.store(resource, this.fresh(obj), 'ADDED');
  }

  /** The stored copy, or undefined; for assertions. */
  peek(apiVersion: string, kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const resource = this.mappings.get(`${apiVersion}|${kind}`);
    const obj = resource ? this.objects.get(keyOf(resource, namespace, name)) : undefined;
    return obj ? clone(obj) : undefined;
  }

  async mapping(apiVersion: string, kind: string): Promise<ResourceMapping | undefined> {
    await tick();
    return this.mappings.get(`${apiVersion}|${kind}`);
  }

  forgetMappings(): void {}

  async get(resource: ResourceMapping, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    await tick();
    this.check('get', resource, namespace, name);
    const obj = this.objects.get(keyOf(resource, namespace, name));
    return obj ? clone(obj) : undefined;
  }

  /**
   * Pages by key, as the API server does. Later pages read the objects as they are now, not as
   * they were at the first page's version; a watch from that version replays the difference.
   */
  async list(resource: ResourceMapping, options: PageOptions = {}): Promise<ListPage> {
    await tick();
    this.check('list', resource, options.namespace, undefined);
    const token = options.continue ? (JSON.parse(options.continue) as { version: number; after: string }) : undefined;
    const version = token?.version ?? this.version;
    const all = [...this.objects.entries()]
      .filter(([key, o]) => matches(resource, options, o) && (token === undefined || key > token.after))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const page = options.limit === undefined ? all : all.slice(0, options.limit);
    const last = page.at(-1);
    const more = page.length < all.length && last !== undefined;
    return {
      items: page.map(([, o]) => clone(o)),
      resourceVersion: String(version),
      ...(more ? { continue: JSON.stringify({ version, after: last[0] }) } : {}),
    };
  }

  watch(
    resource: ResourceMapping,
    options: ListOptions & { resourceVersion: string },
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const watcher: Watcher = { resource, options, onEvent };
    const from = Number(options.resourceVersion);
    for (const h of this.history) if (h.version > from && wants(watcher, h.resource, h.event.object as KubeObject)) onEvent(clone(h.event));
    this.watchers.add(watcher);
    return new Promise<void>((resolve, reject) => {
      const end = () => {
        this.watchers.delete(watcher);
        resolve();
      };
      watcher.fail = (err) => {
        this.watchers.delete(watcher);
        signal.removeEventListener('abort', end);
        reject(err);
      };
      if (signal.aborted) end();
      else signal.addEventListener('abort', end, { once: true });
    });
  }

  async apply(resource: ResourceMapping, obj: KubeObject, options: { dryRun?: boolean | undefined } = {}): Promise<KubeObject> {
    await tick();
    const { namespace, name } = obj.metadata;
    this.check(options.dryRun ? 'dryRun' : 'apply', resource, namespace, name);
    const live = this.objects.get(keyOf(resource, namespace, name));
    // As the API server: a resourceVersion in an apply is a precondition on an update and dropped on a create.
    const precondition = obj.metadata.resourceVersion;
    if (live && precondition !== undefined) this.checkVersion(live, precondition);
    if (!live && precondition !== undefined) {
      const metadata = { ...obj.metadata };
      delete metadata.resourceVersion;
      obj = { ...obj, metadata };
    }
    const next = live ? (merge(live, obj) as KubeObject) : this.fresh(obj);
    if (options.dryRun) return clone(live ? this.bumped(live, next) : next);
    if (live && sameContent(live, next)) return clone(live);
    return this.store(resource, live ? this.bumped(live, next) : next, live ? 'MODIFIED' : 'ADDED');
  }

  async create(resource: ResourceMapping, obj: KubeObject, options: { dryRun?: boolean | undefined } = {}): Promise<KubeObject> {
    await tick();
    const { namespace, name } = obj.metadata;
    this.check(options.dryRun ? 'dryRun' : 'create', resource, namespace, name);
    if (this.objects.has(keyOf(resource, namespace, name)))
      throw new KubeApiError(409, 'AlreadyExists', `${resource.plural} "${name}" already exists`);
    const next = this.fresh(obj);
    return options.dryRun ? clone(next) : this.store(resource, next, 'ADDED');
  }

  async replace(resource: ResourceMapping, obj: KubeObject): Promise<KubeObject> {
    await tick();
    const { namespace, name } = obj.metadata;
    this.check('replace', resource, namespace, name);
    const live = this.require(resource, namespace, name);
    this.checkVersion(live, obj.metadata.resourceVersion);
    const next = { ...clone(obj), status: live.status, metadata: { ...clone(obj.metadata), uid: live.metadata.uid } } as KubeObject;
    if (next.status === undefined) delete next.status;
    return this.store(resource, this.bumped(live, next), 'MODIFIED');
  }

  async delete(
    resource: ResourceMapping,
    namespace: string | undefined,
    name: string,
    propagation: PropagationPolicy,
    preconditions?: { uid: string },
  ): Promise<void> {
    await tick();
    this.check('delete', resource, namespace, name);
    void propagation; // the fake has no garbage collector: dependents are the test's business
    const live = this.require(resource, namespace, name);
    if (preconditions && live.metadata.uid !== preconditions.uid) {
      throw new KubeApiError(
        409,
        'Conflict',
        `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${live.metadata.uid ?? ''}`,
      );
    }
    if ((live.metadata.finalizers ?? []).length > 0) {
      if (!live.metadata.deletionTimestamp) {
        this.store(resource, { ...live, metadata: { ...live.metadata, deletionTimestamp: '1970-01-01T00:00:00Z' } }, 'MODIFIED');
      }
      return;
    }
    this.remove(resource, live);
  }

  async patchStatus(
    resource: ResourceMapping,
    namespace: string | undefined,
    name: string,
    status: Record<string, unknown>,
  ): Promise<KubeObject> {
    await tick();
    this.check('patchStatus', resource, namespace, name);
    const live = this.require(resource, namespace, name);
    const next = { ...live, status: merge(isObject(live.status) ? live.status : {}, status) };
    return this.store(resource, next, 'MODIFIED');
  }

  async patchMetadata(resource: ResourceMapping, namespace: string | undefined, name: string, patch: MetadataPatch): Promise<KubeObject> {
    await tick();
    this.check('patchMetadata', resource, namespace, name);
    const live = this.require(resource, namespace, name);
    this.checkVersion(live, patch.resourceVersion);
    const metadata = { ...live.metadata };
    if (patch.finalizers) metadata.finalizers = [...patch.finalizers];
    if (patch.annotations) metadata.annotations = merge(metadata.annotations ?? {}, patch.annotations) as Record<string, string>;
    const next = { ...live, metadata };
    if (metadata.deletionTimestamp && (metadata.finalizers ?? []).length === 0) {
      this.remove(resource, next);
      return clone(next);
    }
    return this.store(resource, next, 'MODIFIED');
  }

  /** canI answers no for this verb (any when omitted) on this kind and namespace (any when omitted). */
  deny(target: { verb?: AccessAttributes['verb']; kind?: string; namespace?: string }): void {
    this.denied.push({ verb: target.verb, kind: target.kind, namespace: target.namespace });
  }

  async canI(attributes: AccessAttributes): Promise<{ allowed: boolean; reason?: string | undefined }> {
    await tick();
    this.accessReviews.push(attributes);
    const denied = this.denied.some(
      (d) =>
        (d.verb === undefined || d.verb === attributes.verb) &&
        (d.kind === undefined || d.kind === attributes.resource.kind) &&
        (d.namespace === undefined || d.namespace === attributes.namespace),
    );
    return { allowed: !denied };
  }

  private check(op: FakeOperation, resource: ResourceMapping, namespace: string | undefined, name: string | undefined): void {
    const call: FakeCall = { op, kind: resource.kind };
    if (namespace !== undefined && resource.namespaced) call.namespace = namespace;
    if (name !== undefined) call.name = name;
    this.calls.push(call);
    const failure = this.failures.find(
      (f) => f.op === op && f.times > 0 && (f.kind === undefined || f.kind === resource.kind) && (f.name === undefined || f.name === name),
    );
    if (!failure) return;
    failure.times--;
    throw failure.error;
  }

  private require(resource: ResourceMapping, namespace: string | undefined, name: string): KubeObject {
    const live = this.objects.get(keyOf(resource, namespace, name));
    if (!live) throw new KubeApiError(404, 'NotFound', `${resource.plural} "${name}" not found`);
    return live;
  }

  private checkVersion(live: KubeObject, expected: string | undefined): void {
    if (expected !== undefined && expected !== live.metadata.resourceVersion) {
      throw new KubeApiError(409, 'Conflict', `the object has been modified; please apply your changes to the latest version`);
    }
  }

  private mappingOf(obj: KubeObject): ResourceMapping {
    const resource = this.mappings.get(`${obj.apiVersion}|${obj.kind}`);
    if (!resource) throw new Error(`FakeKubePort does not serve ${obj.apiVersion} ${obj.kind}; call serve() first`);
    return resource;
  }

  /** A new object as the server would create it. */
  private fresh(obj: KubeObject): KubeObject {
    const copy = clone(obj);
    copy.metadata.uid ??= `uid-${obj.kind.toLowerCase()}-${obj.metadata.name}-${this.version + 1}`;
    copy.metadata.generation = 1;
    copy.metadata.creationTimestamp ??= '1970-01-01T00:00:00Z';
    return copy;
  }

  /** `next` with the generation moved on when its content (not metadata, not status) changed. */
  private bumped(live: KubeObject, next: KubeObject): KubeObject {
    const generation = live.metadata.generation ?? 1;
    const changed = JSON.stringify(content(live)) !== JSON.stringify(content(next));
    return { ...next, metadata: { ...next.metadata, generation: changed ? generation + 1 : generation } };
  }

  private store(resource: ResourceMapping, obj: KubeObject, type: 'ADDED' | 'MODIFIED'): KubeObject {
    const stored = clone(obj);
    stored.metadata.resourceVersion = String(++this.version);
    if (!resource.namespaced) delete stored.metadata.namespace;
    this.objects.set(keyOf(resource, stored.metadata.namespace, stored.metadata.name), stored);
    this.emit(resource, type, stored);
    return clone(stored);
  }

  private remove(resource: ResourceMapping, obj: KubeObject): void {
    this.objects.delete(keyOf(resource, obj.metadata.namespace, obj.metadata.name));
    const gone = clone(obj);
    gone.metadata.resourceVersion = String(++this.version);
    this.emit(resource, 'DELETED', gone);
  }

  private emit(resource: ResourceMapping, type: WatchEvent['type'], obj: KubeObject): void {
    this.history.push({ resource, event: { type, object: clone(obj) }, version: this.version });
    for (const w of this.watchers) if (wants(w, resource, obj)) w.onEvent({ type, object: clone(obj) });
  }
}

function wants(watcher: Watcher, resource: ResourceMapping, obj: KubeObject): boolean {
  const w = watcher.resource;
  return w.kind === resource.kind && w.group === resource.group && matches(resource, watcher.options, obj);
}

function keyOf(resource: ResourceMapping, namespace: string | undefined, name: string): string {
  return `${resource.group}/${resource.kind}/${resource.namespaced ? (namespace ?? '') : ''}/${name}`;
}

function matches(resource: ResourceMapping, options: ListOptions, obj: KubeObject): boolean {
  if (obj.kind !== resource.kind || splitApiVersion(obj.apiVersion).group !== resource.group) return false;
  if (options.namespace !== undefined && resource.namespaced && obj.metadata.namespace !== options.namespace) return false;
  for (const term of (options.labelSelector ?? '').split(',').filter(Boolean)) {
    const [key, value] = term.split('=') as [string, string | undefined];
    const actual = obj.metadata.labels?.[key];
    if (actual === undefined || (value !== undefined && actual !== value)) return false;
  }
  return true;
}

/** A JSON merge patch (RFC 7386): objects merge, everything else replaces, null removes. */
function merge(base: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isObject(base) ? clone(base) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = merge(out[key], value);
  }
  return out;
}

function content(obj: KubeObject): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([key]) => key !== 'metadata' && key !== 'status'));
}

function sameContent(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject) => ({ ...o, metadata: { ...o.metadata, resourceVersion: undefined, generation: undefined } });
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

function clone<T>(value: T): T {
  return value === undefined ? value : structuredClone(value);
}

/** Answers a turn later, as a server would, so callers cannot rely on synchronous replies. */
function tick(): Promise<void> {
  return Promise.resolve();
}
