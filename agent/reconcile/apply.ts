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
import { remember } from './plan.ts';

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
