import { terminal, TidemarkError, toTidemarkError, transient } from '../../shared/errors/index.ts';
import type { HookStatus, ResourceStatus } from '../../shared/api/continuous-deployment.ts';
import { describeFailures, failureKind, failures } from '../../shared/kube/change-set.ts';
import type { ChangeEntry } from '../../shared/kube/change-set.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { describeRef, objectKey, refOf } from '../../shared/kube/object.ts';
import { STAGES, stageObjects } from '../../shared/kube/order.ts';
import type { DiffResult } from '../../shared/kube/resource-manager.ts';
import { worstHealth } from '../health/index.ts';
import { byWave, nameHooks, syncWaveOf } from '../argo-sync.ts';
import type { HookPhase } from '../argo-sync.ts';
import { inventoryRef, staleEntries } from '../plan.ts';
import type { Checkout, Phase, ReconcileOutcome } from '../types.ts';
import { forbiddenError, forbiddenObjects } from './authorize.ts';
import {
  applyError,
  chooseWrites,
  createError,
  createObjects,
  ensureNamespace,
  inventoryAfterApply,
  keepCreates,
  rollBack,
  writeObjects,
} from './apply.ts';
import { assessHealthChecks, assessObjects, syncStatusOf, waitHealthChecks, waitHealthy, waitWave } from './assess.ts';
import { supersededBy, waitForFoundation } from './budget.ts';
import type { ReconcileDeps, ReconcileInput, StepContext } from './context.ts';
import { stepContext, writeAllowed } from './context.ts';
import { fetchRevision, renderRevision } from './fetch.ts';
import type { DesiredSet } from './plan.ts';
import {
  compareExisting,
  compareStage,
  dryRunError,
  dryRunSync,
  mapStage,
  planObjects,
  skippedMissingKinds,
  unbornCustomResources,
  unbornNamespaces,
} from './plan.ts';
import { postRender, readDecryptionKeys, sourceScan } from './post-build.ts';
import { runHooks } from './hooks.ts';
import { NOT_PRUNED_YET, PRUNE_OFF_MESSAGE, pruneGate, pruneObjects, withMessage } from './prune.ts';

export type { NamespaceObjects, ReconcileDeps, ReconcileInput, ReconcileMode, SyncMemo } from './context.ts';
export { runBudget, type RunBudget } from './budget.ts';
export { runPostDeleteHooks } from './post-delete.ts';
export type { HookRun } from './hooks.ts';

/**
 * One reconcile: fetch → render → plan → apply → prune → assess (the controller reports). Every
 * step is recomputed from Git and the cluster, so running it twice, or again after a crash at any
 * line, converges. Nothing is written unless every object of a stage passed a server-side dry-run
 * first, and — for a deployment acting as a ServiceAccount — its identity may write every object
 * of the set; nothing is pruned unless the render (with decryption and substitution) succeeded. In `plan` mode nothing is written at all.
 */
