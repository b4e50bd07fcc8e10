import type { KubeObject } from '../../../shared/kube/object.ts';
import { HEALTH_ORDER } from '../aggregate.ts';
import { conditions, int, list, rec, result, str } from '../fields.ts';
import type { HealthResult, HealthStatus } from '../types.ts';

function isHealthStatus(value: string | undefined): value is HealthStatus {
  return HEALTH_ORDER.some((s) => s === value);
}

/**
 * Argo Workflows, after gitops-engine pkg/health/health_argo.go: Pending/Running (or no phase
 * yet) → Progressing, Succeeded → Healthy, Failed/Error → Degraded, with the workflow's message.
 */
export function workflowHealth(obj: KubeObject): HealthResult {
  const status = rec(obj.status);
  const message = str(status?.message);
  switch (str(status?.phase) ?? '') {
    case '':
    case 'Pending':
    case 'Running':
      return result('Progressing', message);
    case 'Succeeded':
      return result('Healthy', message);
    case 'Failed':
    case 'Error':
      return result('Degraded', message);
    default:
      return result('Unknown', message);
  }
}

/**
 * An Argo CD Application deployed by us reports the health Argo CD computed for it: the opt-in
 * check in Argo CD's docs (docs/operator-manual/health.md, `argoproj.io_Application`). Argo CD
 * itself ships no rule since 1.8 so that an app-of-apps does not wait on its children; here the
 * unit deploying an Application does want to know whether it came up. Until Argo CD has assessed
 * it, Progressing.
 */
export function applicationHealth(obj: KubeObject): HealthResult {
  const health = rec(rec(obj.status)?.health);
  const status = str(health?.status);
  return result(isHealthStatus(status) ? status : 'Progressing', str(health?.message));
}

