import { API_VERSION } from '../../shared/api/constants.ts';
import { Resources } from '../../shared/api/resources.ts';
import { runnerFor, type Runner, type RunnerDeps } from '../../shared/controller/kind-runner.ts';
import { involvedObject, namespaceOf } from '../../shared/controller/objects.ts';
import type { ReconcileResult } from '../../shared/controller/runner.ts';
import { combineErrors } from '../../shared/errors/combine.ts';
import { describeError, type TidemarkError } from '../../shared/errors/index.ts';
import type { EventRecorder } from '../../shared/kube/events.ts';
import { isNotFound } from '../../shared/kube/errors.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import type { KubeRest } from '../../shared/kube/rest.ts';
import { readInlineImageObjects } from '../specs.ts';
import type { DeploymentObject } from './object-types.ts';

/** Field manager of every object derived from a ContinuousDeployment. */
export const INLINE_FIELD_MANAGER = 'tidemark-image-updater';

/** One kind a deriver may produce, named after the ContinuousDeployment, in its namespace. */
export interface DerivedTarget {
  apiVersion: string;
  kind: string;
  plural: string;
  /** The live object from a watch cache, to check ownership without a request. */
  lookup(namespace: string, name: string): KubeObject | undefined;
  /** Whether `lookup` has listed once; before that an absent object proves nothing. */
  ready(): boolean;
}

/** The target of a kind whose controller runs in this process: lookups read its runner's cache. */
export function derivedTarget(kind: { kind: string; plural: string }, runner: Pick<Runner<KubeObject>, 'get' | 'ready'>): DerivedTarget {
  return {
    apiVersion: API_VERSION,
    kind: kind.kind,
    plural: kind.plural,
    lookup: (namespace, name) => runner.get(namespace, name),
    ready: () => runner.ready,
  };
}

export type Derivation =
  /** The ContinuousDeployment asks for none of this deriver's objects: earlier ones are deleted. */
  | { kind: 'none' }
  | { kind: 'objects'; objects: KubeObject[] }
  /** The block is invalid: reported on the ContinuousDeployment; objects already derived stay. */
  | { kind: 'invalid'; errors: TidemarkError[] };

/**
 * Turns part of a ContinuousDeployment's spec into objects of its `targets` kinds. The image
 * objects are one deriver; the ImageUpdateAutomation is another, added to the list in main.ts.
 */
export interface InlineDeriver {
  name: string;
  targets: readonly DerivedTarget[];
  derive(cd: DeploymentObject): Derivation;
}

/** The inline `imageRepository` block → an ImageRepository and an ImagePolicy. */
export function imageObjectsDeriver(targets: { imageRepository: DerivedTarget; imagePolicy: DerivedTarget }): InlineDeriver {
  return {
    name: 'image-objects',
    targets: [targets.imageRepository, targets.imagePolicy],
    derive(cd) {
      const result = readInlineImageObjects(cd);
      if (result === undefined) return { kind: 'none' };
      if (!result.ok) return { kind: 'invalid', errors: result.errors };
      return {
        kind: 'objects',
        objects: [result.value.imageRepository as unknown as KubeObject, result.value.imagePolicy as unknown as KubeObject],
      };
    },
  };
}

/** True when `obj` names the ContinuousDeployment as its controlling owner. */
export function controlledBy(obj: KubeObject, cd: DeploymentObject): boolean {
  return (obj.metadata.ownerReferences ?? []).some((ref) => ref.controller === true && ref.uid === cd.metadata.uid && ref.kind === cd.kind);
}

/**
 * The object as applied: owned by the ContinuousDeployment, so deleting it garbage-collects the
 * derived objects, without blocking that deletion on them.
 */
export function withOwner(obj: KubeObject, cd: DeploymentObject): KubeObject {
  const owner = {
    apiVersion: cd.apiVersion,
    kind: cd.kind,
    name: cd.metadata.name,
    uid: cd.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: false,
  };
  return { ...obj, metadata: { ...obj.metadata, namespace: namespaceOf(cd), ownerReferences: [owner] } };
}