export async function reconcile(input: ReconcileInput, deps: ReconcileDeps): Promise<ReconcileOutcome> {
  const ctx = stepContext(input, deps);
  const { config } = input;
  const previous = input.cd.status?.resources ?? [];
  const outcome: ReconcileOutcome = {
    synced: false,
    changes: [],
    resources: previous,
    sync: 'Unknown',
    health: { status: 'Unknown' },
    notes: [],
    diffs: [],
    pruneCandidates: [],
  };
  const fail = (phase: Phase, err: unknown): ReconcileOutcome => {
    outcome.failedPhase = phase;
    outcome.error = toTidemarkError(err);
    return outcome;
  };

  let rendered: KubeObject[];
  let decryption: Awaited<ReturnType<typeof readDecryptionKeys>>;
  try {
    const fetched = await fetchRevision(ctx, (resolved) => (outcome.resolved = resolved));
    outcome.resolved = fetched.resolved;
    try {
      decryption = await readDecryptionKeys(ctx);
    } catch (err) {
      fetched.checkout?.release();
      return fail('render', err);
    }
    if (fetched.rendered) rendered = fetched.rendered;
    else {
      try {
        // SOPS files are verified in the checkout while it is held: a kustomization may change them.
        const verify = decryption ? sourceScan(decryption, ctx.deps.signal) : undefined;
        rendered = await renderRevision(ctx, fetched.resolved, fetched.checkout as Checkout, verify, outcome.notes);
      } catch (err) {
        return fail('render', err);
      }
    }
  } catch (err) {
    return fail('fetch', err);
  }
  const resolved = outcome.resolved;
  try {
    const post = await postRender(ctx, rendered, decryption);
    rendered = post.objects;
    if (post.sensitive.length > 0) outcome.sensitive = post.sensitive;
  } catch (err) {
    return fail('render', err);
  }

  let desired: DesiredSet;
  try {
    // An OCI revision is `sha256:<hex>`: hook names take the hex, as they take a commit's.
    desired = await planObjects(ctx, nameHooks(rendered, resolved.sha.replace(/^sha\d+:/, ''), deps.clock.now()));
  } catch (err) {
    return fail('plan', err);
  }

  const write = writeAllowed(input);
  const revisionChanged = input.cd.status?.lastAppliedRevision !== resolved.revision;
  // Creates without a dry-run only on a first attempt at a revision: a retry of one that failed
  // dry-runs everything, so a stage whose creates were rolled back is not created and deleted
  // again on every retry — the retry fails at the dry-run and writes nothing (ADR 0016).
  const retry = input.cd.status?.lastAttemptedRevision === resolved.revision && revisionChanged;
  const absentCreates = write && !retry;
  if (write) {
    let forbidden: Awaited<ReturnType<typeof forbiddenObjects>>;
    try {
      const hooks = revisionChanged || input.syncRequested ? desired.hooks.map((h) => h.object) : [];
      forbidden = await forbiddenObjects(ctx, desired, hooks);
    } catch (err) {
      return fail('plan', err);
    }
    if (forbidden.length > 0) {
      outcome.changes.push(...forbidden);
      return fail('plan', forbiddenError(ctx, forbidden));
    }
  }
  if (write && config.policy.createNamespace && config.targetNamespace) {
    const created = await ensureNamespace(ctx, config.targetNamespace);
    if (created.action === 'failed') return fail('apply', created.error);
    if (created.action === 'created') outcome.changes.push(created);
  }

  // A sync operation in Argo's sense: a new revision or a requested sync runs the hooks.
  const hooksRun = write && (revisionChanged || input.syncRequested);
  const hookStatuses: HookStatus[] = [];
  /** The hooks of a phase: `newer` when a newer intent ended their wait, `error` when one did not succeed. */
  const runPhase = async (phase: HookPhase, wave?: number): Promise<{ error?: TidemarkError; newer?: string }> => {
    if (!hooksRun || !desired.hooks.some((h) => h.phases.includes(phase) && (wave === undefined || h.wave === wave))) return {};
    const ran = await runHooks(ctx, desired.hooks, phase, wave);
    hookStatuses.push(...ran.statuses);
    if (ran.statuses.length > 0) outcome.hooks = hookStatuses;
    const newer = supersededBy(ctx);
    return { ...(ran.error ? { error: ran.error } : {}), ...(newer ? { newer } : {}) };
  };
  /** A failed sync runs its SyncFail hooks (their own failure is only reported in status.hooks). */
  const failSync = async (phase: Phase, err: unknown): Promise<ReconcileOutcome> => {
    await runPhase('SyncFail');
    return fail(phase, err);
  };

  const diffs = new Map<string, DiffResult>();
  // Namespaces a run that writes nothing leaves missing; known after a foundation stage.
  const unborn = new Set<string>();
  // Kinds skipped for SkipDryRunOnMissingResource: nothing to wait for in their wave.
  const notServed = new Set<string>();
  /**
   * A newer intent ended a wait: the run stops here — no SyncFail hooks, no prune, no later wave —
   * and keeps in its inventory what it may have created, as a failed apply does.
   */
  const superseded = (by: string, during: string): ReconcileOutcome => {
    outcome.superseded = { by, during };
    outcome.resources = inventoryAfterApply(previous, desired, diffs, outcome.changes);
    outcome.sync = 'OutOfSync';
    outcome.health = { status: 'Progressing', message: `superseded by ${by} while waiting for ${during}` };
    return outcome;
  };
  const waves = byWave(desired.objects, syncWaveOf);
  // Hooks or later waves act before the last stage's own dry-run: a sync operation is dry-run whole first (Argo).
  if (hooksRun && (desired.hooks.length > 0 || waves.length > 1)) {
    let rejected: Awaited<ReturnType<typeof dryRunSync>>;
    try {
      rejected = await dryRunSync(ctx, desired);
    } catch (err) {
      return fail('plan', err);
    }
    if (rejected.length > 0) {
      outcome.changes.push(...rejected);
      return fail('plan', dryRunError(rejected));
    }
  }
  const preSync = await runPhase('PreSync');
  if (preSync.newer) return superseded(preSync.newer, 'the PreSync hooks');
  if (preSync.error) return failSync('apply', preSync.error);

  const syncHookWaves = hooksRun ? desired.hooks.filter((h) => h.phases.includes('Sync')).map((h) => h.wave) : [];
  const waveNumbers = [...new Set([...waves.map((w) => w.wave), ...syncHookWaves])].sort((a, b) => a - b);
  const postSyncHooks = hooksRun && desired.hooks.some((h) => h.phases.includes('PostSync'));
  for (const [index, wave] of waveNumbers.entries()) {
    const objects = waves.find((w) => w.wave === wave)?.items ?? [];
    const stages = stageObjects(objects);
    for (const stage of STAGES) {
      let compared: Awaited<ReturnType<typeof compareStage>>;
      let planned: Awaited<ReturnType<typeof mapStage>>;
      try {
        planned = await mapStage(ctx, stages[stage], desired);
        const skipped = skippedMissingKinds(stages[stage], planned, desired);
        for (const entry of skipped) notServed.add(objectKey(entry.ref));
        outcome.changes.push(...skipped);
        compared = await compareStage(ctx, planned, unborn, { absentCreates });
        if (!write) compared.diffs.push(...unbornCustomResources(stages[stage], desired, planned));
      } catch (err) {
        return hooksRun ? failSync('plan', err) : fail('plan', err);
      }
      for (const d of compared.diffs) diffs.set(objectKey(d.planned.ref), d);
      if (compared.rejected.length > 0) {
        outcome.changes.push(...compared.rejected);
        return hooksRun ? failSync('plan', dryRunError(compared.rejected)) : fail('plan', dryRunError(compared.rejected));
      }
      if (!write) {
        if (stage === 'foundation') {
          try {
            for (const name of await unbornNamespaces(ctx, compared.diffs)) unborn.add(name);
          } catch (err) {
            return fail('plan', err);
          }
        }
        continue;
      }
      const writeOptions = {
        selfHeal: config.policy.selfHeal,
        applyOutOfSyncOnly: config.policy.applyOutOfSyncOnly,
        revisionChanged,
        syncRequested: input.syncRequested,
      };
      const choice = chooseWrites(compared.diffs, writeOptions);
      if (choice.note) outcome.notes.push(choice.note);
      // Creates first, after every existing object's dry-run passed and before any of them is
      // written: a create that fails is rolled back with the others, and nothing else was touched.
      const unverified = compared.unverified;
      const creates = choice.toWrite.filter((d) => unverified.has(d));
      const updates = choice.toWrite.filter((d) => !unverified.has(d));
      if (creates.length > 0) {
        const made = await createObjects(ctx, creates);
        let rejected: ChangeEntry[] = [];
        if (made.existing.length > 0 && failures(made.entries).length === 0) {
          try {
            const again = await compareExisting(ctx, made.existing);
            for (const d of again.diffs) diffs.set(objectKey(d.planned.ref), d);
            rejected = again.rejected;
            updates.push(...chooseWrites(again.diffs, writeOptions).toWrite);
          } catch (err) {
            rejected = made.existing.map((d) => ({
              ref: d.planned.ref,
              action: 'failed' as const,
              message: toTidemarkError(err).message,
              error: toTidemarkError(err),
            }));
          }
        }
        const refused = failures(made.entries);
        const problems = [...refused, ...rejected];
        if (problems.length > 0 && problems.every((e) => e.error?.kind === 'transient')) {
          // A transient failure (a 500, a timeout, a lost answer) is no verdict on the stage — a
          // dry-run would not have caught it. What was created stands, as the writes before a failed
          // apply do, and the next run retries: taking it back would delete objects Git has.
          keepCreates(creates, made.entries);
          outcome.changes.push(...made.entries, ...rejected);
          outcome.resources = inventoryAfterApply(previous, desired, diffs, outcome.changes);
          return failSync('apply', applyError(problems));
        }
        if (problems.length > 0) {
          const kept = await rollBack(ctx, creates, made.entries);
          const created = made.entries.filter((e) => e.action === 'created').length;
          outcome.changes.push(...refused, ...rejected, ...kept);
          // All taken back: nothing was written, the inventory stays as it was (as after a failed
          // dry-run). A create whose answer was lost (transient, beside a terminal refusal) may have
          // been made, and what could not be deleted again is there: the inventory keeps them for a
          // later prune, as after a failed apply.
          if (kept.length > 0 || refused.some((e) => e.error?.kind === 'transient')) {
            outcome.resources = inventoryAfterApply(previous, desired, diffs, outcome.changes);
          }
          const error =
            rejected.length > 0
              ? createError(rejected, 'server-side dry-run', created, kept)
              : createError(refused, 'create', created, kept);
          // Nothing of it stands: reported as a failed dry-run is, keeping the last known health.
          return failSync(kept.length > 0 ? 'apply' : 'plan', error);
        }
        keepCreates(creates, made.entries);
        outcome.changes.push(...made.entries);
      }
      const written = await writeObjects(ctx, updates);
      outcome.changes.push(...written);
      if (failures(written).length > 0) {
        outcome.resources = inventoryAfterApply(previous, desired, diffs, outcome.changes);
        return failSync('apply', applyError(written));
      }
      if (stage === 'foundation') {
        const pending = await waitForFoundation(ctx, planned);
        const newer = planned.length > 0 ? supersededBy(ctx) : undefined;
        if (newer) return superseded(newer, `the CRDs and Namespaces of sync wave ${wave}`);
        if (pending.length > 0) {
          const names = pending.map(describeRef).join(', ');
          outcome.resources = inventoryAfterApply(previous, desired, diffs, outcome.changes);
          return failSync('apply', terminal('FoundationNotReady', `not ready in time: ${names}`, 'check the CRD or Namespace status'));
        }
      }
    }
    if (!write) continue;
    const syncHooks = await runPhase('Sync', wave);
    if (syncHooks.newer) return superseded(syncHooks.newer, `the Sync hooks of sync wave ${wave}`);
    if (syncHooks.error) {
      outcome.resources = inventoryAfterApply(previous, desired, diffs, outcome.changes);
      return failSync('apply', syncHooks.error);
    }
    // Each wave healthy before the next (Argo); the last one too when PostSync hooks wait for it.
    const last = index === waveNumbers.length - 1;
    const applied = objects.filter((o) => !notServed.has(objectKey(refOf(o))));
    // Steady state — no sync operation, nothing written so far, every later wave in sync: Argo
    // would not sync at all, so an unhealthy wave holds nothing back and is only reported.
    const steady = async () =>
      !hooksRun &&
      !outcome.changes.some((c) => c.action === 'created' || c.action === 'configured') &&
      (await inSync(
        ctx,
        desired,
        waves.filter((w) => w.wave > wave).flatMap((w) => w.items),
        unborn,
      ));
    if (applied.length > 0 && (!last || postSyncHooks) && !(await steady())) {
      const { degraded, pending } = await waitWave(ctx, desired, applied);
      const newer = supersededBy(ctx);
      if (newer) return superseded(newer, `sync wave ${wave} to be healthy`);
      if (pending.length > 0) {
        outcome.resources = inventoryAfterApply(previous, desired, diffs, outcome.changes);
        const named = (list: ResourceStatus[]) =>
          list
            .slice(0, 5)
            .map(
              (r) =>
                `${describeRef(inventoryRef(r))} (${r.health?.status ?? 'Unknown'}${r.health?.message ? `: ${r.health.message}` : ''})`,
            )
            .join(', ');
        const next = last ? 'the PostSync hooks' : `wave ${waveNumbers[index + 1] ?? ''}`;
        return failSync(
          'apply',
          degraded.length > 0
            ? terminal(
                'SyncWaveFailed',
                `sync wave ${wave} is degraded, ${next} not started: ${named(degraded)}`,
                'fix the objects of this wave in Git; the sync resumes from here',
              )
            : transient('SyncWaveTimeout', `sync wave ${wave} not healthy within spec.timeout, ${next} not started: ${named(pending)}`),
        );
      }
    }
  }
  if (write) {
    outcome.synced = true;
    outcome.postDeleteHooks = desired.hooks.filter((h) => h.phases.includes('PostDelete')).length;
  }

  const stale = staleEntries(previous, desired.objects.map(refOf));
  const gate = pruneGate({
    stale: stale.length,
    desired: desired.objects.length,
    prune: config.prune,
    allowEmpty: config.policy.allowEmpty,
    writeAllowed: write,
    plan: input.mode === 'plan',
  });
  let kept = stale.map((entry) =>
    withMessage(entry, entry.message && entry.message !== PRUNE_OFF_MESSAGE ? entry.message : NOT_PRUNED_YET),
  );
  let waited = false;
  if (stale.length > 0) {
    if (gate.kind === 'blockedEmpty') outcome.notes.push(gate.note);
    if (gate.kind === 'off') kept = stale.map((entry) => withMessage(entry, PRUNE_OFF_MESSAGE));
    if (gate.kind === 'prune') {
      if (write && config.policy.pruneLast) {
        await waitHealthy(ctx, desired);
        waited = true;
        const newer = supersededBy(ctx);
        if (newer) return superseded(newer, 'every object to be healthy before pruning (pruneLast)');
      }
      const pruned = await pruneObjects(ctx, stale);
      outcome.changes.push(...pruned.entries);
      outcome.pruneCandidates = pruned.candidates;
      // In a plan the candidates are still there, and still tracked.
      kept = input.mode === 'plan' ? kept.filter((e) => pruned.candidates.some((c) => objectKey(c) === objectKey(e))) : pruned.remaining;
    }
  }

  const staleKeys = new Set(stale.map((s) => objectKey(s)));
  const pruneFailures = failures(outcome.changes.filter((c) => staleKeys.has(objectKey(c.ref))));
  // PostSync hooks once every wave is applied, healthy and pruned: a sync that ended well.
  if (pruneFailures.length === 0) {
    const postSync = await runPhase('PostSync');
    if (postSync.newer) return superseded(postSync.newer, 'the PostSync hooks');
    if (postSync.error) {
      outcome.resources = inventoryAfterApply(previous, desired, diffs, outcome.changes);
      return failSync('apply', postSync.error);
    }
  } else await runPhase('SyncFail');

  // spec.healthChecks: after a sync, waited for as Flux waits for them (within the run's budget).
  let checks = await assessHealthChecks(ctx, desired);
  if (write && checks.length > 0) {
    const before = checks;
    checks = await waitHealthChecks(ctx, desired, checks);
    if (checks !== before) waited = true;
    // Applied and pruned already: the run reports what it did, and that it stopped waiting.
    const newer = supersededBy(ctx);
    if (newer) outcome.superseded = { by: newer, during: 'spec.healthChecks' };
  }
  // After a health wait the copies from apply time are stale: rate what the cluster shows now.
  const resources = await assessObjects(ctx, desired, diffs, waited);
  for (const entry of kept) resources.push({ ...entry, status: 'OutOfSync' });
  outcome.resources = resources;
  if (checks.length > 0) outcome.healthChecks = checks;
  outcome.diffs = [...diffs.values()];
  outcome.sync = syncStatusOf(resources);
  // The inventory stays what was rendered (it decides what is pruned); the checks count in health only.
  outcome.health = worstHealth([...resources, ...checks]);
  if (pruneFailures.length > 0) {
    const message = `could not prune: ${describeFailures(pruneFailures)}`;
    const hint = 'the objects stay in the inventory and are retried';
    return fail(
      'prune',
      new TidemarkError('PruneFailed', message, { kind: failureKind(pruneFailures), hint, cause: pruneFailures[0]?.error }),
    );
  }
  return outcome;
}

/** Every object already in sync with the cluster (free in steady state: the memo answers); any doubt is false. */
async function inSync(ctx: StepContext, desired: DesiredSet, objects: KubeObject[], unborn: ReadonlySet<string>): Promise<boolean> {
  try {
    const stages = stageObjects(objects);
    for (const stage of STAGES) {
      const planned = await mapStage(ctx, stages[stage], desired);
      if (planned.length !== stages[stage].length) return false;
      const compared = await compareStage(ctx, planned, unborn);
      if (compared.rejected.length > 0 || compared.diffs.some((d) => d.state !== 'inSync')) return false;
    }
    return true;
  } catch {
    return false;
  }
}
