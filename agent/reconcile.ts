import type { ContinuousDeployment, ResourceStatus, SyncStatus } from '../shared/api/continuous-deployment.ts';
import { terminal, TidemarkError, toTidemarkError } from '../shared/errors/index.ts';
import type { Logger } from '../shared/log/index.ts';
import type { Clock } from '../shared/time/clock.ts';
import type { ChangeEntry } from '../shared/kube/change-set.ts';
import { describeFailures, failures } from '../shared/kube/change-set.ts';
import type { KubeClient } from '../shared/kube/client.ts';
import type { ResourceMapping } from '../shared/kube/discovery.ts';
import type { KubeObject, ObjectRef } from '../shared/kube/object.ts';
import { describeRef, isObject, objectKey, refOf } from '../shared/kube/object.ts';
import { sortForPrune, stageObjects } from '../shared/kube/order.ts';
import type { Stage } from '../shared/kube/order.ts';
import { mapLimit } from '../shared/kube/pool.ts';
import type { DiffResult, PlannedObject } from '../shared/kube/resource-manager.ts';
import { assertUnique, inventoryRef, isOwnedBy, prepareObjects, pruneDisabled, staleEntries } from './plan.ts';
import type { DeploymentConfig } from './spec.ts';
import type { GitAuth, HealthAssessor, Phase, ReconcileOutcome, Renderer, Source } from './types.ts';
import { worstHealth } from './health/index.ts';
import type { ObjectCache } from '../shared/kube/object-cache.ts';
import { createHash } from 'node:crypto';
import { isPlainDirectory } from './render-cache.ts';
import type { RenderCache } from './render-cache.ts';

export interface ReconcileInput {
  cd: ContinuousDeployment;
  config: DeploymentConfig;
  auth: GitAuth | undefined;
  /** True when a person asked for this sync (annotation or CLI): manual mode applies then. */
  syncRequested: boolean;
  /** True when a sync window forbids writing now. */
  windowBlocked: boolean;
}

export interface ReconcileDeps {
  target: KubeClient;
  source: Source;
  render: Renderer;
  health: HealthAssessor;
  clock: Clock;
  log: Logger;
  concurrency: number;
  signal?: AbortSignal | undefined;
  /** Watch-fed live objects; without it every read is a GET. */
  cache?: ObjectCache | undefined;
  /** Objects last seen in sync: desired fingerprint and the live resourceVersion then. */
  memo?: Map<string, { fingerprint: string; resourceVersion: string }> | undefined;
  /** Plain-YAML renders by commit and path, shared by every reconcile of the agent. */
  renderCache?: RenderCache | undefined;
}

/**
 * One reconcile: fetch → render → plan → apply → prune → assess. Every step is recomputed from
 * Git and the cluster, so running it twice, or again after a crash at any line, converges.
 * Nothing is written unless every object passed a server-side dry-run first; nothing is pruned
 * unless the render succeeded.
 */