export interface InlineControllerDeps extends RunnerDeps {
  /** Applies and deletes the derived objects. */
  rest: KubeRest;
  events: EventRecorder;
  derivers: readonly InlineDeriver[];
  /** How often derived objects are applied again, restoring ones deleted by hand; default 10 min. */
  resyncMs?: number;
}

/**
 * Watches ContinuousDeployments and keeps the objects their inline blocks declare: applied with
 * server-side apply under our own field manager, owned by the ContinuousDeployment, and deleted
 * when the block goes away (only when they are still ours).
 */
export class InlineController {
  readonly runner: Runner<DeploymentObject>;
  private readonly deps: InlineControllerDeps;

  constructor(deps: InlineControllerDeps) {
    this.deps = deps;
    this.runner = runnerFor(deps, {
      resource: Resources.ContinuousDeployment,
      name: 'inline',
      reconcile: (obj, signal) => this.reconcile(obj, signal),
    });
  }

  async reconcile(cd: DeploymentObject, signal: AbortSignal): Promise<ReconcileResult> {
    // Garbage collection removes what a deleted ContinuousDeployment owned.
    if (cd.metadata.deletionTimestamp || !cd.metadata.uid) return {};
    if (this.deps.derivers.some((d) => d.targets.some((t) => !t.ready()))) return { requeueAfterMs: 1000 };
    let derivedAny = false;
    for (const deriver of this.deps.derivers) {
      if (signal.aborted) return {};
      const derivation = deriver.derive(cd);
      if (derivation.kind === 'invalid') {
        const error = combineErrors(derivation.errors);
        await this.deps.events.record(involvedObject(cd), 'Warning', error.code, describeError(error));
        continue;
      }
      const objects = derivation.kind === 'objects' ? derivation.objects : [];
      if (objects.length > 0) derivedAny = true;
      if (await this.apply(cd, deriver, objects)) await this.prune(cd, deriver, objects);
    }
    return derivedAny ? { requeueAfterMs: this.deps.resyncMs ?? 10 * 60_000 } : {};
  }

  /** Applies the derived objects; false (and an Event) when one of the names is taken by an object that is not ours. */
  private async apply(cd: DeploymentObject, deriver: InlineDeriver, objects: readonly KubeObject[]): Promise<boolean> {
    const namespace = namespaceOf(cd);
    for (const obj of objects) {
      const target = targetOf(deriver, obj);
      const live = target.lookup(namespace, obj.metadata.name);
      if (live && !controlledBy(live, cd)) {
        await this.deps.events.record(
          involvedObject(cd),
          'Warning',
          'DerivedObjectConflict',
          `${obj.kind} ${namespace}/${obj.metadata.name} exists and is not owned by this ContinuousDeployment; ` +
            'rename or delete it to use the inline imageRepository block',
        );
        return false;
      }
    }
    for (const obj of objects) {
      const target = targetOf(deriver, obj);
      const objPath = `${targetPath(target, namespace)}/${encodeURIComponent(obj.metadata.name)}`;
      const live = target.lookup(namespace, obj.metadata.name);
      const cleanup = live ? removalPatch(live, obj, INLINE_FIELD_MANAGER) : undefined;
      if (cleanup) {
        await this.deps.rest.request({
          method: 'PATCH',
          path: objPath,
          query: { fieldManager: INLINE_FIELD_MANAGER },
          contentType: 'application/merge-patch+json',
          body: { ...cleanup, metadata: { uid: live?.metadata.uid } },
        });
      }
      await this.deps.rest.request({
        method: 'PATCH',
        path: objPath,
        query: { fieldManager: INLINE_FIELD_MANAGER, force: true },
        contentType: 'application/apply-patch+yaml',
        body: withOwner(obj, cd),
      });
    }
    return true;
  }

