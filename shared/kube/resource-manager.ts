import { terminal, toTidemarkError, transient } from '../errors/index.ts';
import type { TidemarkError } from '../errors/index.ts';
import type { Clock } from '../time/clock.ts';
import type { ChangeEntry } from './change-set.ts';
import { sameObject } from './compare.ts';
import type { ResourceMapping } from './discovery.ts';
import { isNotFound, KubeApiError } from './errors.ts';
import type { KubeObject, ObjectRef } from './object.ts';
import { describeRef, isObject, joinApiVersion } from './object.ts';
import type { KubePort, PropagationPolicy } from './port.ts';

/** A desired object whose REST mapping is known and whose namespace is settled. */
export interface PlannedObject {
  object: KubeObject;
  mapping: ResourceMapping;
  ref: ObjectRef;
}

export type DiffState = 'missing' | 'drifted' | 'inSync';

export interface DiffResult {
  planned: PlannedObject;
  state: DiffState;
  live: KubeObject | undefined;
  /** The object as the server would store it after our apply (server-side dry-run). */
  merged: KubeObject | undefined;
}

export interface WriteOptions {
  /** Send update/create (PUT/POST) instead of server-side apply. */
  replace?: boolean;
  /** Delete and recreate when an update fails on an immutable field. */
  force?: boolean;
  skipSchemaValidation?: boolean;
}

export interface ResourceManagerOptions {
  clock: Clock;
}

/**
 * Server-side apply, diff, delete and wait, after fluxcd/pkg/ssa: each call reports what it did as
 * change entries and never throws for a single object's failure, so a caller can report all of
 * them at once.
 */
export class ResourceManager {
  readonly port: KubePort;
  private readonly options: ResourceManagerOptions;
  /** Kinds whose API server refused a create-only apply outright (createsOnly); shared by every manager over the port. */
  private readonly noCreateOnly: Set<string>;

  constructor(port: KubePort, options: ResourceManagerOptions) {
    this.port = port;
    this.options = options;
    let refused = REFUSED_KINDS.get(port);
    if (!refused) REFUSED_KINDS.set(port, (refused = new Set()));
    this.noCreateOnly = refused;
  }

  get(mapping: ResourceMapping, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    return this.port.get(mapping, namespace, name);
  }

  /**
   * Compares desired with live through a server-side dry-run apply, so defaults, webhooks and
   * fields owned by other managers count the way the server counts them.
   */
  async diff(planned: PlannedObject, options: WriteOptions = {}, known?: KubeObject | null): Promise<DiffResult> {
    let immutable: unknown;
    const [live, merged] = await Promise.all([
      known !== undefined ? (known ?? undefined) : this.get(planned.mapping, planned.ref.namespace, planned.ref.name),
      this.serverSideApply(planned, { dryRun: true, skipSchemaValidation: options.skipSchemaValidation }).catch((err: unknown) => {
        // With force an immutable-field change is not an error but a planned recreate.
        if (!options.force || !isImmutableFieldError(err)) throw err;
        immutable = err;
        return undefined;
      }),
    ]);
    if (!merged) {
      if (!live) throw immutable;
      return { planned, state: 'drifted', live, merged: undefined };
    }
    // A known copy comes from a watch, which may not have delivered the newest one yet — above all
    // our own write of a moment ago, read by the run that starts right after it. The dry-run
    // answered from the server's copy: when its resourceVersion is another, the known copy is stale
    // and would show drift that is not there (a no-op re-send) or hide drift that is (a revert).
    const current =
      known !== undefined && versionOf(merged) !== versionOf(live)
        ? await this.get(planned.mapping, planned.ref.namespace, planned.ref.name)
        : live;
    if (!current) return { planned, state: 'missing', live: current, merged };
    return { planned, state: sameObject(merged, current) ? 'inSync' : 'drifted', live: current, merged };
  }

  /** Writes one object; `previous` (from diff) says whether it existed, for created vs configured. */
  async apply(planned: PlannedObject, existed: boolean, options: WriteOptions = {}): Promise<ChangeEntry> {
    const action = existed ? 'configured' : 'created';
    try {
      const live = options.replace
        ? await this.replace(planned)
        : await this.serverSideApply(planned, { dryRun: false, skipSchemaValidation: options.skipSchemaValidation });
      return { ref: planned.ref, action, live };
    } catch (err) {
      if (options.force && isImmutableFieldError(err)) return this.recreate(planned, options);
      const error = objectError(planned.ref, err);
      return { ref: planned.ref, action: 'failed', message: error.message, error };
    }
  }