export async function reconcile(input: ReconcileInput, deps: ReconcileDeps): Promise<ReconcileOutcome> {
  const previous = input.cd.status?.resources ?? [];
  const outcome: ReconcileOutcome = {
    synced: false,
    changes: [],
    resources: previous,
    sync: 'Unknown',
    health: { status: 'Unknown' },
    notes: [],
    diffs: [],
  };
  const fail = (phase: Phase, err: unknown): ReconcileOutcome => {
    outcome.failedPhase = phase;
    outcome.error = toTidemarkError(err);
    return outcome;
  };

  // fetch
  let checkoutDir: string | undefined;
  let rendered: KubeObject[] | undefined;
  try {
    outcome.resolved = await deps.source.resolve(input.config, input.auth, deps.signal);
    // A commit already rendered needs neither its checkout nor a parse.
    rendered = deps.renderCache?.get(outcome.resolved.sha, input.config.path);
    if (!rendered) checkoutDir = await deps.source.checkout(input.config, input.auth, outcome.resolved, deps.signal);
  } catch (err) {
    return fail('fetch', err);
  }

  // render
  if (!rendered) {
    try {
      rendered = await deps.render(checkoutDir as string, input.config.path, deps.signal);
    } catch (err) {
      return fail('render', err);
    }
    if (deps.renderCache && (await isPlainDirectory(checkoutDir as string, input.config.path))) {
      deps.renderCache.set(outcome.resolved.sha, input.config.path, rendered);
    }
  }

  // plan
  let plan: Plan;
  try {
    plan = await planObjects(rendered, input, deps);
  } catch (err) {
    return fail('plan', err);
  }

  const writeAllowed = !input.windowBlocked && (!input.config.policy.manual || input.syncRequested);
  const revisionChanged = input.cd.status?.lastAppliedRevision !== outcome.resolved.revision;

  // apply
  if (writeAllowed && input.config.policy.createNamespace && input.config.targetNamespace) {
    const created = await ensureNamespace(input.config.targetNamespace, deps);
    if (created.action === 'failed') return fail('apply', created.error);
    if (created.action === 'created') outcome.changes.push(created);
  }
  const diffs = new Map<string, DiffResult>();
  const stages: Stage[] = ['foundation', 'class', 'workload'];
  for (const stage of stages) {
    const planned = await mapPlanned(plan.stages[stage], plan, deps);
    if (planned.unknown.length > 0) {
      const names = planned.unknown.map((o) => `${o.kind} ${o.metadata.name}`).join(', ');
      return fail(
        'plan',
        terminal(
          'UnknownKind',
          `the API server does not serve: ${names}`,
          'install the CRDs that define these kinds, or fix apiVersion/kind',
        ),
      );
    }
    await Promise.all([...new Set(planned.known.map((p) => p.mapping))].map((m) => deps.cache?.watch(m)));
    const results = await mapLimit(planned.known, deps.concurrency, async (p) => {
      try {
        return { p, diff: await diffObject(p, input, deps) };
      } catch (err) {
        return { p, error: toTidemarkError(err) };
      }
    });
    const rejected: ChangeEntry[] = [];
    for (const r of results) {
      if (r.diff) diffs.set(objectKey(r.p.ref), r.diff);
      else
        rejected.push({
          ref: r.p.ref,
          action: 'failed',
          message: r.error?.message ?? 'dry-run failed',
          error: r.error,
        });
    }
    if (rejected.length > 0) {
      outcome.changes.push(...rejected);
      return fail('plan', dryRunError(rejected));
    }
    if (!writeAllowed) continue;
    // Drift on an unchanged revision is healed only with selfHeal (or when a person asks).
    const heal = input.config.policy.selfHeal || revisionChanged || input.syncRequested;
    // A new revision re-sends every object (Argo's sync; applyOutOfSyncOnly opts out). A request on
    // the same revision only repairs drift: a no-op reconcile writes nothing, requested or not.
    const resendAll = revisionChanged && !input.config.policy.applyOutOfSyncOnly;
    const drifted = results.map((r) => r.diff as DiffResult).filter((d) => d.state !== 'inSync');
    if (!heal && drifted.length > 0) {
      const names = drifted
        .slice(0, 5)
        .map((d) => describeRef(d.planned.ref))
        .join(', ');
      const count = drifted.length === 1 ? '1 object differs' : `${drifted.length} objects differ`;
      outcome.notes.push({
        reason: 'DriftDetected',
        message: `${count} from Git: ${names}${drifted.length > 5 ? ', ...' : ''}; selfHeal is off, request a sync to repair`,
      });
    }
    const toWrite = results.map((r) => r.diff as DiffResult).filter((d) => (d.state !== 'inSync' && heal) || resendAll);
    const written = await mapLimit(toWrite, deps.concurrency, (d) =>
      deps.target.resources.apply(d.planned, d.state !== 'missing', {
        replace: input.config.policy.replace,
        force: input.config.force,
        skipSchemaValidation: input.config.policy.skipSchemaValidation,
      }),
    );
    for (const entry of written) {
      const diff = diffs.get(objectKey(entry.ref));
      // An apply of an object that was already in sync reports unchanged, as kubectl does.
      if (entry.action === 'configured' && diff?.state === 'inSync' && !entry.message) entry.action = 'unchanged';
      if (diff && entry.action !== 'failed') {
        diff.state = 'inSync';
        diff.live = entry.live;
        if (entry.live) remember(deps, diff.planned, entry.live);
      }
    }
    outcome.changes.push(...written);
    if (failures(written).length > 0) {
      outcome.resources = inventoryAfterApply(previous, plan, diffs, outcome.changes);
      return fail('apply', applyError(written));
    }
    if (stage === 'foundation') {
      const pending = await deps.target.resources.waitForFoundation(planned.known, input.config.timeoutMs);
      if (pending.length > 0) {
        return fail(
          'apply',
          terminal('FoundationNotReady', `not ready in time: ${pending.map(describeRef).join(', ')}`, 'check the CRD or Namespace status'),
        );
      }
    }
  }
  if (writeAllowed) outcome.synced = true;

  // prune (pruneLast: after the applied objects are healthy)
  const current = plan.objects.map(refOf);
  let stale = staleEntries(previous, current);
  let waited = false;
  if (writeAllowed && input.config.policy.pruneLast && stale.length > 0) {
    await waitHealthy(plan, deps, input.config.timeoutMs);
    waited = true;
  }
  let unpruned: ResourceStatus[] = [];
  if (stale.length > 0) {
    if (plan.objects.length === 0 && !input.config.policy.allowEmpty) {
      outcome.notes.push({
        reason: 'PruneBlockedEmptyRender',
        message: `the path renders no objects; not pruning ${stale.length} objects (set syncPolicy.allowEmpty to allow it)`,
      });
      unpruned = stale;
    } else if (!input.config.prune) {
      stale = [];
    } else if (!writeAllowed) {
      unpruned = stale;
    } else {
      const pruned = await prune(stale, input, deps);
      outcome.changes.push(...pruned.entries);
      unpruned = pruned.remaining;
    }
  }

  // assess
  // After a health wait the copies from apply time are stale: rate what the cluster shows now.
  const resources = await assess(plan, diffs, deps, waited);
  for (const entry of unpruned)
    resources.push({ ...entry, status: 'OutOfSync', message: entry.message ?? 'no longer in Git; not pruned yet' });
  outcome.resources = resources;
  outcome.diffs = [...diffs.values()];
  outcome.sync = syncStatusOf(resources);
  outcome.health = worstHealth(resources);
  const pruneFailures = failures(outcome.changes.filter((c) => stale.some((s) => objectKey(s) === objectKey(c.ref))));
  if (pruneFailures.length > 0)
    return fail(
      'prune',
      terminal('PruneFailed', `could not prune: ${describeFailures(pruneFailures)}`, 'the objects stay in the inventory and are retried'),
    );
  return outcome;
}

