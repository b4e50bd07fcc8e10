import type { ResourceStatus } from '../../shared/api/continuous-deployment.ts';
import { toTidemarkError } from '../../shared/errors/index.ts';
import type { Reason } from '../../shared/errors/index.ts';
import type { ChangeEntry } from '../../shared/kube/change-set.ts';
import type { KubeObject, ObjectRef } from '../../shared/kube/object.ts';
import { sortForPrune } from '../../shared/kube/order.ts';
import { apiVersionOf, inventoryRef, isOwnedBy, pruneDisabled } from '../plan.ts';
import type { Owner } from '../plan.ts';
import type { ResourceMapping } from '../../shared/kube/discovery.ts';
import { syncOptionsOf, syncWaveOf } from '../argo-sync.ts';
import type { StepContext } from './context.ts';

/** What happens to the objects that left Git, before looking at any of them. */
export type PruneGate =
  | { kind: 'prune' }
  /** spec.prune is false: keep them, and keep tracking them so a later prune or a deletion finds them. */
  | { kind: 'off' }
  /** The render is empty and allowEmpty is not set. */
  | { kind: 'blockedEmpty'; note: { reason: Reason; message: string } }
  /** Writing is not allowed now (manual mode, a sync window). */
  | { kind: 'held' };

export function pruneGate(options: {
  stale: number;
  desired: number;
  prune: boolean;
  allowEmpty: boolean;
  writeAllowed: boolean;
  plan: boolean;
}): PruneGate {
  if (options.desired === 0 && !options.allowEmpty) {
    return {
      kind: 'blockedEmpty',
      note: {
        reason: 'PruneBlockedEmptyRender',
        message: `the path renders no objects; not pruning ${options.stale} objects (set syncPolicy.allowEmpty to allow it)`,
      },
    };
  }
  if (!options.prune) return { kind: 'off' };
  if (!options.writeAllowed && !options.plan) return { kind: 'held' };
  return { kind: 'prune' };
}

export const PRUNE_OFF_MESSAGE = 'no longer in Git; kept because spec.prune is false';
export const NOT_PRUNED_YET = 'no longer in Git; not pruned yet';

/** Why one object is or is not deleted. Ownership is re-checked on the live object, never assumed. */
export type PruneVerdict = 'delete' | 'gone' | 'notOwned' | 'pruneDisabled' | 'syncOptionNoPrune';

export function pruneVerdict(live: KubeObject | undefined, owner: Owner): PruneVerdict {
  if (!live) return 'gone';
  if (!isOwnedBy(live, owner)) return 'notOwned';
  if (pruneDisabled(live)) return 'pruneDisabled';
  if (!syncOptionsOf(live).prune) return 'syncOptionNoPrune';
  return 'delete';
}

export interface PruneResult {
  entries: ChangeEntry[];
  /** Still in the cluster and still ours: they stay in the inventory. */
  remaining: ResourceStatus[];
  /** The objects a sync deletes (in a plan: would delete). */
  candidates: ObjectRef[];
}

const SKIP_MESSAGES: Record<Exclude<PruneVerdict, 'delete'>, string> = {
  gone: 'already gone',
  notOwned: 'not owned by this ContinuousDeployment',
  pruneDisabled: 'annotated tidemark.dev/prune: disabled',
  syncOptionNoPrune: 'annotated argocd.argoproj.io/sync-options: Prune=false',
};

/**
 * Deletes the stale objects that are still ours, in reverse apply order — the highest Argo CD
 * sync wave first (read on the live object, the inventory does not keep it), and within a wave
 * workloads before their namespace and CRD — one at a time on purpose. A failed delete stays in
 * the inventory and is retried. In a plan it only decides.
 */
export async function pruneObjects(ctx: StepContext, stale: ResourceStatus[]): Promise<PruneResult> {
  const result: PruneResult = { entries: [], remaining: [], candidates: [] };
  const ordered = sortForPrune(
    stale.map((s) => ({
      entry: s,
      apiVersion: apiVersionOf(s),
      kind: s.kind,
      metadata: { name: s.name, ...(s.namespace === undefined ? {} : { namespace: s.namespace }) },
    })),
  );
  const looked: Array<{ item: (typeof ordered)[number]; mapping: ResourceMapping; wave: number }> = [];
  const failed = (item: (typeof ordered)[number], err: unknown) => {
    const error = toTidemarkError(err);
    result.entries.push({ ref: inventoryRef(item.entry), action: 'failed', message: error.message, error });
    result.remaining.push(withMessage(item.entry, error.message));
  };
  for (const item of ordered) {
    const ref = inventoryRef(item.entry);
    try {
      const mapping = await ctx.deps.kube.mapping(item.apiVersion, item.kind);
      if (!mapping) {
        result.entries.push({ ref, action: 'deleted', message: 'kind no longer served' });
        continue;
      }
      const live = await ctx.deps.kube.get(mapping, ref.namespace, ref.name);
      const verdict = pruneVerdict(live, ctx.owner);
      if (verdict !== 'delete') {
        result.entries.push({ ref, action: verdict === 'gone' ? 'deleted' : 'skipped', message: SKIP_MESSAGES[verdict] });
        continue;
      }
      looked.push({ item, mapping, wave: live ? waveOrZero(live) : 0 });
    } catch (err) {
      failed(item, err);
    }
  }
  // A stable sort: the kind order above holds within a wave.
  looked.sort((a, b) => b.wave - a.wave);
  for (const { item, mapping } of looked) {
    const ref = inventoryRef(item.entry);
    result.candidates.push(ref);
    if (ctx.input.mode === 'plan') continue;
    try {
      const entry = await ctx.resources.delete(mapping, ref, ctx.input.config.policy.propagation);
      result.entries.push(entry);
      if (entry.action === 'failed') result.remaining.push(withMessage(item.entry, entry.message));
    } catch (err) {
      failed(item, err);
    }
  }
  return result;
}

/** A live object's wave; one edited to a bad value by hand is pruned with wave 0, not refused. */
function waveOrZero(live: KubeObject): number {
  try {
    return syncWaveOf(live);
  } catch {
    return 0;
  }
}

/** The inventory entry with this message in place of any earlier one (none when there is none). */
export function withMessage(entry: ResourceStatus, message: string | undefined): ResourceStatus {
  const rest = { ...entry };
  delete rest.message;
  return message === undefined ? rest : { ...rest, message };
}
