import type { ResourceStatus } from '../../shared/api/continuous-deployment.ts';
import { Resources } from '../../shared/api/resources.ts';
import { TidemarkError, toTidemarkError } from '../../shared/errors/index.ts';
import type { Reason } from '../../shared/errors/index.ts';
import type { ChangeEntry } from '../../shared/kube/change-set.ts';
import { describeFailures, failures } from '../../shared/kube/change-set.ts';
import { isConflict } from '../../shared/kube/errors.ts';
import type { ObjectRef } from '../../shared/kube/object.ts';
import { describeRef, objectKey, refOf } from '../../shared/kube/object.ts';
import { mapLimit } from '../../shared/kube/pool.ts';
import type { DiffResult } from '../../shared/kube/resource-manager.ts';
import { syncOptionsOf } from '../argo-sync.ts';
import type { StepContext } from './context.ts';
import type { DesiredSet } from './plan.ts';
import { rejectionError, remember } from './plan.ts';

export interface WriteChoice {
  toWrite: DiffResult[];
  /** Drift left alone because selfHeal is off, when there is some. */
  note?: { reason: Reason; message: string };
}

/**
 * Which compared objects to send. Drift on an unchanged revision is healed only with selfHeal
 * (or when a person asks). A new revision re-sends every object (Argo's sync; applyOutOfSyncOnly
 * opts out). A request on the same revision only repairs drift: a no-op reconcile writes nothing.
 */
export function chooseWrites(
  diffs: readonly DiffResult[],
  options: { selfHeal: boolean; applyOutOfSyncOnly: boolean; revisionChanged: boolean; syncRequested: boolean },
): WriteChoice {
  const heal = options.selfHeal || options.revisionChanged || options.syncRequested;
  const resendAll = options.revisionChanged && !options.applyOutOfSyncOnly;
  const drifted = diffs.filter((d) => d.state !== 'inSync');
  const toWrite = diffs.filter((d) => (d.state !== 'inSync' && heal) || resendAll);
  if (heal || drifted.length === 0) return { toWrite };
  const names = drifted
    .slice(0, 5)
    .map((d) => describeRef(d.planned.ref))
    .join(', ');
  const count = drifted.length === 1 ? '1 object differs' : `${drifted.length} objects differ`;
  return {
    toWrite,
    note: {
      reason: 'DriftDetected',
      message: `${count} from Git: ${names}${drifted.length > 5 ? ', ...' : ''}; selfHeal is off, request a sync to repair`,
    },
  };
}

/** Sends the chosen objects; a written object is in sync from now on (and remembered as such). */
export async function writeObjects(ctx: StepContext, toWrite: DiffResult[]): Promise<ChangeEntry[]> {
  const { policy, force } = ctx.input.config;
  const written = await mapLimit(toWrite, ctx.deps.concurrency, async (d) => {
    const entry = await ctx.resources.apply(d.planned, d.state !== 'missing', {
      replace: policy.replace || syncOptionsOf(d.planned.object).replace,
      force,
      skipSchemaValidation: policy.skipSchemaValidation,
    });
    // At once, not after the last write: the watch's echo of this one, which comes meanwhile, then
    // wakes no further run (controller.ts onObjectChange; 100 healed objects queued one each).
    if (entry.action !== 'failed' && entry.live) remember(ctx, d.planned, entry.live);
    return entry;
  });
  const byKey = new Map(toWrite.map((d) => [objectKey(d.planned.ref), d]));
  for (const entry of written) {
    const diff = byKey.get(objectKey(entry.ref));
    // An apply of an object that was already in sync reports unchanged, as kubectl does.
    if (entry.action === 'configured' && diff?.state === 'inSync' && !entry.message) entry.action = 'unchanged';
    if (diff && entry.action !== 'failed') {
      diff.state = 'inSync';
      diff.live = entry.live;
    }
  }
  return written;
}

/**
 * Planned creates nobody dry-ran, sent as create-only applies. `existing`: the ones the server
 * found existing after all (nothing was written to them; they need the dry-run of any existing
 * object). A created object is in sync from now on only once the whole stage stands: until then
 * the caller may roll it back (rollBack). The memo learns each one as its own create returns,
 * though: the watch's echo of it comes while the stage's other creates are still out, and an echo
 * the memo does not know queues another full run (as writeObjects does for updates).
 */
export async function createObjects(
  ctx: StepContext,
  creates: readonly DiffResult[],
): Promise<{ entries: ChangeEntry[]; existing: DiffResult[] }> {
  const { policy } = ctx.input.config;
  const results = await mapLimit([...creates], ctx.deps.concurrency, async (d) => {
    const result = await ctx.resources.createOnly(d.planned, { skipSchemaValidation: policy.skipSchemaValidation });
    if (result !== 'exists' && result.action === 'created' && result.live) remember(ctx, d.planned, result.live);
    return { d, result };
  });
  const entries: ChangeEntry[] = [];
  const existing: DiffResult[] = [];
  for (const { d, result } of results) {
    if (result === 'exists') existing.push(d);
    else entries.push(result);
  }
  return { entries, existing };
}