interface Plan {
  objects: KubeObject[];
  stages: Record<Stage, KubeObject[]>;
  /** Scopes of custom resources whose CRD is part of this same set. */
  crdScopes: Map<string, boolean>;
}

async function planObjects(rendered: KubeObject[], input: ReconcileInput, deps: ReconcileDeps): Promise<Plan> {
  const crdScopes = new Map<string, boolean>();
  for (const obj of rendered) {
    if (obj.kind !== 'CustomResourceDefinition') continue;
    const spec = isObject(obj.spec) ? obj.spec : {};
    const names = isObject(spec.names) ? spec.names : {};
    const versions = Array.isArray(spec.versions) ? spec.versions : [];
    for (const v of versions) {
      if (isObject(v) && typeof v.name === 'string' && typeof names.kind === 'string') {
        crdScopes.set(`${spec.group}/${v.name}|${names.kind}`, spec.scope !== 'Cluster');
      }
    }
  }
  const scopes = new Map<string, boolean | undefined>();
  await mapLimit([...new Set(rendered.map((o) => `${o.apiVersion}|${o.kind}`))], 4, async (key) => {
    const [apiVersion, kind] = key.split('|') as [string, string];
    const mapping = await deps.target.mapper.find(apiVersion, kind);
    scopes.set(key, mapping ? mapping.namespaced : crdScopes.get(key));
  });
  const objects = prepareObjects(rendered, (apiVersion, kind) => scopes.get(`${apiVersion}|${kind}`), {
    owner: { namespace: input.cd.metadata.namespace ?? 'default', name: input.cd.metadata.name },
    defaultNamespace: input.config.targetNamespace ?? input.cd.metadata.namespace ?? 'default',
  });
  assertUnique(objects);
  return { objects, stages: stageObjects(objects), crdScopes };
}

async function mapPlanned(
  objects: KubeObject[],
  plan: Plan,
  deps: ReconcileDeps,
): Promise<{ known: PlannedObject[]; unknown: KubeObject[] }> {
  const known: PlannedObject[] = [];
  const unknown: KubeObject[] = [];
  for (const object of objects) {
    const mapping = await deps.target.mapper.find(object.apiVersion, object.kind);
    if (mapping) known.push({ object, mapping, ref: refOf(object) });
    else unknown.push(object);
  }
  // Custom resources of a CRD this set creates cannot be dry-run before it exists; in compare-only
  // mode they are simply missing.
  if (unknown.length > 0 && unknown.every((o) => plan.crdScopes.has(`${o.apiVersion}|${o.kind}`))) {
    return { known, unknown: [] };
  }
  return { known, unknown };
}