  /** Deletes objects of the deriver's kinds named after the ContinuousDeployment that it no longer declares. */
  private async prune(cd: DeploymentObject, deriver: InlineDeriver, objects: readonly KubeObject[]): Promise<void> {
    const namespace = namespaceOf(cd);
    for (const target of deriver.targets) {
      if (objects.some((o) => o.kind === target.kind && o.metadata.name === cd.metadata.name)) continue;
      const live = target.lookup(namespace, cd.metadata.name);
      if (!live || !controlledBy(live, cd)) continue;
      try {
        await this.deps.rest.request({
          method: 'DELETE',
          path: `${targetPath(target, namespace)}/${encodeURIComponent(cd.metadata.name)}`,
          body: {
            apiVersion: 'v1',
            kind: 'DeleteOptions',
            propagationPolicy: 'Background',
            preconditions: { uid: live.metadata.uid },
          },
        });
        this.deps.log.info({ cd: `${namespace}/${cd.metadata.name}`, kind: target.kind }, 'deleted derived object');
      } catch (err) {
        // Already gone, or replaced by another object of that name (the uid precondition).
        if (!isNotFound(err) && !isUidMismatch(err)) throw err;
      }
    }
  }
}

/**
 * A merge patch that writes the desired spec and removes the fields our apply set before and the
 * derived object no longer sets, or undefined when there are none to remove. Server-side apply
 * should remove them itself, but the 1.20 API server leaves them as nulls in custom resources
 * (failing schema validation: a null `filterTags`, a `policy` with two kinds). The desired
 * values travel in the same patch because removing alone can leave an invalid object (a
 * `policy` with no kind).
 */
export function removalPatch(live: KubeObject, desired: KubeObject, manager: string): { spec: Record<string, unknown> } | undefined {
  const entries = Array.isArray(live.metadata.managedFields) ? live.metadata.managedFields : [];
  const removals: Record<string, unknown> = {};
  for (const entry of entries) {
    if (!isRecord(entry) || entry.manager !== manager || entry.operation !== 'Apply' || !isRecord(entry.fieldsV1)) continue;
    const spec = entry.fieldsV1['f:spec'];
    if (isRecord(spec)) collectDropped(spec, live.spec, desired.spec, removals);
  }
  if (Object.keys(removals).length === 0) return undefined;
  return { spec: overlay(isRecord(desired.spec) ? desired.spec : {}, removals) };
}

/** `base` with the nulls (and nested nulls) of `removals` laid over it. */
function overlay(base: Record<string, unknown>, removals: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(removals)) {
    const current = out[key];
    out[key] = isRecord(value) && isRecord(current) ? overlay(current, value) : value;
  }
  return out;
}

/** Walks the owned field set (`f:<name>` keys) alongside the live and desired values. */
function collectDropped(owned: Record<string, unknown>, live: unknown, desired: unknown, patch: Record<string, unknown>): void {
  if (!isRecord(live)) return;
  for (const [key, child] of Object.entries(owned)) {
    if (!key.startsWith('f:')) continue;
    const name = key.slice(2);
    if (!(name in live)) continue;
    const wanted = isRecord(desired) ? desired[name] : undefined;
    if (wanted === undefined || wanted === null) {
      patch[name] = null;
      continue;
    }
    if (isRecord(child) && isRecord(wanted) && isRecord(live[name])) {
      const nested: Record<string, unknown> = {};
      collectDropped(child, live[name], wanted, nested);
      if (Object.keys(nested).length > 0) patch[name] = nested;
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function targetOf(deriver: InlineDeriver, obj: KubeObject): DerivedTarget {
  const target = deriver.targets.find((t) => t.kind === obj.kind && t.apiVersion === obj.apiVersion);
  if (!target) throw new Error(`deriver ${deriver.name} produced a ${obj.apiVersion} ${obj.kind}, which is not among its targets`);
  return target;
}

function targetPath(target: DerivedTarget, namespace: string): string {
  const base = target.apiVersion.includes('/') ? `/apis/${target.apiVersion}` : `/api/${target.apiVersion}`;
  return `${base}/namespaces/${encodeURIComponent(namespace)}/${target.plural}`;
}

function isUidMismatch(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { status?: unknown }).status === 409;
}
