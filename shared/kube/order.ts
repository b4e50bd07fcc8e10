import type { KubeObject } from './object.ts';
import { splitApiVersion } from './object.ts';

/**
 * Apply order, after Flux's: cluster-wide foundations first (and waited for), then `*Class`
 * kinds, then everything else in a fixed kind order; webhooks last so they cannot block the
 * objects they would validate. Prune walks the same order backwards.
 */
const KIND_ORDER = [
  'CustomResourceDefinition',
  'Namespace',
  'ClusterRole',
  // *Class kinds are ranked by their own stage.
  'ClusterRoleBinding',
  'ResourceQuota',
  'LimitRange',
  'PriorityClass',
  'ServiceAccount',
  'Role',
  'RoleBinding',
  'Secret',
  'ConfigMap',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'Service',
  'Endpoints',
  'DaemonSet',
  'Pod',
  'ReplicationController',
  'ReplicaSet',
  'Deployment',
  'HorizontalPodAutoscaler',
  'StatefulSet',
  'Job',
  'CronJob',
  'PodDisruptionBudget',
  'Ingress',
  'APIService',
];
const LAST_KINDS = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'];

export type Stage = 'foundation' | 'class' | 'workload';
/** The stages in apply order. */
export const STAGES: readonly Stage[] = ['foundation', 'class', 'workload'];

export function stageOf(obj: Pick<KubeObject, 'kind' | 'apiVersion'>): Stage {
  const { group } = splitApiVersion(obj.apiVersion);
  if (obj.kind === 'CustomResourceDefinition' && group === 'apiextensions.k8s.io') return 'foundation';
  if (obj.kind === 'Namespace' && group === '') return 'foundation';
  if (obj.kind === 'ClusterRole' && group === 'rbac.authorization.k8s.io') return 'foundation';
  if (obj.kind.endsWith('Class')) return 'class';
  return 'workload';
}

function kindRank(kind: string): number {
  const known = KIND_ORDER.indexOf(kind);
  if (known >= 0) return known;
  const last = LAST_KINDS.indexOf(kind);
  if (last >= 0) return KIND_ORDER.length + 1 + last;
  return KIND_ORDER.length; // unknown kinds (custom resources) after the built-ins
}

export function compareForApply(a: KubeObject, b: KubeObject): number {
  return (
    kindRank(a.kind) - kindRank(b.kind) ||
    cmp(a.kind, b.kind) ||
    cmp(a.metadata.namespace ?? '', b.metadata.namespace ?? '') ||
    cmp(a.metadata.name, b.metadata.name)
  );
}

/** Splits objects into the three stages, each sorted for apply. Pure and deterministic. */
export function stageObjects<T extends KubeObject>(objects: readonly T[]): Record<Stage, T[]> {
  const stages: Record<Stage, T[]> = { foundation: [], class: [], workload: [] };
  for (const obj of objects) stages[stageOf(obj)].push(obj);
  for (const list of Object.values(stages)) list.sort(compareForApply);
  return stages;
}

/** The order to delete in: the apply order reversed, so dependents go before what they need. */
export function sortForPrune<T extends Pick<KubeObject, 'kind' | 'apiVersion' | 'metadata'>>(objects: readonly T[]): T[] {
  const rank = (o: T) => (stageOf(o) === 'foundation' ? 0 : stageOf(o) === 'class' ? 1 : 2);
  return [...objects].sort((a, b) => rank(b) - rank(a) || -compareForApply(a, b));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