/**
 * Live vs desired for one object. When the live copy has not changed since we last saw it in
 * sync with this same desired object, the answer is known without asking the server: a no-op
 * reconcile then costs no API calls at all.
 */
async function diffObject(p: PlannedObject, input: ReconcileInput, deps: ReconcileDeps): Promise<DiffResult> {
  const cached = deps.cache?.get(p.mapping, p.ref.namespace, p.ref.name);
  const live = cached !== undefined ? cached : ((await deps.target.resources.get(p.mapping, p.ref.namespace, p.ref.name)) ?? null);
  const memo = deps.memo?.get(objectKey(p.ref));
  if (live && memo && memo.resourceVersion === live.metadata.resourceVersion && memo.fingerprint === fingerprint(p.object)) {
    return { planned: p, state: 'inSync', live, merged: undefined };
  }
  const diff = await deps.target.resources.diff(
    p,
    { skipSchemaValidation: input.config.policy.skipSchemaValidation, force: input.config.force },
    live,
  );
  if (diff.state === 'inSync' && diff.live) remember(deps, p, diff.live);
  return diff;
}

function remember(deps: ReconcileDeps, p: PlannedObject, live: KubeObject): void {
  if (!deps.memo || !live.metadata.resourceVersion) return;
  deps.memo.set(objectKey(p.ref), {
    fingerprint: fingerprint(p.object),
    resourceVersion: live.metadata.resourceVersion,
  });
}

function fingerprint(obj: KubeObject): string {
  return createHash('sha256').update(JSON.stringify(obj)).digest('base64url');
}

async function ensureNamespace(name: string, deps: ReconcileDeps): Promise<ChangeEntry> {
  const mapping: ResourceMapping = {
    group: '',
    version: 'v1',
    kind: 'Namespace',
    plural: 'namespaces',
    namespaced: false,
  };
  const ref: ObjectRef = { group: '', version: 'v1', kind: 'Namespace', name };
  try {
    if (await deps.target.resources.get(mapping, undefined, name)) return { ref, action: 'unchanged' };
    await deps.target.rest.request({
      method: 'POST',
      path: '/api/v1/namespaces',
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
    });
    return { ref, action: 'created' };
  } catch (err) {
    const error = toTidemarkError(err);
    if ((error as { status?: number }).status === 409) return { ref, action: 'unchanged' };
    return { ref, action: 'failed', message: error.message, error };
  }
}

async function prune(
  stale: ResourceStatus[],
  input: ReconcileInput,
  deps: ReconcileDeps,
): Promise<{ entries: ChangeEntry[]; remaining: ResourceStatus[] }> {
  const owner = { namespace: input.cd.metadata.namespace ?? 'default', name: input.cd.metadata.name };
  const entries: ChangeEntry[] = [];
  const remaining: ResourceStatus[] = [];
  const ordered = sortForPrune(
    stale.map((s) => ({
      entry: s,
      apiVersion: s.group ? `${s.group}/${s.version}` : s.version,
      kind: s.kind,
      metadata: { name: s.name, ...(s.namespace === undefined ? {} : { namespace: s.namespace }) },
    })),
  );
  // Sequential on purpose: reverse order matters (workloads before their namespace and CRD).
  for (const item of ordered) {
    const ref = inventoryRef(item.entry);
    try {
      const mapping = await deps.target.mapper.find(item.apiVersion, item.kind);
      if (!mapping) {
        entries.push({ ref, action: 'deleted', message: 'kind no longer served' });
        continue;
      }
      const live = await deps.target.resources.get(mapping, ref.namespace, ref.name);
      if (!live) {
        entries.push({ ref, action: 'deleted', message: 'already gone' });
        continue;
      }
      if (!isOwnedBy(live, owner)) {
        entries.push({ ref, action: 'skipped', message: 'not owned by this ContinuousDeployment' });
        continue;
      }
      if (pruneDisabled(live)) {
        entries.push({ ref, action: 'skipped', message: 'annotated tidemark.dev/prune: disabled' });
        continue;
      }
      const entry = await deps.target.resources.delete(mapping, ref, input.config.policy.propagation);
      entries.push(entry);
      if (entry.action === 'failed') remaining.push(withMessage(item.entry, entry.message));
    } catch (err) {
      const error = toTidemarkError(err);
      entries.push({ ref, action: 'failed', message: error.message, error });
      remaining.push({ ...item.entry, message: error.message });
    }
  }
  return { entries, remaining };
}

