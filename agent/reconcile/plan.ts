import { createHash } from 'node:crypto';
import { terminal, toTidemarkError } from '../../shared/errors/index.ts';
import type { TidemarkError } from '../../shared/errors/index.ts';
import type { ChangeEntry } from '../../shared/kube/change-set.ts';
import { describeFailures } from '../../shared/kube/change-set.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { isObject, objectKey, refOf } from '../../shared/kube/object.ts';
import { stageObjects } from '../../shared/kube/order.ts';
import type { Stage } from '../../shared/kube/order.ts';
import { mapLimit } from '../../shared/kube/pool.ts';
import type { DiffResult, PlannedObject } from '../../shared/kube/resource-manager.ts';
import { assertUnique, prepareObjects } from '../plan.ts';
import type { StepContext } from './context.ts';
import { withNativeDefaults } from './native-defaults.ts';

/**
 * The rendered objects with namespaces settled, ownership stamped and the list-key defaults
 * older API servers need for server-side apply filled in, split into apply stages.
 */
export interface DesiredSet {
  objects: KubeObject[];
  stages: Record<Stage, KubeObject[]>;
  /** Scopes of custom resources whose CRD is part of this same set. */
  crdScopes: Map<string, boolean>;
}

export async function planObjects(ctx: StepContext, rendered: KubeObject[]): Promise<DesiredSet> {
  const crdScopes = scopesOfCrds(rendered);
  const scopes = new Map<string, boolean | undefined>();
  await mapLimit([...new Set(rendered.map((o) => `${o.apiVersion}|${o.kind}`))], 4, async (key) => {
    const [apiVersion, kind] = key.split('|') as [string, string];
    const mapping = await ctx.deps.kube.mapping(apiVersion, kind);
    scopes.set(key, mapping ? mapping.namespaced : crdScopes.get(key));
  });
  const { input } = ctx;
  const objects = prepareObjects(rendered.map(withNativeDefaults), (apiVersion, kind) => scopes.get(`${apiVersion}|${kind}`), {
    owner: ctx.owner,
    defaultNamespace: input.config.targetNamespace ?? input.cd.metadata.namespace ?? 'default',
  });
  assertUnique(objects);
  return { objects, stages: stageObjects(objects), crdScopes };
}

/** `group/version|Kind` → namespaced, for every kind a CRD in the set defines. */
export function scopesOfCrds(rendered: readonly KubeObject[]): Map<string, boolean> {
  const crdScopes = new Map<string, boolean>();
  for (const obj of rendered) {
    if (obj.kind !== 'CustomResourceDefinition') continue;
    const spec = isObject(obj.spec) ? obj.spec : {};
    const names = isObject(spec.names) ? spec.names : {};
    const versions = Array.isArray(spec.versions) ? spec.versions : [];
    for (const v of versions) {
      if (isObject(v) && typeof v.name === 'string' && typeof names.kind === 'string') {
        crdScopes.set(`${spec.group as string}/${v.name}|${names.kind}`, spec.scope !== 'Cluster');
      }
    }
  }
  return crdScopes;
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
  if (unknown.length > 0 && !unknown.every((o) => desired.crdScopes.has(`${o.apiVersion}|${o.kind}`))) {
    const names = unknown.map((o) => `${o.kind} ${o.metadata.name}`).join(', ');
    throw terminal(
      'UnknownKind',
      `the API server does not serve: ${names}`,
      'install the CRDs that define these kinds, or fix apiVersion/kind',
    );
  }
  return known;
}

/**
 * Compares every object of a stage with the cluster through a server-side dry-run. All or
 * nothing: one rejected object fails the stage, with every rejection named.
 */
export async function compareStage(ctx: StepContext, planned: PlannedObject[]): Promise<{ diffs: DiffResult[]; rejected: ChangeEntry[] }> {
  const cache = ctx.deps.cache;
  if (cache) await Promise.all([...new Set(planned.map((p) => p.mapping))].map((m) => cache.watch(m)));
  const results = await mapLimit(planned, ctx.deps.concurrency, async (p) => {
    try {
      return { p, diff: await compareObject(ctx, p) };
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
  return { diffs, rejected };
}

/**
 * Live vs desired for one object. When the live copy has not changed since we last saw it in
 * sync with this same desired object, the answer is known without asking the server: a no-op
 * reconcile then costs no API calls at all.
 */
async function compareObject(ctx: StepContext, p: PlannedObject): Promise<DiffResult> {
  const { deps, input } = ctx;
  const cached = deps.cache?.get(p.mapping, p.ref.namespace, p.ref.name);
  const live = cached !== undefined ? cached : ((await ctx.resources.get(p.mapping, p.ref.namespace, p.ref.name)) ?? null);
  const memo = deps.memo?.get(objectKey(p.ref));
  if (live && memo && memo.resourceVersion === live.metadata.resourceVersion && memo.fingerprint === fingerprint(p.object)) {
    return { planned: p, state: 'inSync', live, merged: undefined };
  }
  const diff = await ctx.resources.diff(
    p,
    { skipSchemaValidation: input.config.policy.skipSchemaValidation, force: input.config.force },
    live,
  );
  if (diff.state === 'inSync' && diff.live) remember(ctx, p, diff.live);
  return diff;
}

/** Notes that `live` is in sync with `p`, so the next run can skip the dry-run (sync runs only). */
export function remember(ctx: StepContext, p: PlannedObject, live: KubeObject): void {
  if (ctx.input.mode !== 'sync' || !ctx.deps.memo || !live.metadata.resourceVersion) return;
  ctx.deps.memo.set(objectKey(p.ref), { fingerprint: fingerprint(p.object), resourceVersion: live.metadata.resourceVersion });
}

function fingerprint(obj: KubeObject): string {
  return createHash('sha256').update(JSON.stringify(obj)).digest('base64url');
}

export function dryRunError(rejected: ChangeEntry[]): TidemarkError {
  const first = rejected[0]?.error;
  const code = first?.code === 'ObjectInvalid' || first?.code === 'Forbidden' ? first.code : 'DryRunFailed';
  return terminal(code, `server-side dry-run failed, nothing was applied: ${describeFailures(rejected)}`, 'fix the objects in Git', first);
}
