import { result } from '../fields.ts';
import type { HealthResult } from '../types.ts';

/**
 * Custom resources that have no status to wait for, by their project's design: configuration
 * read by a controller (monitoring targets, routing rules, pipeline definitions, trigger
 * credentials). Existing is being healthy, as for a ConfigMap; without this they would wait for a
 * status that never comes. Istio writes an optional status (validation messages) on some of
 * them; it never says they are not in effect.
 */
export function noStatusByDesignHealth(): HealthResult {
  return result('Healthy');
}

export const NO_STATUS_KINDS: readonly string[] = [
  'monitoring.coreos.com/ServiceMonitor',
  'monitoring.coreos.com/PodMonitor',
  'monitoring.coreos.com/Probe',
  'monitoring.coreos.com/PrometheusRule',
  'monitoring.coreos.com/AlertmanagerConfig',
  'monitoring.coreos.com/ScrapeConfig',
  'networking.istio.io/VirtualService',
  'networking.istio.io/DestinationRule',
  'networking.istio.io/Gateway',
  'networking.istio.io/ServiceEntry',
  'networking.istio.io/Sidecar',
  'networking.istio.io/EnvoyFilter',
  'networking.istio.io/WorkloadEntry',
  'networking.istio.io/WorkloadGroup',
  'security.istio.io/AuthorizationPolicy',
  'security.istio.io/PeerAuthentication',
  'security.istio.io/RequestAuthentication',
  'telemetry.istio.io/Telemetry',
  'tekton.dev/Pipeline',
  'tekton.dev/Task',
  'tekton.dev/ClusterTask',
  'keda.sh/TriggerAuthentication',
  'keda.sh/ClusterTriggerAuthentication',
];