/** A number, or a numeric string (Rollouts before v0.10 wrote a hash here), as Lua's tonumber reads it. */
function numeric(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Argo Rollouts, after Argo CD's resource_customizations/argoproj.io/Rollout/health.lua: spec not
 * observed yet → Progressing; a phase (Rollouts ≥ 1.0) is surfaced as it is, Paused as
 * Suspended; older rollouts are judged by conditions (InvalidSpec, aborted, past the progress
 * deadline → Degraded), pauses, replica counts and the blue-green or canary state.
 */
export function rolloutHealth(obj: KubeObject): HealthResult {
  const spec = rec(obj.spec);
  const status = rec(obj.status);
  if (!status || !rolloutObserved(obj, status)) return result('Progressing', 'Waiting for rollout spec update to be observed');
  const phase = str(status.phase);
  if (phase !== undefined) {
    const mapped = phase === 'Paused' ? 'Suspended' : phase;
    return result(isHealthStatus(mapped) ? mapped : 'Unknown', str(status.message));
  }
  for (const c of conditions(status)) {
    if (c.type === 'InvalidSpec') return result('Degraded', c.message);
    if (c.type === 'Progressing' && (c.reason === 'RolloutAborted' || c.reason === 'ProgressDeadlineExceeded')) {
      return result('Degraded', c.message);
    }
  }
  if (list(status.pauseConditions).length > 0 || spec?.paused === true) return result('Suspended', 'Rollout is paused');
  const currentPodHash = str(status.currentPodHash);
  if (currentPodHash === undefined) return result('Progressing', 'Waiting for rollout to finish: status has not been reconciled.');
  const desired = int(spec?.replicas) ?? 1;
  const replicas = int(status.replicas) ?? 0;
  const updated = int(status.updatedReplicas) ?? 0;
  if (updated < desired) return result('Progressing', 'Waiting for roll out to finish: More replicas need to be updated');
  if ((int(status.availableReplicas) ?? 0) < updated) {
    return result('Progressing', 'Waiting for roll out to finish: updated replicas are still becoming available');
  }
  // Rollouts v0.8 moved status.canary.stableRS to status.stableRS.
  const stableRS = str(status.stableRS) ?? str(rec(status.canary)?.stableRS) ?? '';
  const strategy = rec(spec?.strategy);
  if (strategy?.blueGreen !== undefined) {
    if (str(rec(status.blueGreen)?.activeSelector) !== currentPodHash) return result('Progressing', 'active service cutover pending');
    if (stableRS !== '' && stableRS !== currentPodHash) return result('Progressing', 'waiting for analysis to complete');
  } else if (strategy?.canary !== undefined) {
    if (replicas > updated) return result('Progressing', 'Waiting for roll out to finish: old replicas are pending termination');
    if (stableRS === '' || stableRS !== currentPodHash) return result('Progressing', 'Waiting for rollout to finish steps');
  }
  return result('Healthy');
}

/**
 * Rollouts ≥ 0.10 write a numeric observedGeneration; older ones a hash, which counts as
 * observed. Rollouts ≥ 1.1 with a workloadRef also record which generation of the referenced
 * workload they have seen.
 */
function rolloutObserved(obj: KubeObject, status: Record<string, unknown>): boolean {
  const generation = obj.metadata.generation ?? 0;
  const observed = numeric(status.observedGeneration);
  if (observed !== undefined && observed < generation) return false;
  if (rec(obj.spec)?.workloadRef === undefined || obj.metadata.annotations === undefined) return true;
  return numeric(obj.metadata.annotations['rollout.argoproj.io/workload-generation']) === numeric(status.workloadObservedGeneration);
}

const ANALYSIS_PHASES: Record<string, [HealthStatus, string]> = {
  Pending: ['Progressing', 'Analysis run is running'],
  Running: ['Progressing', 'Analysis run is running'],
  Successful: ['Healthy', 'Analysis run completed successfully'],
  Failed: ['Degraded', 'Analysis run failed'],
  Error: ['Degraded', 'Analysis run had an error'],
  Inconclusive: ['Unknown', 'Analysis run was inconclusive'],
};

/**
 * AnalysisRun, after Argo CD's resource_customizations/argoproj.io/AnalysisRun/health.lua. The
 * run's own message wins once it has finished; while it runs, a fixed one.
 */
export function analysisRunHealth(obj: KubeObject): HealthResult {
  const status = rec(obj.status);
  const phase = ANALYSIS_PHASES[str(status?.phase) ?? ''];
  if (!status || !phase) return result('Progressing', 'Waiting for analysis run to finish: status has not been reconciled.');
  const [health, fallback] = phase;
  return result(health, health === 'Progressing' ? fallback : str(status.message) || fallback);
}

const EXPERIMENT_PHASES: Record<string, [HealthStatus, string]> = {
  Pending: ['Progressing', 'Experiment is pending'],
  Running: ['Progressing', 'Experiment is running'],
  Successful: ['Healthy', 'Experiment is successful'],
  Failed: ['Degraded', 'Experiment has failed'],
  Error: ['Degraded', 'Experiment had an error'],
};

/** Experiment, after Argo CD's resource_customizations/argoproj.io/Experiment/health.lua. */
export function experimentHealth(obj: KubeObject): HealthResult {
  const phase = EXPERIMENT_PHASES[str(rec(obj.status)?.phase) ?? ''];
  if (!phase) return result('Progressing', 'Waiting for experiment to finish: status has not been reconciled.');
  return result(...phase);
}

/**
 * ApplicationSet, after Argo CD's resource_customizations/argoproj.io/ApplicationSet/health.lua:
 * ErrorOccurred=True, then ResourcesUpToDate=False → Degraded; a progressive sync under way
 * (RolloutProgressing=True) → Progressing; ResourcesUpToDate=True → Healthy.
 */
export function applicationSetHealth(obj: KubeObject): HealthResult {
  const all = conditions(rec(obj.status));
  const find = (type: string, status: string) => all.find((c) => c.type === type && c.status === status);
  const failed = find('ErrorOccurred', 'True') ?? find('ResourcesUpToDate', 'False');
  if (failed) return result('Degraded', failed.message);
  const rolling = find('RolloutProgressing', 'True');
  if (rolling) return result('Progressing', rolling.message);
  const upToDate = find('ResourcesUpToDate', 'True');
  if (upToDate) return result('Healthy', upToDate.message);
  return result('Progressing', 'Waiting for the status to be reported');
}

/**
 * CronWorkflow, after Argo CD's resource_customizations/argoproj.io/CronWorkflow/health.lua: the
 * first of SpecError, SubmissionError (→ Degraded) or Completed (→ Healthy) that is True decides;
 * a schedule with none of them is Healthy.
 */
export function cronWorkflowHealth(obj: KubeObject): HealthResult {
  for (const c of conditions(rec(obj.status))) {
    if (c.status !== 'True') continue;
    if (c.type === 'SpecError' || c.type === 'SubmissionError') return result('Degraded', c.message);
    if (c.type === 'Completed') return result('Healthy', c.message);
  }
  return result('Healthy', 'CronWorkflow is healthy.');
}
