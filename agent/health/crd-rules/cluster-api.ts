import type { KubeObject } from '../../../shared/kube/object.ts';
import { conditions, int, list, rec, result, str } from '../fields.ts';
import type { HealthResult } from '../types.ts';

/**
 * Cluster API's Cluster, after Argo CD's resource_customizations/cluster.x-k8s.io/Cluster/health.lua:
 * paused → Suspended; phase Provisioned → Healthy, Failed → Degraded, else Progressing; and a
 * Ready=False condition overrides with Degraded unless its severity is Info — Ready is False with
 * severity Info through the whole normal provisioning window.
 */
export function capiClusterHealth(obj: KubeObject): HealthResult {
  if (rec(obj.spec)?.paused === true) return result('Suspended', 'Cluster is paused');
  const status = rec(obj.status);
  const failing = list(status?.conditions)
    .map(rec)
    .find((c) => c?.type === 'Ready' && c.status === 'False' && c.severity !== 'Info');
  if (failing) return result('Degraded', str(failing.message));
  const phase = str(status?.phase);
  if (phase === 'Provisioned') return result('Healthy', 'Cluster is running');
  if (phase === 'Failed') return result('Degraded');
  return result('Progressing', 'Waiting for clusters');
}

/**
 * Machine, after Argo CD's resource_customizations/cluster.x-k8s.io/Machine/health.lua: phase
 * Running → Healthy, Failed → Degraded, else Progressing; short of Healthy the message is the
 * Ready=False condition's.
 */
export function capiMachineHealth(obj: KubeObject): HealthResult {
  const status = rec(obj.status);
  const phase = str(status?.phase);
  if (phase === 'Running') return result('Healthy', 'Machine is running');
  const notReady = conditions(status).find((c) => c.type === 'Ready' && c.status === 'False');
  return result(phase === 'Failed' ? 'Degraded' : 'Progressing', notReady ? notReady.message : 'Condition is unknown');
}

const MACHINE_DEPLOYMENT_PHASES: Record<string, HealthResult> = {
  Running: { status: 'Healthy', message: 'Machines are running under this deployment' },
  ScalingUp: { status: 'Progressing', message: 'Cluster is spawning machines' },
  ScalingDown: { status: 'Progressing', message: 'Cluster is stopping machines' },
  Failed: { status: 'Degraded', message: 'MachineDeployment is failed' },
};

/** MachineDeployment, after Argo CD's resource_customizations/cluster.x-k8s.io/MachineDeployment/health.lua. */
export function capiMachineDeploymentHealth(obj: KubeObject): HealthResult {
  if (rec(obj.spec)?.paused === true) return result('Suspended', 'MachineDeployment is paused');
  return MACHINE_DEPLOYMENT_PHASES[str(rec(obj.status)?.phase) ?? ''] ?? result('Progressing', 'Waiting for machines');
}

/**
 * MachineHealthCheck, after Argo CD's resource_customizations/cluster.x-k8s.io/MachineHealthCheck/health.lua:
 * every expected machine healthy → Healthy, otherwise Degraded; before the first count, Progressing.
 */
export function capiMachineHealthCheckHealth(obj: KubeObject): HealthResult {
  const status = rec(obj.status);
  const healthy = int(status?.currentHealthy);
  if (healthy === undefined) return result('Progressing');
  return result(int(status?.expectedMachines) === healthy ? 'Healthy' : 'Degraded');
}

/**
 * MachinePool, after Argo CD's resource_customizations/cluster.x-k8s.io/MachinePool/health.lua:
 * phase Running or Scaling → Healthy, Failed or Unknown → Degraded, else Progressing; the
 * message names the phase and every False condition ("MachinePool is Running: Not Ready (…)").
 */
export function capiMachinePoolHealth(obj: KubeObject): HealthResult {
  const status = rec(obj.status);
  const phase = str(status?.phase);
  let health: HealthResult['status'] = 'Progressing';
  if (phase === 'Running' || phase === 'Scaling') health = 'Healthy';
  if (phase === 'Failed' || phase === 'Unknown') health = 'Degraded';
  const notTrue = conditions(status)
    .filter((c) => c.status === 'False')
    .map((c) => `Not ${c.type}${c.reason ? ` (${c.reason})` : ''}`)
    .join(', ');
  const base = phase !== undefined ? `MachinePool is ${phase}` : '';
  return result(health, notTrue !== '' ? `${base}: ${notTrue}` : base);
}

/**
 * ClusterResourceSet, after Argo CD's resource_customizations/addons.cluster.x-k8s.io/ClusterResourceSet/health.lua:
 * the ResourcesApplied condition decides.
 */
export function capiClusterResourceSetHealth(obj: KubeObject): HealthResult {
  const applied = conditions(rec(obj.status)).find((c) => c.type === 'ResourcesApplied' && (c.status === 'True' || c.status === 'False'));
  if (!applied) return result('Progressing', 'Initializing cluster resource set');
  return applied.status === 'True' ? result('Healthy', 'cluster resource set is applied') : result('Degraded', applied.message);
}
