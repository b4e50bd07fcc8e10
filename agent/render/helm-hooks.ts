import type { KubeObject } from '../../shared/kube/object.ts';
import { ArgoAnnotations, type HookDeletePolicy, type HookPhase } from '../argo-sync.ts';

/**
 * Helm's hook annotations, read as Argo CD reads them: `helm template` prints hooks among the other
 * objects, and applying them as ordinary objects would run a Job once as a resource and again as
 * the next release's hook. So each hook becomes the Argo CD hook Argo documents as its equivalent
 * (and runs once per sync, as Tidemark runs Argo hooks), or — when there is none — is skipped and
 * reported. An object that also has Argo's own hook annotation keeps it, as in Argo CD. Pure.
 */
export const HelmAnnotations = {
  hook: 'helm.sh/hook',
  hookWeight: 'helm.sh/hook-weight',
  hookDeletePolicy: 'helm.sh/hook-delete-policy',
} as const;

/** Argo CD's table ("Helm hooks"): what each Helm hook becomes; `undefined` means it has no equivalent. */
const PHASE_OF: Readonly<Record<string, HookPhase | 'resource' | undefined>> = {
  'pre-install': 'PreSync',
  'pre-upgrade': 'PreSync',
  'post-install': 'PostSync',
  'post-upgrade': 'PostSync',
  'post-delete': 'PostDelete',
  // Helm 2's CRD hook: an ordinary object, ordered by the CRD-first stages anyway.
  'crd-install': 'resource',
  'pre-delete': undefined,
  'pre-rollback': undefined,
  'post-rollback': undefined,
  test: undefined,
  'test-success': undefined,
  'test-failure': undefined,
};

const DELETE_POLICY_OF: Readonly<Record<string, HookDeletePolicy>> = {
  'before-hook-creation': 'BeforeHookCreation',
  'hook-succeeded': 'HookSucceeded',
  'hook-failed': 'HookFailed',
};

export interface SkippedHook {
  object: KubeObject;
  hooks: string[];
}

function list(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * The object with its Helm hook annotations rewritten as Argo CD hook annotations, or the Helm
 * hooks it declares when none of them has an equivalent (it is then never applied).
 */
export function mapHelmHook(obj: KubeObject): { object: KubeObject } | { skipped: string[] } {
  const annotations = obj.metadata.annotations ?? {};
  const helmHooks = list(annotations[HelmAnnotations.hook]);
  if (helmHooks.length === 0 || annotations[ArgoAnnotations.hook] !== undefined) return { object: obj };
  const mapped = helmHooks.map((h) => PHASE_OF[h]);
  if (mapped.includes('resource')) return { object: obj };
  // pre-install,pre-upgrade is one PreSync hook: it runs once per sync, never twice.
  const phases = [...new Set(mapped.filter((p): p is HookPhase => p !== undefined && p !== 'resource'))];
  if (phases.length === 0) return { skipped: helmHooks };
  const next: Record<string, string> = { ...annotations, [ArgoAnnotations.hook]: phases.join(',') };
  const weight = annotations[HelmAnnotations.hookWeight];
  if (weight !== undefined && annotations[ArgoAnnotations.syncWave] === undefined) next[ArgoAnnotations.syncWave] = weight.trim();
  const policies = list(annotations[HelmAnnotations.hookDeletePolicy])
    .map((p) => DELETE_POLICY_OF[p])
    .filter((p): p is HookDeletePolicy => p !== undefined);
  if (policies.length > 0 && annotations[ArgoAnnotations.hookDeletePolicy] === undefined) {
    next[ArgoAnnotations.hookDeletePolicy] = [...new Set(policies)].join(',');
  }
  return { object: { ...obj, metadata: { ...obj.metadata, annotations: next } } };
}

/** One line for the Warning Event: which hooks were skipped, and why. */
export function describeSkippedHooks(skipped: readonly SkippedHook[]): string {
  const names = skipped.map(({ object: o, hooks }) => {
    const generated = typeof o.metadata.generateName === 'string' ? o.metadata.generateName : '';
    const name = o.metadata.name || `${generated}*`;
    return `${o.kind} ${name} (${hooks.join(',')})`;
  });
  const shown = names.slice(0, 10).join(', ') + (names.length > 10 ? `, and ${names.length - 10} more` : '');
  const count = `${skipped.length} Helm hook${skipped.length === 1 ? '' : 's'}`;
  return `skipped ${count} with no sync equivalent (test, rollback and pre-delete hooks are never run): ${shown}`;
}
