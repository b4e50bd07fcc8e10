import { createHash } from 'node:crypto';
import { terminal, TidemarkError, toTidemarkError } from '../../shared/errors/index.ts';
import type { ChangeEntry } from '../../shared/kube/change-set.ts';
import { describeFailures, failureKind } from '../../shared/kube/change-set.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { isObject, objectKey, refOf } from '../../shared/kube/object.ts';
import { sameObject } from '../../shared/kube/compare.ts';
import { STAGES, stageObjects, stageOf } from '../../shared/kube/order.ts';
import { isConflict } from '../../shared/kube/errors.ts';
import type { Stage } from '../../shared/kube/order.ts';
import { mapLimit } from '../../shared/kube/pool.ts';
import type { ResourceMapping } from '../../shared/kube/discovery.ts';
import type { DiffResult, PlannedObject } from '../../shared/kube/resource-manager.ts';
import { byWave, splitHooks, syncOptionsOf, syncWaveOf } from '../argo-sync.ts';
import type { Hook } from '../argo-sync.ts';
import { assertUnique, prepareObjects } from '../plan.ts';
import type { StepContext } from './context.ts';
import { ignoredFields, withoutIgnored, withoutPaths } from './ignore.ts';
import { withNativeDefaults } from './native-defaults.ts';

/**
 * The rendered objects with namespaces settled, ownership stamped and the list-key defaults
 * older API servers need for server-side apply filled in, split into apply stages.
 */
export interface DesiredSet {
  objects: KubeObject[];
  stages: Record<Stage, KubeObject[]>;
  /** `apiVersion|kind` → REST mapping, for custom resources whose CRD is part of this same set. */
  crdMappings: Map<string, ResourceMapping>;
  /** Argo CD hooks: run around a sync, never part of the inventory. */
  hooks: Hook[];
}

export async function planObjects(ctx: StepContext, rendered: KubeObject[]): Promise<DesiredSet> {
  const crdMappings = mappingsOfCrds(rendered);
  const scopes = new Map<string, boolean | undefined>();
  await mapLimit([...new Set(rendered.map((o) => `${o.apiVersion}|${o.kind}`))], 4, async (key) => {
    const [apiVersion, kind] = key.split('|') as [string, string];
    const mapping = await ctx.deps.kube.mapping(apiVersion, kind);
    scopes.set(key, mapping ? mapping.namespaced : crdMappings.get(key)?.namespaced);
  });
  const { input } = ctx;
  const defaultNamespace = input.config.targetNamespace ?? input.cd.metadata.namespace ?? 'default';
  const scope = (apiVersion: string, kind: string) => scopes.get(`${apiVersion}|${kind}`);
  const prepared = prepareObjects(rendered.map(withNativeDefaults), scope, { owner: ctx.owner, defaultNamespace });
  for (const [i, object] of prepared.entries()) {
    const from = rendered[i];
    if (from)
      origins.set(object, {
        rendered: from,
        how: `${ctx.owner.namespace}/${ctx.owner.name}|${defaultNamespace}|${scope(from.apiVersion, from.kind)}`,
      });
  }
  assertUnique(prepared);
  const { resources: objects, hooks } = splitHooks(prepared);
  // Every wave is read up front: a bad one fails the plan before anything is written.
  for (const obj of objects) syncWaveOf(obj);
  return { objects, stages: stageObjects(objects), crdMappings, hooks };
}

/** `group/version|Kind` → the REST mapping each CRD in the set declares, for each version. */
export function mappingsOfCrds(rendered: readonly KubeObject[]): Map<string, ResourceMapping> {
  const mappings = new Map<string, ResourceMapping>();
  for (const obj of rendered) {
    if (obj.kind !== 'CustomResourceDefinition') continue;
    const spec = isObject(obj.spec) ? obj.spec : {};
    const names = isObject(spec.names) ? spec.names : {};
    const versions = Array.isArray(spec.versions) ? spec.versions : [];
    const group = typeof spec.group === 'string' ? spec.group : '';
    if (typeof names.kind !== 'string') continue;
    const plural = typeof names.plural === 'string' ? names.plural : '';
    for (const v of versions) {
      if (isObject(v) && typeof v.name === 'string') {
        mappings.set(`${group}/${v.name}|${names.kind}`, {
          group,
          version: v.name,
          kind: names.kind,
          plural,
          namespaced: spec.scope !== 'Cluster',
        });
      }
    }
  }
  return mappings;
}

/**
 * The REST mapping of each object of one stage. Custom resources of a CRD this set creates
 * cannot be dry-run before it exists; when that is all that is unknown they are left for later.
 */