  /**
   * Creates an object that must not exist yet, in one server-side apply: `exists` when it does
   * (nothing was written then), a change entry otherwise. A resourceVersion in an apply is a
   * precondition on an update (409 when it differs) and is dropped on a create, and it leaves
   * nothing in managedFields: sending one no object has turns the apply into create-only — an
   * apply that would have updated an object nobody dry-ran is refused instead (ADR 0016).
   */
  async createOnly(planned: PlannedObject, options: WriteOptions = {}): Promise<ChangeEntry | 'exists'> {
    const object = { ...planned.object, metadata: { ...planned.object.metadata, resourceVersion: CREATE_ONLY } };
    try {
      const live = await this.serverSideApply(
        { ...planned, object },
        { dryRun: false, skipSchemaValidation: options.skipSchemaValidation },
      );
      return { ref: planned.ref, action: 'created', live };
    } catch (err) {
      if (isCreateOnlyRefusal(err)) return 'exists';
      if (isVersionOnCreateRefusal(err)) {
        // Nothing was written; this kind takes the dry-run path from now on.
        this.noCreateOnly.add(mappingId(planned.mapping));
        return 'exists';
      }
      const error = objectError(planned.ref, err);
      return { ref: planned.ref, action: 'failed', message: error.message, error };
    }
  }

  /**
   * Whether a create-only apply can work for this kind. Some kinds' storage sends a create made by
   * an apply through their own create, which refuses any resourceVersion (Services on the 1.20 API
   * server: a 500, nothing written); createOnly notes such kinds here when it meets one.
   */
  createsOnly(mapping: ResourceMapping): boolean {
    return !this.noCreateOnly.has(mappingId(mapping));
  }

  /** `uid`: only that incarnation (a rollback must not delete an object someone created since). */
  async delete(mapping: ResourceMapping, ref: ObjectRef, propagation: PropagationPolicy, uid?: string): Promise<ChangeEntry> {
    try {
      await this.port.delete(mapping, ref.namespace, ref.name, propagation, uid === undefined ? undefined : { uid });
      return { ref, action: 'deleted' };
    } catch (err) {
      if (isNotFound(err)) return { ref, action: 'deleted' };
      const error = objectError(ref, err);
      return { ref, action: 'failed', message: error.message, error };
    }
  }

  /**
   * Waits until CRDs are established and namespaces active, so the next stage can use them.
   * Returns the refs still not ready when the deadline passes.
   */
  async waitForFoundation(objects: readonly PlannedObject[], timeoutMs: number): Promise<ObjectRef[]> {
    const deadline = this.options.clock.now() + timeoutMs;
    let pending = objects.filter((p) => p.ref.kind === 'CustomResourceDefinition' || p.ref.kind === 'Namespace');
    let delay = 100;
    while (pending.length > 0) {
      const states = await Promise.all(
        pending.map(async (p) => ({
          p,
          ready: isFoundationReady(await this.get(p.mapping, p.ref.namespace, p.ref.name)),
        })),
      );
      pending = states.filter((s) => !s.ready).map((s) => s.p);
      if (pending.length === 0 || this.options.clock.now() >= deadline) break;
      await this.options.clock.sleep(delay);
      delay = Math.min(delay * 2, 2000);
    }
    if (objects.some((p) => p.ref.kind === 'CustomResourceDefinition')) this.port.forgetMappings();
    return pending.map((p) => p.ref);
  }

  private async serverSideApply(
    planned: PlannedObject,
    opts: { dryRun: boolean; skipSchemaValidation?: boolean | undefined },
  ): Promise<KubeObject> {
    try {
      return await this.sendApply(planned, opts);
    } catch (err) {
      // Servers before 1.25 ignore fieldValidation and reject undeclared fields in any apply.
      if (opts.skipSchemaValidation && err instanceof KubeApiError && err.message.includes('field not declared in schema')) {
        throw terminal(
          'ObjectInvalid',
          `${err.message}; this API server cannot skip schema validation for server-side apply (that needs Kubernetes 1.25 or later)`,
          'remove the field from the manifest in Git',
          err,
        );
      }
      throw err;
    }
  }

