import type { DeploymentConfig } from '../../shared/spec/index.ts';
import { ArgoAnnotations, nameHooks } from '../argo-sync.ts';
import type { Hook } from '../argo-sync.ts';
import type { Checkout, ResolvedRevision } from '../types.ts';
import type { ReconcileDeps, ReconcileInput } from './context.ts';
import { stepContext } from './context.ts';
import { fetchRevision, renderRevision } from './fetch.ts';
import { runHooks, type HookRun } from './hooks.ts';
import { planObjects } from './plan.ts';
import { postRender, readDecryptionKeys, sourceScan } from './post-build.ts';

/**
 * The config that renders the revision last applied: its commit pinned when the status names one
 * (`main@sha1:<sha>`), so a deletion runs the hooks of what is deployed, not of what Git holds now.
 */
export function lastAppliedConfig(config: DeploymentConfig, lastAppliedRevision: string | undefined): DeploymentConfig {
  const sha = /sha1:([0-9a-f]{40})$/.exec(lastAppliedRevision ?? '')?.[1];
  return sha ? { ...config, ref: { kind: 'commit', value: sha } } : config;
}

/**
 * Argo CD's PostDelete hooks (2.10+): once a deleted deployment's objects are gone, the hooks of
 * its last applied revision are created and waited for, with their delete policies, like the
 * hooks of a sync. The render is the sync's (decryption and substitution included). A hook with
 * only generateName is named from the deletion's time, so a retried deletion finds the Job it
 * created instead of starting another. Nothing rendered is applied but the PostDelete hooks.
 */
export async function runPostDeleteHooks(input: ReconcileInput, deps: ReconcileDeps, deletedAtMs: number): Promise<HookRun> {
  const ctx = stepContext({ ...input, config: lastAppliedConfig(input.config, input.cd.status?.lastAppliedRevision) }, deps);
  const fetched = await fetchRevision(ctx);
  let decryption: Awaited<ReturnType<typeof readDecryptionKeys>>;
  try {
    decryption = await readDecryptionKeys(ctx);
  } catch (err) {
    fetched.checkout?.release();
    throw err;
  }
  const verify = decryption ? sourceScan(decryption, deps.signal) : undefined;
  const rendered = fetched.rendered ?? (await renderRevision(ctx, fetched.resolved, fetched.checkout as Checkout, verify));
  const post = await postRender(ctx, rendered, decryption);
  const resolved: ResolvedRevision = fetched.resolved;
  const desired = await planObjects(ctx, nameHooks(post.objects, resolved.sha, deletedAtMs));
  return runHooks(ctx, desired.hooks.map(postDeletePolicies), 'PostDelete');
}

/**
 * Delete policies of a PostDelete hook. Argo CD deletes one without a policy once it has run (no
 * Job outlives the deleted application), so does this. A retried deletion always replaces a copy
 * an earlier try left (BeforeHookCreation): a failed hook stays for its logs until then, and a
 * fixed one in Git is what runs next (Argo deletes a failed one at once for the same reason).
 */
export function postDeletePolicies(hook: Hook): Hook {
  if (!hook.phases.includes('PostDelete')) return hook;
  const annotated = hook.object.metadata.annotations?.[ArgoAnnotations.hookDeletePolicy] !== undefined;
  const policies = new Set(annotated ? hook.deletePolicies : ['HookSucceeded' as const]);
  policies.add('BeforeHookCreation');
  return { ...hook, deletePolicies: [...policies] };
}