export async function mapStage(ctx: StepContext, objects: KubeObject[], desired: DesiredSet): Promise<PlannedObject[]> {
  const known: PlannedObject[] = [];
  const unknown: KubeObject[] = [];
  for (const object of objects) {
    const mapping = await ctx.deps.kube.mapping(object.apiVersion, object.kind);
    if (mapping) known.push({ object, mapping, ref: refOf(object) });
    else unknown.push(object);
  }
  // SkipDryRunOnMissingResource=true: Argo's way for a custom resource whose CRD another controller installs.
  const later = (o: KubeObject) => desired.crdMappings.has(`${o.apiVersion}|${o.kind}`) || syncOptionsOf(o).skipDryRunOnMissingResource;
  if (unknown.length > 0 && !unknown.every(later)) {
    const names = unknown.map((o) => `${o.kind} ${o.metadata.name}`).join(', ');
    throw terminal(
      'UnknownKind',
      `the API server does not serve: ${names}`,
      'install the CRDs that define these kinds, or fix apiVersion/kind',
    );
  }
  return known;
}

export interface StageComparison {
  diffs: DiffResult[];
  rejected: ChangeEntry[];
  /**
   * Planned creates nobody dry-ran: the synced watch cache has no copy, so a sync creates them
   * with one create-only apply each (createObjects) instead of a dry-run and an apply.
   */
  unverified: Set<DiffResult>;
}

/**
 * Compares every object of a stage with the cluster through a server-side dry-run. All or
 * nothing: one rejected object fails the stage, with every rejection named. With `absentCreates`
 * (a sync that writes) objects the watch cache proves absent are not dry-run: see `unverified`.
 */
export async function compareStage(
  ctx: StepContext,
  planned: PlannedObject[],
  unborn: ReadonlySet<string> = new Set(),
  options: { absentCreates?: boolean; fresh?: boolean } = {},
): Promise<StageComparison> {
  const cache = ctx.deps.cache;
  if (cache) await Promise.all([...new Set(planned.map((p) => p.mapping))].map((m) => cache.watch(m)));
  const unverified = new Set<DiffResult>();
  const results = await mapLimit(planned, ctx.deps.concurrency, async (p) => {
    // The server answers NotFound for any object in a namespace that does not exist yet; what a
    // sync would do with it is known without asking: create it.
    if (p.ref.namespace !== undefined && unborn.has(p.ref.namespace)) return { p, diff: toCreate(p) };
    if (options.absentCreates && provenAbsent(ctx, p)) {
      const diff = toCreate(p);
      unverified.add(diff);
      return { p, diff };
    }
    try {
      return { p, diff: await compareObject(ctx, p, options.fresh === true) };
    } catch (err) {
      return { p, error: toTidemarkError(err) };
    }
  });
  const diffs: DiffResult[] = [];
  const rejected: ChangeEntry[] = [];
  for (const r of results) {
    if (r.diff) diffs.push(r.diff);
    else rejected.push({ ref: r.p.ref, action: 'failed', message: r.error?.message ?? 'dry-run failed', error: r.error });
  }
  return { diffs, rejected, unverified };
}

/**
 * The synced watch cache has no copy. It watches only labelled objects, so this alone does not
 * prove the name free — the create-only apply does; it is what makes skipping the dry-run likely
 * to pay. Objects with ignored fields or written by replace keep their own paths. So do:
 * - objects the memo has seen in sync: the cache is behind our own write (the run right after a
 *   sync), or someone deleted one; either way the dry-run path costs what it did before, where a
 *   create-only apply would only be refused and then take that path anyway;
 * - the foundation stage (CRDs, Namespaces, ClusterRoles): few objects, and taking one back is no
 *   clean undo — a deleted Namespace stays Terminating, a deleted CRD takes its resources along.
 */
function provenAbsent(ctx: StepContext, p: PlannedObject): boolean {
  const { config } = ctx.input;
  if (config.policy.replace || syncOptionsOf(p.object).replace) return false;
  if (ignoredFields(config.ignore, p.object)) return false;
  if (stageOf(p.object) === 'foundation') return false;
  if (ctx.deps.memo?.get(objectKey(p.ref)) !== undefined) return false;
  if (!ctx.resources.createsOnly(p.mapping)) return false;
  return ctx.deps.cache?.get(p.mapping, p.ref.namespace, p.ref.name) === null;
}

/** Dry-runs objects a create-only apply found existing: they take the path of every existing object. */
export async function compareExisting(ctx: StepContext, diffs: readonly DiffResult[]): Promise<StageComparison> {
  // The cache did not know them: read each from the server.
  return compareStage(
    ctx,
    diffs.map((d) => d.planned),
    new Set(),
    { fresh: true },
  );
}

