import type { KubeObject } from '../../../shared/kube/object.ts';
import { conditions, rec, result } from '../fields.ts';
import type { HealthResult } from '../types.ts';

/**
 * Knative Serving's Service, after Argo CD's resource_customizations/serving.knative.dev/Service/health.lua:
 * Healthy when ConfigurationsReady, RoutesReady and Ready are all True and nothing is False or
 * Unknown; any condition False → Degraded; otherwise Progressing. The message lists every
 * condition that is not True, one per line, as Argo CD writes it.
 */
export function knativeServiceHealth(obj: KubeObject): HealthResult {
  const status = rec(obj.status);
  if (!status || status.conditions === undefined) return result('Progressing', 'Waiting for status update.');
  const all = conditions(status);
  const wanted = new Set(['ConfigurationsReady', 'RoutesReady', 'Ready']);
  const ready = all.filter((c) => c.status === 'True' && wanted.has(c.type)).length;
  const pending = all.filter((c) => c.status === 'False' || c.status === 'Unknown');
  if (ready === 3 && pending.length === 0) return result('Healthy', 'Knative Service is healthy.');
  const message = pending
    .map((c) => `${c.type} is ${c.status}${c.reason ? `, since ${c.reason}.` : ''}${c.message ? ` ${c.message}` : ''}\n`)
    .join('');
  return result(pending.some((c) => c.status === 'False') ? 'Degraded' : 'Progressing', message);
}

/**
 * The Knative Operator's KnativeServing and KnativeEventing, after Argo CD's
 * resource_customizations/operator.knative.dev/<Kind>/health.lua: any of Ready or
 * DeploymentsAvailable False, or any condition Unknown → Progressing (the operator is still
 * installing); all required conditions True → Healthy; otherwise Degraded. The message lists the
 * conditions ("1: Ready | True"), as Argo CD writes it.
 */
export function knativeOperatorHealth(obj: KubeObject): HealthResult {
  const status = rec(obj.status);
  if (!status || status.conditions === undefined) return result('Progressing', `Waiting for ${obj.kind}`);
  const serving = obj.kind === 'KnativeServing';
  const required = new Set(
    serving ? ['Ready', 'InstallSucceeded', 'DependenciesInstalled', 'DeploymentsAvailable'] : ['Ready', 'InstallSucceeded'],
  );
  const all = conditions(status);
  let done = 0;
  let waiting = 0;
  for (const c of all) {
    if (c.status === 'True' && required.has(c.type)) done++;
    else if (c.status === 'Unknown' || (c.status === 'False' && (c.type === 'Ready' || (serving && c.type === 'DeploymentsAvailable'))))
      waiting++;
  }
  const message = all.map((c, i) => `${i + 1}: ${c.type} | ${c.status}\n`).join('');
  if (waiting > 0) return result('Progressing', message);
  if (done === required.size) return result('Healthy', `${obj.kind} is healthy.`);
  return result('Degraded', message);
}
