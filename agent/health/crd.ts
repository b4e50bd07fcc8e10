import type { KubeObject } from '../../shared/kube/object.ts';
import { conditions, rec, result } from './fields.ts';
import type { HealthResult } from './types.ts';

/**
 * Argo CD's rule (resource_customizations/apiextensions.k8s.io/CustomResourceDefinition/health.lua):
 * the conditions in order — Terminating=True → Progressing; NamesAccepted=False or
 * NonStructuralSchema=True → Degraded; Established=False with reason Installing (every CRD for a
 * moment after creation) → Progressing. Established=True → Healthy, and not established for any
 * other reason → Degraded.
 */
export function customResourceDefinitionHealth(obj: KubeObject): HealthResult {
  const all = conditions(rec(obj.status));
  if (all.length === 0) return result('Progressing', 'Status conditions not found');
  let established = false;
  for (const c of all) {
    if (c.type === 'Terminating' && c.status === 'True') return result('Progressing', `CRD is terminating: ${c.message}`);
    if (c.type === 'NamesAccepted' && c.status === 'False') return result('Degraded', `CRD names have not been accepted: ${c.message}`);
    if (c.type === 'NonStructuralSchema' && c.status === 'True') return result('Degraded', `Schema violations found: ${c.message}`);
    if (c.type === 'Established') {
      if (c.status === 'True') established = true;
      else if (c.reason === 'Installing') return result('Progressing', 'CRD is being installed');
    }
  }
  return established ? result('Healthy', 'CRD is healthy') : result('Degraded', 'CRD is not established');
}
