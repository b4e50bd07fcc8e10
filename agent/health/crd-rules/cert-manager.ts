import type { KubeObject } from '../../../shared/kube/object.ts';
import { conditions, rec, result } from '../fields.ts';
import type { HealthResult } from '../types.ts';
import { staleGeneration } from './generation.ts';
import { conditionDecides } from './ready.ts';

/**
 * cert-manager Certificate, after Argo CD's resource_customizations/cert-manager.io/Certificate/health.lua:
 * `Issuing=True` comes first, whatever Ready says — a certificate being renewed or re-issued
 * (Ready may be False while its new Secret is written) is Progressing, not Degraded. Then the
 * Ready condition decides; without one, Progressing "Waiting for certificate".
 */
export function certificateHealth(obj: KubeObject): HealthResult {
  const stale = staleGeneration(obj);
  if (stale) return stale;
  const all = conditions(rec(obj.status));
  const issuing = all.find((c) => c.type === 'Issuing' && c.status === 'True');
  if (issuing) return result('Progressing', issuing.message);
  return conditionDecides(obj, 'Ready', 'Waiting for certificate');
}

/**
 * Issuer and ClusterIssuer, after Argo CD's resource_customizations/cert-manager.io/{Issuer,ClusterIssuer}/health.lua:
 * Ready decides; without it, Progressing while the issuer initialises. Like every rule here, a
 * Ready condition older than the spec is Progressing first (generation.ts).
 */
export function issuerHealth(obj: KubeObject): HealthResult {
  return conditionDecides(obj, 'Ready', obj.kind === 'ClusterIssuer' ? 'Initializing ClusterIssuer' : 'Initializing issuer');
}

/**
 * CertificateRequest (Argo CD has no rule; cert-manager's documented conditions,
 * https://cert-manager.io/docs/usage/certificaterequest/): Ready=True → Healthy; Denied=True,
 * InvalidRequest=True, or Ready=False with reason Failed or Denied → Degraded (cert-manager does
 * not retry those); Ready=False with reason Pending (waiting for approval or the issuer), or no
 * Ready yet → Progressing.
 */
export function certificateRequestHealth(obj: KubeObject): HealthResult {
  const all = conditions(rec(obj.status));
  const final = all.find((c) => (c.type === 'Denied' || c.type === 'InvalidRequest') && c.status === 'True');
  if (final) return result('Degraded', final.message || final.reason);
  const ready = all.find((c) => c.type === 'Ready');
  if (ready?.status === 'True') return result('Healthy', ready.message);
  if (ready?.status === 'False' && (ready.reason === 'Failed' || ready.reason === 'Denied')) {
    return result('Degraded', ready.message || ready.reason);
  }
  return result('Progressing', ready?.message || 'Waiting for the issuer');
}
