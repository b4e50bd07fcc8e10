import type { HealthStatus, ResourceStatus, SyncStatus } from '../../shared/api/continuous-deployment.ts';
import { Kinds, GROUP } from '../../shared/api/constants.ts';
import { describeError, toTidemarkError } from '../../shared/errors/index.ts';
import type { ResourceMapping } from '../../shared/kube/discovery.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { objectKey, refOf, splitApiVersion } from '../../shared/kube/object.ts';
import { mapLimit } from '../../shared/kube/pool.ts';
import type { DiffResult } from '../../shared/kube/resource-manager.ts';
import type { HealthCheckRef } from '../../shared/spec/index.ts';
import { isBuiltInGroup } from '../health/index.ts';
import type { HealthCheckStatus, HealthFacts } from '../types.ts';
import { inventoryEntry } from './apply.ts';
import { pause, supersededBy, waitDeadline } from './budget.ts';
import type { StepContext } from './context.ts';
import type { DesiredSet } from './plan.ts';

/**
 * Reads each desired object once and rates its health and sync. Reuses the live copies a
 * comparison already read, unless `reread` (after a health wait those are stale).
 */
export async function assessObjects(
  ctx: StepContext,
  desired: DesiredSet,
  diffs: Map<string, DiffResult>,
  reread = false,
): Promise<ResourceStatus[]> {
  const { deps } = ctx;
  return mapLimit(desired.objects, deps.concurrency, async (obj) => {
    const ref = refOf(obj);
    const diff = diffs.get(objectKey(ref));
    let live: KubeObject | undefined;
    let mapping: ResourceMapping | undefined;
    let status: SyncStatus = diff?.state === 'inSync' ? 'Synced' : 'OutOfSync';
    try {
      mapping = diff?.planned.mapping ?? (await deps.kube.mapping(obj.apiVersion, obj.kind));
      const cached = mapping ? deps.cache?.get(mapping, ref.namespace, ref.name) : undefined;
      if (diff?.live && !reread) live = diff.live;
      else if (cached !== undefined) live = cached ?? undefined;
      else if (mapping) live = await deps.kube.get(mapping, ref.namespace, ref.name);
    } catch {
      status = 'Unknown';
    }
    if (!live && status === 'Synced') status = 'OutOfSync';
    return { ...inventoryEntry(ref, status), health: deps.health(live, await healthFacts(ctx, live, mapping)) };
  });
}

/**
 * What a rule may need besides the object: the deployment's CEL checks, and for a custom resource
 * without status its CRD's answer (the one case a rule reads it, so the only one that costs a look).
 */
async function healthFacts(ctx: StepContext, live: KubeObject | undefined, mapping: ResourceMapping | undefined): Promise<HealthFacts> {
  const facts: HealthFacts = { exprs: ctx.input.config.healthCheckExprs };
  const { crds, kube } = ctx.deps;
  if (!live || !mapping || !crds || isBuiltInGroup(mapping.group)) return facts;
  const status = live.status;
  const statusless = typeof status !== 'object' || status === null || Object.keys(status).length === 0;
  if (statusless) facts.crd = await crds.read(kube, mapping);
  return facts;
}

/**
 * spec.healthChecks: the health of each listed object that is not one of the rendered objects
 * (those count already). A namespaced kind without a namespace is looked up in the deployment's
 * target namespace (Flux would look it up in none and never find it). The deployment itself is
 * skipped, as Flux skips its own Kustomization: waiting on itself would never end.
 */
export async function assessHealthChecks(ctx: StepContext, desired: DesiredSet): Promise<HealthCheckStatus[]> {
  const { deps, input, owner } = ctx;
  // Most deployments list none: no key set of every rendered object (a per-run cost at 1,000 objects).
  if (input.config.healthChecks.length === 0) return [];
  const rendered = new Set(desired.objects.map((o) => objectKey(refOf(o))));
  const checks = input.config.healthChecks.filter(
    (c) =>
      !(
        splitApiVersion(c.apiVersion).group === GROUP &&
        c.kind === Kinds.ContinuousDeployment.kind &&
        c.name === owner.name &&
        (c.namespace ?? owner.namespace) === owner.namespace
      ),
  );
  const results = await mapLimit(checks, deps.concurrency, async (check): Promise<HealthCheckStatus | undefined> => {
    let mapping: ResourceMapping | undefined;
    try {
      mapping = await deps.kube.mapping(check.apiVersion, check.kind);
    } catch (err) {
      return checkStatus(check, undefined, { status: 'Unknown', message: describeError(toTidemarkError(err)) });
    }
    if (!mapping)
      return checkStatus(check, undefined, {
        status: 'Missing',
        message: `the cluster does not serve ${check.kind} in ${check.apiVersion}`,
      });
    const namespace = mapping.namespaced ? (check.namespace ?? input.config.targetNamespace ?? owner.namespace) : undefined;
    const { group } = splitApiVersion(check.apiVersion);
    if (rendered.has(objectKey({ group, kind: check.kind, name: check.name, ...(namespace ? { namespace } : {}) }))) {
      return undefined;
    }
    try {
      const live = await deps.kube.get(mapping, namespace, check.name);
      return checkStatus(check, namespace, deps.health(live, await healthFacts(ctx, live, mapping)));
    } catch (err) {
      return checkStatus(check, namespace, { status: 'Unknown', message: describeError(toTidemarkError(err)) });
    }
  });
  return results.filter((r) => r !== undefined);
}