async function waitHealthy(plan: Plan, deps: ReconcileDeps, timeoutMs: number): Promise<void> {
  const deadline = deps.clock.now() + timeoutMs;
  let delay = 250;
  for (;;) {
    const resources = await assess(plan, new Map(), deps);
    if (resources.every((r) => r.health?.status === 'Healthy' || r.health?.status === 'Suspended')) return;
    if (deps.clock.now() >= deadline) return;
    await deps.clock.sleep(delay, deps.signal);
    delay = Math.min(delay * 2, 2000);
  }
}

/** Reads each desired object once and rates its health; reuses live copies a diff already read unless `reread`. */
async function assess(plan: Plan, diffs: Map<string, DiffResult>, deps: ReconcileDeps, reread = false): Promise<ResourceStatus[]> {
  return mapLimit(plan.objects, deps.concurrency, async (obj) => {
    const ref = refOf(obj);
    const diff = diffs.get(objectKey(ref));
    let live: KubeObject | undefined;
    let status: SyncStatus = diff?.state === 'inSync' ? 'Synced' : 'OutOfSync';
    try {
      const mapping = diff?.planned.mapping ?? (await deps.target.mapper.find(obj.apiVersion, obj.kind));
      const cached = mapping ? deps.cache?.get(mapping, ref.namespace, ref.name) : undefined;
      if (diff?.live && !reread) live = diff.live;
      else if (cached !== undefined) live = cached ?? undefined;
      else if (mapping) live = await deps.target.resources.get(mapping, ref.namespace, ref.name);
    } catch {
      status = 'Unknown';
    }
    if (!live && status === 'Synced') status = 'OutOfSync';
    const health = deps.health(live);
    const entry: ResourceStatus = {
      ...groupField(ref.group),
      version: ref.version,
      kind: ref.kind,
      name: ref.name,
      status,
      health,
    };
    if (ref.namespace) entry.namespace = ref.namespace;
    return entry;
  });
}

function inventoryAfterApply(
  previous: ResourceStatus[],
  plan: Plan,
  diffs: Map<string, DiffResult>,
  changes: ChangeEntry[],
): ResourceStatus[] {
  // After a partial apply the inventory must hold both what was there and what may now exist,
  // so a later prune can still find every object we might have created.
  const byKey = new Map(previous.map((r) => [objectKey(r), r]));
  for (const obj of plan.objects) {
    const ref = refOf(obj);
    const key = objectKey(ref);
    const failed = changes.find((c) => objectKey(c.ref) === key && c.action === 'failed');
    const entry: ResourceStatus = {
      ...groupField(ref.group),
      version: ref.version,
      kind: ref.kind,
      name: ref.name,
      status: diffs.get(key)?.state === 'inSync' ? 'Synced' : 'OutOfSync',
    };
    if (ref.namespace) entry.namespace = ref.namespace;
    if (failed?.message) entry.message = failed.message;
    byKey.set(key, entry);
  }
  return [...byKey.values()];
}

function syncStatusOf(resources: ResourceStatus[]): SyncStatus {
  if (resources.some((r) => r.status === 'Unknown')) return 'Unknown';
  return resources.every((r) => r.status === 'Synced') ? 'Synced' : 'OutOfSync';
}

function dryRunError(rejected: ChangeEntry[]): TidemarkError {
  const first = rejected[0]?.error;
  const code = first?.code === 'ObjectInvalid' || first?.code === 'Forbidden' ? first.code : 'DryRunFailed';
  return terminal(code, `server-side dry-run failed, nothing was applied: ${describeFailures(rejected)}`, 'fix the objects in Git', first);
}

function applyError(written: ChangeEntry[]): TidemarkError {
  const first = failures(written)[0]?.error;
  return new TidemarkError(first?.code ?? 'ApplyFailed', `apply failed: ${describeFailures(written)}`, {
    kind: first?.kind ?? 'transient',
    hint: first?.hint,
    cause: first,
  });
}

/** The inventory entry with this message in place of any earlier one (none when there is none). */
function withMessage(entry: ResourceStatus, message: string | undefined): ResourceStatus {
  const { message: _previous, ...rest } = entry;
  return message === undefined ? rest : { ...rest, message };
}

function groupField(group: string): { group?: string } {
  return group ? { group } : {};
}