  private sendApply(planned: PlannedObject, opts: { dryRun: boolean; skipSchemaValidation?: boolean | undefined }): Promise<KubeObject> {
    return this.port.apply(planned.mapping, planned.object, opts);
  }

  private async replace(planned: PlannedObject): Promise<KubeObject> {
    const live = await this.get(planned.mapping, planned.ref.namespace, planned.ref.name);
    if (!live) return this.port.create(planned.mapping, planned.object);
    const metadata = { ...planned.object.metadata };
    if (live.metadata.resourceVersion !== undefined) metadata.resourceVersion = live.metadata.resourceVersion;
    return this.port.replace(planned.mapping, { ...planned.object, metadata });
  }

  private async recreate(planned: PlannedObject, options: WriteOptions): Promise<ChangeEntry> {
    const deleted = await this.delete(planned.mapping, planned.ref, 'foreground');
    if (deleted.action === 'failed') return deleted;
    const deadline = this.options.clock.now() + 60_000;
    while (await this.get(planned.mapping, planned.ref.namespace, planned.ref.name)) {
      if (this.options.clock.now() >= deadline) {
        const error = transient('RecreateTimeout', `${describeRef(planned.ref)} is still being deleted`);
        return { ref: planned.ref, action: 'failed', message: error.message, error };
      }
      await this.options.clock.sleep(200);
    }
    const entry = await this.apply(planned, false, { ...options, force: false });
    return entry.action === 'failed' ? entry : { ...entry, action: 'configured', message: 'recreated: an immutable field changed' };
  }
}

/** By port (one per cluster and identity), as the REST mapper caches what the server serves: a reconcile is short. */
const REFUSED_KINDS = new WeakMap<KubePort, Set<string>>();

/**
 * etcd's first revision: the cluster's first write, never an object a deployment applies, so the
 * precondition fails for every object that exists.
 */
const CREATE_ONLY = '1';

/** The object exists: the create-only marker was refused, or another writer created it first. */
function isCreateOnlyRefusal(err: unknown): boolean {
  if (!(err instanceof KubeApiError)) return false;
  // Conflict: the precondition failed (with force there are no field conflicts); AlreadyExists: a race.
  return err.status === 409;
}

/**
 * The kind's storage refused the resourceVersion itself, not the object: its create-on-apply goes
 * through a plain create (etcd3's store, as the 1.20 Service REST does), so the object was not written.
 */
function isVersionOnCreateRefusal(err: unknown): boolean {
  return (
    err instanceof KubeApiError && err.status === 500 && err.message.includes('resourceVersion should not be set on objects to be created')
  );
}

function mappingId(mapping: ResourceMapping): string {
  return `${mapping.group}/${mapping.version}/${mapping.plural}`;
}

function isImmutableFieldError(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 422 && /immutable/i.test(err.message);
}

function isFoundationReady(live: KubeObject | undefined): boolean {
  if (!live) return false;
  const status = live.status;
  if (!isObject(status)) return false;
  if (live.kind === 'Namespace') return status.phase === 'Active';
  const conditions = Array.isArray(status.conditions) ? status.conditions : [];
  return conditions.some((c) => isObject(c) && c.type === 'Established' && c.status === 'True');
}

/** Names the object in the error so a condition message says which one failed and why. */
function objectError(ref: ObjectRef, err: unknown): TidemarkError {
  const error = toTidemarkError(err);
  if (error instanceof KubeApiError && (error.status === 422 || error.code === 'ObjectInvalid')) {
    return terminal(
      'ObjectInvalid',
      `${describeRef(ref)} (${joinApiVersion(ref.group, ref.version)}) was rejected: ${error.message}`,
      'fix the manifest in Git',
      err,
    );
  }
  return error;
}

/** `''` for an object the server does not have yet (a dry-run create) or for none at all. */
function versionOf(obj: KubeObject | undefined): string {
  return obj?.metadata.resourceVersion ?? '';
}
