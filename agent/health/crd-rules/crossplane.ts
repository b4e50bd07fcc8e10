import type { KubeObject } from '../../../shared/kube/object.ts';
import { conditions, rec, result } from '../fields.ts';
import type { Condition } from '../fields.ts';
import type { HealthResult } from '../types.ts';

const PROVISIONING = result('Progressing', 'Provisioning ...');

/** Kinds that have no status by design: existing is being healthy. */
const NO_STATUS_CROSSPLANE = new Set([
  'Composition',
  'CompositionRevision',
  'DeploymentRuntimeConfig',
  'ClusterProviderConfig',
  'ProviderConfig',
  'ProviderConfigUsage',
  'ControllerConfig',
]);
const NO_STATUS_UPBOUND = new Set(['ClusterProviderConfig', 'ProviderConfig', 'ProviderConfigUsage']);

/** Condition types whose True means "working" in Crossplane's own groups (packages, compositions, XRDs). */
const HEALTHY_CROSSPLANE = new Set(['Ready', 'Healthy', 'Offered', 'Established', 'ValidPipeline', 'RevisionHealthy']);
const HEALTHY_READY = new Set(['Ready']);

/**
 * Crossplane, after Argo CD's resource_customizations/_.crossplane.io/_/health.lua and
 * _.upbound.io/_/health.lua (themselves from Crossplane's "Crossplane with Argo CD" guide).
 * Synced=False (the provider could not reconcile) or LastAsyncOperation=False → Degraded;
 * a healthy-type condition True → Healthy "Resource is up-to-date."; otherwise — Ready=False
 * while the external resource is being created included — Progressing "Provisioning ...".
 *
 * One departure: in the Lua script an object with no status at all is Healthy whatever its
 * kind (the no-status list only applies to an empty status, by operator precedence). A managed
 * resource or composite the provider has not touched yet is not healthy; only the kinds that
 * have no status by design are.
 */
function crossplane(obj: KubeObject, noStatus: ReadonlySet<string>, healthyTypes: ReadonlySet<string>): HealthResult {
  const status = rec(obj.status);
  if ((!status || Object.keys(status).length === 0) && noStatus.has(obj.kind)) return result('Healthy', 'Resource is up-to-date.');
  if (!status || status.conditions === undefined) {
    const providerConfig = obj.kind === 'ProviderConfig' || obj.kind === 'ClusterProviderConfig';
    if (providerConfig && status?.users !== undefined) return result('Healthy', 'Resource is in use.');
    return PROVISIONING;
  }
  const all = conditions(status);
  const failed = all.find((c) => (c.type === 'LastAsyncOperation' || c.type === 'Synced') && c.status === 'False');
  if (failed) return result('Degraded', failed.message);
  if (all.some((c) => healthyTypes.has(c.type) && c.status === 'True')) return result('Healthy', 'Resource is up-to-date.');
  return PROVISIONING;
}

/** Every kind of every `*.crossplane.io` group without a rule of its own. */
export function crossplaneHealth(obj: KubeObject): HealthResult {
  return crossplane(obj, NO_STATUS_CROSSPLANE, HEALTHY_CROSSPLANE);
}

/** Every kind of every `*.upbound.io` group (the Upbound providers' managed resources). */
export function upboundHealth(obj: KubeObject): HealthResult {
  return crossplane(obj, NO_STATUS_UPBOUND, HEALTHY_READY);
}

/**
 * Composite resources and claims live in groups the platform team chooses, so they are found by
 * their shape (isCrossplaneComposite) and read like managed resources: Synced=False →
 * Degraded, Ready=True → Healthy, else Progressing.
 */
export function crossplaneCompositeHealth(obj: KubeObject): HealthResult {
  return crossplane(obj, new Set(), HEALTHY_READY);
}

/**
 * A Crossplane composite resource or claim: Crossplane sets a composition reference or selector
 * in its spec (v1: `spec.compositionRef`/`compositionSelector`, claims also
 * `compositeDeletePolicy`; v2: everything under `spec.crossplane`).
 */
export function isCrossplaneComposite(obj: KubeObject): boolean {
  const spec = rec(obj.spec);
  if (!spec) return false;
  if (rec(spec.crossplane) !== undefined) return true;
  return ['compositionRef', 'compositionSelector', 'compositionRevisionRef', 'compositeDeletePolicy'].some(
    (k) => rec(spec[k]) !== undefined || typeof spec[k] === 'string',
  );
}

/**
 * pkg.crossplane.io Provider, after Argo CD's resource_customizations/pkg.crossplane.io/Provider/health.lua:
 * Installed and Healthy both True → Healthy, with their reasons as the message. Argo reads
 * anything else as Degraded; here a condition still Unknown (the package revision is starting,
 * reason UnknownPackageRevisionHealth) is Progressing, or every provider install would flash
 * Degraded.
 */
export function crossplaneProviderHealth(obj: KubeObject): HealthResult {
  const all = conditions(rec(obj.status));
  if (all.length === 0) return result('Progressing', 'Waiting for provider to be installed');
  const installed = all.find((c) => c.type === 'Installed');
  const healthy = all.find((c) => c.type === 'Healthy');
  const message = [installed, healthy]
    .filter((c): c is Condition => c !== undefined)
    .map((c) => c.reason)
    .join(' ');
  if (installed?.status === 'True' && healthy?.status === 'True') return result('Healthy', message);
  if (installed?.status !== 'False' && healthy?.status !== 'False')
    return result('Progressing', message || 'Waiting for provider to be installed');
  return result('Degraded', message);
}
