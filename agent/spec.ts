import type { ContinuousDeployment, PropagationPolicy } from '../shared/api/continuous-deployment.ts';
import { terminal } from '../shared/errors/index.ts';
import { parseDuration } from '../shared/time/duration.ts';
import { compileSyncWindow } from './sync-windows.ts';
import type { CompiledWindow } from './sync-windows.ts';

export type RefKind = 'branch' | 'tag' | 'semver' | 'commit';

/** A ContinuousDeployment spec with defaults applied and every value checked. */
export interface DeploymentConfig {
  url: string;
  secretRef: string | undefined;
  intervalMs: number;
  timeoutMs: number;
  ref: { kind: RefKind; value: string };
  path: string;
  prune: boolean;
  suspend: boolean;
  force: boolean;
  targetNamespace: string | undefined;
  kubeConfig: { name: string; key: string } | undefined;
  policy: {
    manual: boolean;
    selfHeal: boolean;
    skipSchemaValidation: boolean;
    createNamespace: boolean;
    pruneLast: boolean;
    applyOutOfSyncOnly: boolean;
    replace: boolean;
    allowEmpty: boolean;
    propagation: PropagationPolicy;
    /** Parsed and checked: a bad schedule, time zone or duration is a spec error (InvalidSyncWindow). */
    windows: CompiledWindow[];
  };
}

const DEFAULT_INTERVAL_MS = 5 * 60_000;
const MIN_INTERVAL_MS = 1000;

/**
 * Reads a spec. The CRD schema already defaults and checks most fields; this repeats the checks
 * that matter for safety, because the API server may not have applied our schema (an older CRD,
 * or objects created before it was installed).
 */
export function readSpec(cd: ContinuousDeployment): DeploymentConfig {
  const spec = cd.spec ?? ({} as ContinuousDeployment['spec']);
  if (spec.repoType !== undefined && spec.repoType !== 'git') {
    throw invalid(`repoType ${JSON.stringify(spec.repoType)} is not supported`, 'set repoType: git');
  }
  if (typeof spec.url !== 'string' || spec.url.trim() === '') throw invalid('url is required', 'set spec.url to the Git repository');
  if (spec.url.startsWith('-')) throw invalid('url must not start with "-"');
  const intervalMs = spec.pullInterval ? parseDuration(spec.pullInterval) : DEFAULT_INTERVAL_MS;
  if (intervalMs < MIN_INTERVAL_MS) throw invalid(`pullInterval ${spec.pullInterval} is shorter than 1s`);
  const sync = spec.syncPolicy ?? {};
  const propagation = sync.prunePropagationPolicy ?? 'background';
  if (!['foreground', 'background', 'orphan'].includes(propagation)) {
    throw invalid(`prunePropagationPolicy ${JSON.stringify(propagation)} is not one of foreground, background, orphan`);
  }
  if (sync.windows !== undefined && !Array.isArray(sync.windows)) throw invalid('syncPolicy.windows must be a list');
  const windows = (sync.windows ?? []).map(compileSyncWindow);
  return {
    url: spec.url.trim(),
    secretRef: spec.secretRef || undefined,
    intervalMs,
    timeoutMs: spec.timeout ? parseDuration(spec.timeout) : Math.min(Math.max(intervalMs, 30_000), 5 * 60_000),
    ref: readRef(spec.git),
    path: spec.path || './',
    prune: spec.prune ?? true,
    suspend: spec.suspend ?? false,
    force: spec.force ?? false,
    targetNamespace: spec.targetNamespace || undefined,
    kubeConfig: spec.kubeConfig?.secretRef?.name
      ? { name: spec.kubeConfig.secretRef.name, key: spec.kubeConfig.secretRef.key || 'value' }
      : undefined,
    policy: {
      manual: sync.manual ?? false,
      selfHeal: sync.selfHeal ?? true,
      skipSchemaValidation: sync.skipSchemaValidation ?? false,
      createNamespace: sync.createNamespace ?? false,
      pruneLast: sync.pruneLast ?? false,
      applyOutOfSyncOnly: sync.applyOutOfSyncOnly ?? false,
      replace: sync.replace ?? false,
      allowEmpty: sync.allowEmpty ?? false,
      propagation,
      windows,
    },
  };
}

function readRef(git: ContinuousDeployment['spec']['git']): DeploymentConfig['ref'] {
  const set = (['commit', 'tag', 'semver', 'branch'] as const).filter((k) => git?.[k]);
  if (set.length > 1) throw invalid(`git has ${set.join(' and ')}; set only one`);
  const kind = set[0] ?? 'branch';
  const value = (git?.[kind] as string | undefined) ?? 'main';
  if (value.startsWith('-')) throw invalid(`git.${kind} must not start with "-"`);
  return { kind, value };
}

function invalid(message: string, hint?: string) {
  return terminal('InvalidSpec', message, hint);
}
