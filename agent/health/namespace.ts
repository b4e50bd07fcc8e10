import type { KubeObject } from '../../shared/kube/object.ts';
import { rec, result, str } from './fields.ts';
import type { HealthResult } from './types.ts';

export function namespaceHealth(obj: KubeObject): HealthResult {
  const phase = str(rec(obj.status)?.phase);
  if (phase === 'Terminating') return result('Progressing', 'Namespace is terminating');
  return result('Healthy');
}
