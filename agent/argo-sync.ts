import { terminal } from '../shared/errors/index.ts';
import type { KubeObject } from '../shared/kube/object.ts';

/**
 * Argo CD's per-object sync annotations, read as Argo reads them, so repositories written for
 * Argo CD (KubeSphere's continuous deployments run on it) sync the same way here. Pure.
 */
export const ArgoAnnotations = {
  syncWave: 'argocd.argoproj.io/sync-wave',
  hook: 'argocd.argoproj.io/hook',
  hookDeletePolicy: 'argocd.argoproj.io/hook-delete-policy',
  syncOptions: 'argocd.argoproj.io/sync-options',
} as const;

export const HOOK_PHASES = ['PreSync', 'Sync', 'PostSync', 'SyncFail', 'PostDelete'] as const;
export type HookPhase = (typeof HOOK_PHASES)[number];

export const HOOK_DELETE_POLICIES = ['HookSucceeded', 'HookFailed', 'BeforeHookCreation'] as const;
export type HookDeletePolicy = (typeof HOOK_DELETE_POLICIES)[number];

export interface Hook {
  object: KubeObject;
  phases: HookPhase[];
  deletePolicies: HookDeletePolicy[];
  wave: number;
}

/** `Prune=false,Replace=true`: the options Tidemark acts on; the others (ServerSideApply=true) are accepted. */
export interface ObjectSyncOptions {
  prune: boolean;
  replace: boolean;
  skipDryRunOnMissingResource: boolean;
}

function describe(obj: KubeObject): string {
  const generated = typeof obj.metadata.generateName === 'string' ? `${obj.metadata.generateName}*` : '';
  const name = obj.metadata.name || generated;
  return `${obj.kind} ${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ''}${name}`;
}

/** The object's wave: an integer, 0 without the annotation, negative allowed. Anything else is an error in Git. */
export function syncWaveOf(obj: KubeObject): number {
  const raw = obj.metadata.annotations?.[ArgoAnnotations.syncWave];
  if (raw === undefined || raw.trim() === '') return 0;
  // Argo reads it with strconv.Atoi; a wave that does not parse is refused rather than silently 0.
  if (!/^[+-]?\d+$/.test(raw.trim()) || !Number.isSafeInteger(Number(raw.trim()))) {
    throw terminal(
      'InvalidSyncAnnotation',
      `${describe(obj)} has ${ArgoAnnotations.syncWave}: ${JSON.stringify(raw)}, not an integer`,
      'set the sync wave to an integer such as "-1", "0" or "5"',
    );
  }
  return Number(raw.trim());
}

function list(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/**
 * The hook an object declares: undefined for an ordinary object, `'skip'` for `hook: Skip` (never
 * applied, as in Argo). Without a delete policy Argo assumes BeforeHookCreation; so do we.
 */
export function hookOf(obj: KubeObject): Hook | 'skip' | undefined {
  const annotations = obj.metadata.annotations ?? {};
  const raw = annotations[ArgoAnnotations.hook];
  if (raw === undefined) return undefined;
  const values = list(raw);
  if (values.includes('Skip')) return 'skip';
  const unknown = values.filter((v) => !(HOOK_PHASES as readonly string[]).includes(v));
  if (values.length === 0 || unknown.length > 0) {
    throw terminal(
      'InvalidSyncAnnotation',
      `${describe(obj)} has ${ArgoAnnotations.hook}: ${JSON.stringify(raw)}`,
      `use one or more of ${HOOK_PHASES.join(', ')} (or Skip), separated by commas`,
    );
  }
  const policies = list(annotations[ArgoAnnotations.hookDeletePolicy]);
  const badPolicy = policies.filter((p) => !(HOOK_DELETE_POLICIES as readonly string[]).includes(p));
  if (badPolicy.length > 0) {
    throw terminal(
      'InvalidSyncAnnotation',
      `${describe(obj)} has ${ArgoAnnotations.hookDeletePolicy}: ${JSON.stringify(annotations[ArgoAnnotations.hookDeletePolicy])}`,
      `use one or more of ${HOOK_DELETE_POLICIES.join(', ')}, separated by commas`,
    );
  }
  return {
    object: obj,
    phases: [...new Set(values)] as HookPhase[],
    deletePolicies: policies.length > 0 ? ([...new Set(policies)] as HookDeletePolicy[]) : ['BeforeHookCreation'],
    wave: syncWaveOf(obj),
  };
}

export function syncOptionsOf(obj: Pick<KubeObject, 'metadata'>): ObjectSyncOptions {
  const options = new Set(list(obj.metadata.annotations?.[ArgoAnnotations.syncOptions]));
  return {
    prune: !options.has('Prune=false'),
    replace: options.has('Replace=true'),
    skipDryRunOnMissingResource: options.has('SkipDryRunOnMissingResource=true'),
  };
}

/** The rendered objects split: what is synced and tracked, and the hooks run around it. `hook: Skip` objects are dropped. */
export function splitHooks(objects: readonly KubeObject[]): { resources: KubeObject[]; hooks: Hook[] } {
  const resources: KubeObject[] = [];
  const hooks: Hook[] = [];
  for (const obj of objects) {
    const hook = hookOf(obj);
    if (hook === undefined) resources.push(obj);
    else if (hook !== 'skip') hooks.push(hook);
  }
  return { resources, hooks };
}

/** Items grouped by wave, lowest first; one group when nothing is annotated. */
export function byWave<T>(items: readonly T[], waveOf: (item: T) => number): Array<{ wave: number; items: T[] }> {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const wave = waveOf(item);
    const group = groups.get(wave);
    if (group) group.push(item);
    else groups.set(wave, [item]);
  }
  return [...groups.entries()].sort(([a], [b]) => a - b).map(([wave, grouped]) => ({ wave, items: grouped }));
}

/**
 * A name for a hook that has only `generateName`, as gitops-engine makes one: the prefix, the
 * commit, the phase and the sync's start. The same sync names it the same way, so a retried
 * look finds the Job it created; the next sync makes a fresh one. Kept within 63 characters
 * (a Job's name becomes a label value).
 */
export function nameHooks(objects: readonly KubeObject[], sha: string, startedAtMs: number): KubeObject[] {
  const used = new Set<string>();
  return objects.map((obj) => {
    const { name, generateName } = obj.metadata;
    if (name || typeof generateName !== 'string' || generateName === '' || obj.metadata.annotations?.[ArgoAnnotations.hook] === undefined)
      return obj;
    const hook = hookOf(obj);
    const phase = hook && hook !== 'skip' ? (hook.phases[0] ?? 'Sync') : 'Sync';
    const suffix = `${sha.slice(0, 7)}-${phase.toLowerCase()}-${Math.floor(startedAtMs / 1000)}`.toLowerCase();
    let candidate = `${generateName.slice(0, Math.max(1, 63 - suffix.length))}${suffix}`;
    // Two hooks with one prefix and phase in one sync: the second gets a counter.
    for (let n = 2; used.has(`${obj.kind}/${candidate}`); n++) {
      candidate = `${generateName.slice(0, Math.max(1, 63 - suffix.length - 3))}${suffix}-${n}`;
    }
    used.add(`${obj.kind}/${candidate}`);
    const metadata: KubeObject['metadata'] = { ...obj.metadata, name: candidate };
    delete metadata.generateName;
    return { ...obj, metadata };
  });
}
