import type { KubeObject } from '../../shared/kube/object.ts';
import { conditions, rec, result } from './fields.ts';
import type { HealthResult } from './types.ts';

/**
 * Established=True → Healthy; names refused or a non-structural schema → Degraded. Unlike Argo
 * CD, "not established yet" (reason Installing, for a moment after creation) is Progressing,
 * not Degraded: every CRD passes through it.
 */
export function customResourceDefinitionHealth(obj: KubeObject): HealthResult {
  const all = conditions(rec(obj.status));
  if (all.length === 0) return result('Progressing', 'Status conditions not found');
  const find = (type: string) => all.find((c) => c.type === type);
  const terminating = find('Terminating');
  if (terminating?.status === 'True') return result('Progressing', `CRD is being terminated: ${terminating.message}`);
  const names = find('NamesAccepted');
  if (names?.status === 'False') return result('Degraded', `CRD names have not been accepted: ${names.message}`);
  const nonStructural = find('NonStructuralSchema');
  if (nonStructural?.status === 'True') return result('Degraded', `Schema violations found: ${nonStructural.message}`);
  const established = find('Established');
  if (established?.status !== 'True')
    return result('Progressing', `CRD is not established yet${established?.message ? `: ${established.message}` : ''}`);
  return result('Healthy', 'CRD is established');
}