function toCreate(p: PlannedObject): DiffResult {
  return { planned: p, state: 'missing', live: undefined, merged: undefined };
}

/**
 * Namespaces a run that writes nothing (manual mode, a blocking window, a plan) leaves missing:
 * the Namespaces of the set that the foundation stage found missing, and the target namespace
 * that createNamespace would create. Objects in them are planned creates, not dry-run failures.
 */
export async function unbornNamespaces(ctx: StepContext, foundation: readonly DiffResult[]): Promise<Set<string>> {
  const unborn = new Set(
    foundation.filter((d) => d.state === 'missing' && d.planned.ref.kind === 'Namespace').map((d) => d.planned.ref.name),
  );
  const { config } = ctx.input;
  const target = config.targetNamespace;
  if (config.policy.createNamespace && target && !unborn.has(target)) {
    const mapping = await ctx.deps.kube.mapping('v1', 'Namespace');
    if (mapping && !(await ctx.resources.get(mapping, undefined, target))) unborn.add(target);
  }
  return unborn;
}

/**
 * Custom resources of a CRD this set creates, in a run that writes nothing: the CRD is not
 * served, so nothing can be dry-run, but a sync would create each of them. Their mapping is what
 * the CRD declares.
 */
export function unbornCustomResources(objects: readonly KubeObject[], desired: DesiredSet, known: readonly PlannedObject[]): DiffResult[] {
  const knownKeys = new Set(known.map((p) => objectKey(p.ref)));
  const out: DiffResult[] = [];
  for (const object of objects) {
    const ref = refOf(object);
    const mapping = desired.crdMappings.get(`${object.apiVersion}|${object.kind}`);
    if (!mapping || knownKeys.has(objectKey(ref))) continue;
    out.push(toCreate({ object, mapping, ref }));
  }
  return out;
}

/**
 * Live vs desired for one object. When the live copy has not changed since we last saw it in
 * sync with this same desired object, the answer is known without asking the server: a no-op
 * reconcile then costs no API calls at all. Fields `spec.ignore` names are left out of what is
 * sent and out of the comparison (ignore.ts); their live copy is read from the server, because
 * the cache drops managedFields.
 */
async function compareObject(ctx: StepContext, p: PlannedObject, fresh: boolean): Promise<DiffResult> {
  const { deps, input } = ctx;
  const ignored = ignoredFields(input.config.ignore, p.object);
  const cached = ignored || fresh ? undefined : deps.cache?.get(p.mapping, p.ref.namespace, p.ref.name);
  const live = cached !== undefined ? cached : ((await ctx.resources.get(p.mapping, p.ref.namespace, p.ref.name)) ?? null);
  const replace = input.config.policy.replace;
  const planned = ignored ? { ...p, object: withoutIgnored(p.object, live ?? undefined, ignored, { replace }) } : p;
  const memo = deps.memo?.get(objectKey(p.ref));
  if (live && memo && memo.resourceVersion === live.metadata.resourceVersion && memo.fingerprint === fingerprint(planned.object)) {
    return { planned, state: 'inSync', live, merged: undefined };
  }
  const diff = await ctx.resources.diff(
    planned,
    { skipSchemaValidation: input.config.policy.skipSchemaValidation, force: input.config.force },
    live,
  );
  if (diff.state === 'drifted' && ignored && ignored.paths.length > 0 && diff.merged && diff.live) {
    if (sameObject(withoutPaths(diff.merged, ignored.paths), withoutPaths(diff.live, ignored.paths))) diff.state = 'inSync';
  }
  if (diff.state === 'inSync' && diff.live) remember(ctx, planned, diff.live);
  return diff;
}

/** Notes that `live` is in sync with `p`, so the next run can skip the dry-run (sync runs only). */
export function remember(ctx: StepContext, p: PlannedObject, live: KubeObject): void {
  if (ctx.input.mode !== 'sync' || !ctx.deps.memo || !live.metadata.resourceVersion) return;
  ctx.deps.memo.set(objectKey(p.ref), { fingerprint: fingerprint(p.object), resourceVersion: live.metadata.resourceVersion });
}

/** What the memo compares: the desired object as it would be sent. */
export function fingerprint(obj: KubeObject): string {
  const origin = origins.get(obj);
  if (!origin) return hash(obj);
  let byHow = fromRendered.get(origin.rendered);
  if (!byHow) {
    byHow = new Map<string, string>();
    fromRendered.set(origin.rendered, byHow);
  }
  let print = byHow.get(origin.how);
  if (print === undefined) {
    print = hash(obj);
    byHow.set(origin.how, print);
  }
  return print;
}

