import type { KubeObject } from '../../../shared/kube/object.ts';
import { conditions, rec, result, str } from '../fields.ts';
import type { HealthResult } from '../types.ts';
import { staleGeneration } from './generation.ts';

/**
 * Flux objects, after Argo CD's resource_customizations/{source,helm,kustomize,image,notification}.toolkit.fluxcd.io/<Kind>/health.lua.
 * `spec.suspend` → Suspended. A spec the controller has not observed yet → Progressing
 * (generation.ts; Argo's scripts skip this). No conditions yet → Progressing. `Ready=Unknown`
 * → Progressing. Healthy needs `Ready=True` plus, for sources, an artifact in storage and, for
 * a HelmRelease, a release or passed test. Everything else is Degraded: a failing object keeps
 * `Reconciling=True` while it retries (reason ProgressingWithRetry), and that is a failure to
 * report, not progress.
 *
 * Departures from the Lua scripts, in cases their fixtures do not cover: conditions are read by
 * type rather than counted (Argo's HelmRelease with Ready, Released and TestSuccess all True
 * counts three successes and reads Degraded); `Ready=Unknown` is Progressing even without a
 * Reconciling condition (kustomize-controller writes it alone while it waits for a dependency;
 * Argo reads that Degraded); a Receiver still reconciling is Progressing like every other Flux
 * kind. And the message: Argo's is the Ready reason alone ("GitOperationFailed"); ours goes on
 * with the condition's text after a colon, which is what says why.
 */
function fluxHealth(obj: KubeObject, healthyAlso: readonly string[] = [], progressReasons?: ReadonlySet<string>): HealthResult {
  if (rec(obj.spec)?.suspend === true) return result('Suspended', `${obj.kind} is suspended`);
  const stale = staleGeneration(obj);
  if (stale) return stale;
  const all = conditions(rec(obj.status));
  if (all.length === 0) return result('Progressing', 'Status unknown');
  const isTrue = (type: string) => all.some((c) => c.type === type && c.status === 'True');
  const ready = all.find((c) => c.type === 'Ready');
  const reconciling = all.find((c) => c.type === 'Reconciling' && c.status === 'True');
  const outdated = all.find((c) => c.type === 'ArtifactOutdated' && c.status === 'True');
  const reason = [ready?.reason, outdated?.reason].filter((r) => r).join(' ');
  const message = ready?.message ? `${reason}: ${ready.message}` : reason;
  // While progressing, the Reconciling condition says what is being done ("Detecting drift for revision ...").
  if (ready?.status === 'Unknown') return result('Progressing', reconciling?.message ? `${reason}: ${reconciling.message}` : message);
  // The image controllers keep Ready=False while they first scan or apply a policy.
  if (reconciling && ready?.status === 'False' && progressReasons?.has(reconciling.reason)) return result('Progressing', message);
  if (ready?.status === 'True' && (healthyAlso.length === 0 || healthyAlso.some(isTrue))) return result('Healthy', message);
  return result('Degraded', message || 'Not ready');
}

/** GitRepository, OCIRepository, Bucket, HelmChart: Ready and an artifact in storage. */
export function fluxSourceHealth(obj: KubeObject): HealthResult {
  return fluxHealth(obj, ['ArtifactInStorage']);
}

/** A HelmRepository of type `oci` has no status at all by design (Flux docs): nothing to wait for. */
export function fluxHelmRepositoryHealth(obj: KubeObject): HealthResult {
  if (rec(obj.spec)?.suspend !== true && str(rec(obj.spec)?.type) === 'oci') {
    return result('Healthy', "Helm repositories of type 'oci' do not contain any information in the status.");
  }
  return fluxSourceHealth(obj);
}

export function fluxHelmReleaseHealth(obj: KubeObject): HealthResult {
  return fluxHealth(obj, ['Released', 'TestSuccess']);
}

/** Kustomization, ImageUpdateAutomation, Receiver and other Ready-only kinds. */
export function fluxReadyHealth(obj: KubeObject): HealthResult {
  return fluxHealth(obj);
}

export function fluxImagePolicyHealth(obj: KubeObject): HealthResult {
  return fluxHealth(obj, [], new Set(['NewGeneration', 'AccessingRepository', 'ApplyingPolicy']));
}

export function fluxImageRepositoryHealth(obj: KubeObject): HealthResult {
  return fluxHealth(obj, [], new Set(['NewGeneration', 'Scanning']));
}
