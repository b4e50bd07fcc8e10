import type { KubeObject } from '../../../shared/kube/object.ts';
import { conditions, rec, result } from '../fields.ts';
import type { HealthResult } from '../types.ts';
import { staleGeneration } from './generation.ts';
import { conditionDecides } from './ready.ts';

/**
 * ExternalSecret, SecretStore, ClusterSecretStore and PushSecret, after Argo CD's
 * resource_customizations/external-secrets.io/<Kind>/health.lua: Ready decides, else
 * "Waiting for <Kind>".
 */
export function externalSecretsHealth(obj: KubeObject): HealthResult {
  return conditionDecides(obj, 'Ready', `Waiting for ${obj.kind}`);
}

/**
 * ClusterExternalSecret, after Argo CD's resource_customizations/external-secrets.io/ClusterExternalSecret/health.lua:
 * the controller appends each new state to the end of the list, so the last condition decides —
 * Ready → Healthy, PartiallyReady or NotReady → Degraded.
 */
export function clusterExternalSecretHealth(obj: KubeObject): HealthResult {
  const stale = staleGeneration(obj);
  if (stale) return stale;
  const last = conditions(rec(obj.status)).at(-1);
  if (last?.status === 'True') {
    if (last.type === 'Ready') return result('Healthy', last.message);
    if (last.type === 'PartiallyReady' || last.type === 'NotReady') return result('Degraded', last.message);
  }
  return result('Progressing', 'Waiting for ClusterExternalSecret');
}

/**
 * Bitnami SealedSecret, after Argo CD's resource_customizations/bitnami.com/SealedSecret/health.lua:
 * the Synced condition decides (False: the controller could not decrypt it).
 */
export function sealedSecretHealth(obj: KubeObject): HealthResult {
  return conditionDecides(obj, 'Synced', 'Waiting for Sealed Secret to be decrypted');
}