function hash(obj: KubeObject): string {
  return createHash('sha256').update(JSON.stringify(obj)).digest('base64url');
}

/**
 * A planned object is a pure function of the rendered object, the owner, the default namespace
 * and the kind's scope, and nothing changes either once planned (the render cache's objects are
 * shared and never written to; the planner copies what it changes). The render cache hands out
 * the same rendered objects run after run, so their fingerprint is known without hashing again:
 * hashing 1,000 objects was the top CPU of a no-op or self-heal run at 1,000 objects (bench items
 * 2 and 3). Objects from a fresh render, a decryption or a substitution are new, and hashed.
 */
const origins = new WeakMap<KubeObject, { rendered: KubeObject; how: string }>();
const fromRendered = new WeakMap<KubeObject, Map<string, string>>();

/**
 * Argo CD's order for a sync operation: every object of every wave, and every hook, dry-run
 * before the first PreSync hook runs, so a sync that would fail validation runs no hook at all
 * (a PreSync migration must not run for a release that cannot be applied). Returns every
 * rejection. Namespaces and custom resources this same sync creates cannot be asked about yet;
 * they are left to the wave's own dry-run, as a plan does.
 */
export async function dryRunSync(ctx: StepContext, desired: DesiredSet): Promise<ChangeEntry[]> {
  const unborn = new Set<string>();
  const rejected: ChangeEntry[] = [];
  for (const { items } of byWave(desired.objects, syncWaveOf)) {
    const stages = stageObjects(items);
    for (const stage of STAGES) {
      const compared = await compareStage(ctx, await mapStage(ctx, stages[stage], desired), unborn);
      rejected.push(...compared.rejected);
      if (stage === 'foundation') for (const name of await unbornNamespaces(ctx, compared.diffs)) unborn.add(name);
    }
  }
  const hooks = await mapLimit(desired.hooks, ctx.deps.concurrency, async ({ object }): Promise<ChangeEntry | undefined> => {
    const ref = refOf(object);
    if (ref.namespace !== undefined && unborn.has(ref.namespace)) return undefined;
    try {
      const mapping = await ctx.deps.kube.mapping(object.apiVersion, object.kind);
      // An unserved kind is the hook run's own failure; a copy of an earlier sync is replaced or reused, not applied.
      if (mapping) await ctx.deps.kube.create(mapping, object, { dryRun: true });
      return undefined;
    } catch (err) {
      if (isConflict(err)) return undefined;
      const error = toTidemarkError(err);
      return { ref, action: 'failed', message: error.message, error };
    }
  });
  for (const entry of hooks) if (entry) rejected.push(entry);
  return rejected;
}

export function dryRunError(rejected: ChangeEntry[]): TidemarkError {
  return rejectionError(rejected, `server-side dry-run failed, nothing was applied: ${describeFailures(rejected)}`);
}

/**
 * Objects the server refused before the stage stood: a dry-run, or a create-only apply whose
 * siblings were taken back (ADR 0016). One reason for both, so a refused create and the dry-run
 * of its retry name the failure alike.
 */
export function rejectionError(rejected: readonly ChangeEntry[], message: string): TidemarkError {
  const first = rejected[0]?.error;
  // The API server failed, not the objects: retried with backoff, under the server's own reason.
  if (failureKind(rejected) === 'transient')
    return new TidemarkError(first?.code ?? 'DryRunFailed', message, { kind: 'transient', cause: first });
  const code = first?.code === 'ObjectInvalid' || first?.code === 'Forbidden' ? first.code : 'DryRunFailed';
  // A refusal when acting as a ServiceAccount says whose rights to change (KubeRest's hint).
  const hint = code === 'Forbidden' && first?.hint ? first.hint : 'fix the objects in Git';
  return terminal(code, message, hint, first);
}

/**
 * Objects of a stage left out because their kind is not served and they carry
 * SkipDryRunOnMissingResource=true: neither dry-run nor applied this run, and said so.
 */
export function skippedMissingKinds(objects: readonly KubeObject[], planned: readonly PlannedObject[], desired: DesiredSet): ChangeEntry[] {
  const known = new Set(planned.map((p) => objectKey(p.ref)));
  return objects
    .filter((o) => !known.has(objectKey(refOf(o))) && !desired.crdMappings.has(`${o.apiVersion}|${o.kind}`))
    .map((o) => ({
      ref: refOf(o),
      action: 'skipped' as const,
      message: `${o.kind} in ${o.apiVersion} is not served yet; not applied (SkipDryRunOnMissingResource=true)`,
    }));
}