function checkStatus(
  check: HealthCheckRef,
  namespace: string | undefined,
  health: { status: HealthStatus; message?: string },
): HealthCheckStatus {
  return { apiVersion: check.apiVersion, kind: check.kind, ...(namespace ? { namespace } : {}), name: check.name, health };
}

/** Settled: nothing more to wait for (Degraded ends the wait as in Flux's fail-fast health checks). */
function settled(status: HealthStatus | undefined): boolean {
  return status === 'Healthy' || status === 'Suspended' || status === 'Degraded';
}

/**
 * Waits, as Flux waits for its healthChecks, until every spec.healthChecks object has settled,
 * the run's deadline (spec.timeout from its start) passes or a newer intent supersedes the run;
 * between looks the run does not hold a worker. Returns the last look.
 */
export async function waitHealthChecks(ctx: StepContext, desired: DesiredSet, first: HealthCheckStatus[]): Promise<HealthCheckStatus[]> {
  const deadline = waitDeadline(ctx);
  let checks = first;
  let delay = 250;
  while (!checks.every((c) => settled(c.health.status)) && ctx.deps.clock.now() < deadline && !supersededBy(ctx)) {
    await pause(ctx, delay, deadline);
    delay = Math.min(delay * 2, 2000);
    checks = await assessHealthChecks(ctx, desired);
  }
  return checks;
}

/**
 * pruneLast: waits until every applied object is healthy (or suspended), the run's deadline
 * (spec.timeout from its start) passes or a newer intent supersedes the run; between looks the
 * run does not hold a worker.
 */
export async function waitHealthy(ctx: StepContext, desired: DesiredSet): Promise<void> {
  const { deps } = ctx;
  const deadline = waitDeadline(ctx);
  let delay = 250;
  for (;;) {
    const resources = await assessObjects(ctx, desired, new Map());
    if (resources.every((r) => r.health?.status === 'Healthy' || r.health?.status === 'Suspended')) return;
    if (deps.clock.now() >= deadline || supersededBy(ctx)) return;
    await pause(ctx, delay, deadline);
    delay = Math.min(delay * 2, 2000);
  }
}

export function syncStatusOf(resources: readonly ResourceStatus[]): SyncStatus {
  if (resources.some((r) => r.status === 'Unknown')) return 'Unknown';
  return resources.every((r) => r.status === 'Synced') ? 'Synced' : 'OutOfSync';
}

/**
 * After a sync wave is applied: waits, as Argo CD does, until each of its objects is Healthy (or
 * Suspended) before the next wave starts. A Degraded object ends the wait at once (Flux's
 * fail-fast); otherwise the run's deadline or a newer intent does. Returns what is not healthy
 * yet, empty when all are.
 */
export async function waitWave(
  ctx: StepContext,
  desired: DesiredSet,
  objects: KubeObject[],
): Promise<{ degraded: ResourceStatus[]; pending: ResourceStatus[] }> {
  const deadline = waitDeadline(ctx);
  let delay = 250;
  for (;;) {
    const resources = await assessObjects(ctx, { ...desired, objects }, new Map(), true);
    const degraded = resources.filter((r) => r.health?.status === 'Degraded');
    const pending = resources.filter((r) => r.health?.status !== 'Healthy' && r.health?.status !== 'Suspended');
    if (degraded.length > 0 || pending.length === 0 || ctx.deps.clock.now() >= deadline || supersededBy(ctx)) {
      return { degraded, pending };
    }
    await pause(ctx, delay, deadline);
    delay = Math.min(delay * 2, 2000);
  }
}
