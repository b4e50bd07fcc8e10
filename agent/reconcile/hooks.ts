import type { HookStatus } from '../../shared/api/continuous-deployment.ts';
import { describeError, terminal, toTidemarkError, transient } from '../../shared/errors/index.ts';
import type { TidemarkError } from '../../shared/errors/index.ts';
import type { ResourceMapping } from '../../shared/kube/discovery.ts';
import { isConflict, isNotFound } from '../../shared/kube/errors.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { mapLimit } from '../../shared/kube/pool.ts';
import type { Hook, HookPhase } from '../argo-sync.ts';
import { byWave } from '../argo-sync.ts';
import { pause, supersededBy, waitDeadline } from './budget.ts';
import type { StepContext } from './context.ts';

export interface HookRun {
  statuses: HookStatus[];
  /** HookFailed or HookTimeout, naming the hooks, when one did not succeed. */
  error?: TidemarkError;
}

/**
 * Runs the hooks of one phase (of one wave, when given) as Argo CD does: wave by wave, each hook
 * created fresh — BeforeHookCreation deletes a copy left by an earlier sync first — and waited
 * for until our health rules call it Healthy (succeeded) or Degraded (failed). A failed wave stops
 * the phase. HookSucceeded and HookFailed delete the hook once it has ended that way.
 */
export async function runHooks(ctx: StepContext, hooks: readonly Hook[], phase: HookPhase, wave?: number): Promise<HookRun> {
  const selected = hooks.filter((h) => h.phases.includes(phase) && (wave === undefined || h.wave === wave));
  const statuses: HookStatus[] = [];
  for (const group of byWave(selected, (h) => h.wave)) {
    // No hook of a superseded run starts; the caller sees why with supersededBy.
    if (supersededBy(ctx)) break;
    const ran = await mapLimit(group.items, ctx.deps.concurrency, (hook) => runHook(ctx, hook, phase));
    statuses.push(...ran);
    const failed = ran.filter((s) => s.status !== 'Succeeded');
    if (failed.length > 0) {
      const names = failed.map((s) => `${s.kind} ${s.namespace ? `${s.namespace}/` : ''}${s.name}: ${s.message ?? s.status}`).join('; ');
      const timedOut = failed.every((s) => s.status === 'Running');
      const error = timedOut
        ? transient('HookTimeout', `${phase} hook not finished within spec.timeout: ${names}`)
        : terminal('HookFailed', `${phase} hook failed: ${names}`, 'look at the hook’s logs (kubectl logs job/<name>) and fix it in Git');
      return { statuses, error };
    }
  }
  return { statuses };
}

async function runHook(ctx: StepContext, hook: Hook, phase: HookPhase): Promise<HookStatus> {
  const obj = hook.object;
  const status: HookStatus = {
    kind: obj.kind,
    ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
    name: obj.metadata.name,
    phase,
    status: 'Running',
  };
  const { kube } = ctx.deps;
  const deadline = waitDeadline(ctx);
  try {
    const mapping = await kube.mapping(obj.apiVersion, obj.kind);
    if (!mapping) return { ...status, status: 'Failed', message: `the API server does not serve ${obj.kind} in ${obj.apiVersion}` };
    const namespace = obj.metadata.namespace;
    let live = await kube.get(mapping, namespace, obj.metadata.name);
    if (live && hook.deletePolicies.includes('BeforeHookCreation')) {
      await kube.delete(mapping, namespace, obj.metadata.name, 'background');
      if (!(await gone(ctx, mapping, obj, deadline))) return { ...status, message: 'the copy of an earlier sync is still being deleted' };
      live = undefined;
    }
    // Without BeforeHookCreation a named hook runs once (Argo's rule): an existing copy is reused.
    if (!live) {
      try {
        live = await kube.create(mapping, obj);
      } catch (err) {
        if (!isConflict(err)) throw err;
        live = await kube.get(mapping, namespace, obj.metadata.name);
      }
    }
    let delay = 250;
    for (;;) {
      if (!live) return { ...status, status: 'Failed', message: 'deleted before it finished' };
      const health = ctx.deps.health(live);
      if (health.status === 'Healthy') {
        await cleanUp(ctx, hook, mapping, 'HookSucceeded');
        return { ...status, status: 'Succeeded', ...(health.message ? { message: health.message } : {}) };
      }
      if (health.status === 'Degraded') {
        await cleanUp(ctx, hook, mapping, 'HookFailed');
        return { ...status, status: 'Failed', message: health.message ?? 'Degraded' };
      }
      // Left running: the run that waited for it stops (timed out or superseded), the hook goes on.
      if (ctx.deps.clock.now() >= deadline || supersededBy(ctx)) return { ...status, message: health.message ?? `still ${health.status}` };
      await pause(ctx, delay, deadline);
      delay = Math.min(delay * 2, 2000);
      live = await kube.get(mapping, namespace, obj.metadata.name);
    }
  } catch (err) {
    return { ...status, status: 'Failed', message: describeError(toTidemarkError(err)) };
  }
}

async function cleanUp(ctx: StepContext, hook: Hook, mapping: ResourceMapping, policy: 'HookSucceeded' | 'HookFailed'): Promise<void> {
  if (!hook.deletePolicies.includes(policy)) return;
  try {
    // Background: a Job's Pods go with it.
    await ctx.deps.kube.delete(mapping, hook.object.metadata.namespace, hook.object.metadata.name, 'background');
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

async function gone(ctx: StepContext, mapping: ResourceMapping, obj: KubeObject, deadline: number): Promise<boolean> {
  let delay = 100;
  for (;;) {
    if (!(await ctx.deps.kube.get(mapping, obj.metadata.namespace, obj.metadata.name))) return true;
    if (ctx.deps.clock.now() >= deadline || supersededBy(ctx)) return false;
    await pause(ctx, delay, deadline);
    delay = Math.min(delay * 2, 1000);
  }
}
