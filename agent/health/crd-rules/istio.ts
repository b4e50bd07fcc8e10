import type { KubeObject } from '../../../shared/kube/object.ts';
import { rec, result } from '../fields.ts';
import type { HealthResult, HealthStatus } from '../types.ts';

/** IstioOperator's `status.status`, written as the enum's number or its name. */
const STATES: [number, string, HealthStatus, string][] = [
  [0, 'NONE', 'Unknown', 'Component is not present.'],
  [1, 'UPDATING', 'Progressing', 'Component is being updated to a different version.'],
  [2, 'RECONCILING', 'Progressing', 'Controller has started but not yet completed reconciliation loop for the component.'],
  [3, 'HEALTHY', 'Healthy', 'Component is healthy.'],
  [4, 'ERROR', 'Degraded', 'Component is in an error state.'],
];

/** IstioOperator, after Argo CD's resource_customizations/install.istio.io/IstioOperator/health.lua. */
export function istioOperatorHealth(obj: KubeObject): HealthResult {
  const state = rec(obj.status)?.status;
  const match = STATES.find(([n, name]) => state === n || state === name);
  if (!match) return result('Progressing', 'Waiting for Istio Control Plane');
  return result(match[2], match[3]);
}