/** The creates of a stage that stands: in sync from now on (createObjects remembered them already). */
export function keepCreates(creates: readonly DiffResult[], entries: readonly ChangeEntry[]): void {
  const byKey = new Map(entries.map((e) => [objectKey(e.ref), e]));
  for (const d of creates) {
    const live = byKey.get(objectKey(d.planned.ref))?.live;
    if (!live) continue;
    d.state = 'inSync';
    d.live = live;
  }
}

/**
 * Deletes what a failed stage created, each by its uid so an object someone else created since is
 * never touched: the stage's new objects stand all together or not at all (ADR 0016). Returns the
 * ones that could not be deleted (they stay in the inventory, so a later prune finds them).
 */
export async function rollBack(ctx: StepContext, creates: readonly DiffResult[], entries: readonly ChangeEntry[]): Promise<ChangeEntry[]> {
  const mappings = new Map(creates.map((d) => [objectKey(d.planned.ref), d.planned.mapping]));
  const created = entries.filter((e) => e.action === 'created');
  const deleted = await mapLimit(created, ctx.deps.concurrency, async (entry) => {
    const mapping = mappings.get(objectKey(entry.ref));
    const uid = entry.live?.metadata.uid;
    if (!mapping || !uid) return { ...entry, action: 'failed' as const, message: 'created, and its uid is unknown: not deleted again' };
    const result = await ctx.resources.delete(mapping, entry.ref, 'background', uid);
    if (result.action === 'failed') return { ...result, message: `created, and could not be deleted again: ${result.message ?? ''}` };
    ctx.deps.memo?.delete(objectKey(entry.ref));
    return result;
  });
  return failures(deleted);
}

/**
 * A stage whose new objects did not all pass — a create refused, or an object the server found
 * existing failed its dry-run — and what became of the creates taken back.
 */
export function createError(
  failed: readonly ChangeEntry[],
  how: 'create' | 'server-side dry-run',
  created: number,
  kept: readonly ChangeEntry[],
): TidemarkError {
  const back =
    created === 0
      ? 'nothing was applied'
      : kept.length === 0
        ? `the ${String(created)} objects created with them were deleted again, nothing was applied`
        : `${String(created - kept.length)} of the ${String(created)} objects created with them were deleted again; ` +
          `still there: ${describeFailures(kept)}`;
  return rejectionError(failed, `${how} failed, ${back}: ${describeFailures(failed)}`);
}

/** createNamespace: the target namespace, created when missing (and never pruned). */
export async function ensureNamespace(ctx: StepContext, name: string): Promise<ChangeEntry> {
  const ref: ObjectRef = { group: '', version: 'v1', kind: 'Namespace', name };
  try {
    if (await ctx.deps.kube.get(Resources.Namespace, undefined, name)) return { ref, action: 'unchanged' };
    await ctx.deps.kube.create(Resources.Namespace, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    return { ref, action: 'created' };
  } catch (err) {
    if (isConflict(err)) return { ref, action: 'unchanged' };
    const error = toTidemarkError(err);
    return { ref, action: 'failed', message: error.message, error };
  }
}

export function applyError(written: ChangeEntry[]): TidemarkError {
  const first = failures(written)[0]?.error;
  return new TidemarkError(first?.code ?? 'ApplyFailed', `apply failed: ${describeFailures(written)}`, {
    kind: first?.kind ?? 'transient',
    hint: first?.hint,
    cause: first,
  });
}

/**
 * After a partial apply the inventory must hold both what was there and what may now exist,
 * so a later prune can still find every object we might have created.
 */
export function inventoryAfterApply(
  previous: ResourceStatus[],
  desired: DesiredSet,
  diffs: Map<string, DiffResult>,
  changes: ChangeEntry[],
): ResourceStatus[] {
  const byKey = new Map(previous.map((r) => [objectKey(r), r]));
  for (const obj of desired.objects) {
    const ref = refOf(obj);
    const key = objectKey(ref);
    const failed = changes.find((c) => objectKey(c.ref) === key && c.action === 'failed');
    const entry: ResourceStatus = inventoryEntry(ref, diffs.get(key)?.state === 'inSync' ? 'Synced' : 'OutOfSync');
    if (failed?.message) entry.message = failed.message;
    byKey.set(key, entry);
  }
  return [...byKey.values()];
}

export function inventoryEntry(ref: ObjectRef, status: ResourceStatus['status']): ResourceStatus {
  const entry: ResourceStatus = {
    ...(ref.group ? { group: ref.group } : {}),
    version: ref.version,
    kind: ref.kind,
    name: ref.name,
    status,
  };
  if (ref.namespace) entry.namespace = ref.namespace;
  return entry;
}
