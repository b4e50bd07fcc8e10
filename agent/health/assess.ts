import type { KubeObject } from '../../shared/kube/object.ts';
import { splitApiVersion } from '../../shared/kube/object.ts';
import { apiServiceHealth } from './apiservice.ts';
import { crdRuleFor } from './crd-rules/index.ts';
import { customResourceDefinitionHealth } from './crd.ts';
import { customResourceHealth } from './custom.ts';
import { daemonSetHealth } from './daemonset.ts';
import { exprHealth, findHealthCheckExpr } from './expressions.ts';
import { deploymentHealth } from './deployment.ts';
import { horizontalPodAutoscalerHealth } from './hpa.ts';
import { cronJobHealth, jobHealth } from './job.ts';
import { namespaceHealth } from './namespace.ts';
import { podDisruptionBudgetHealth } from './pdb.ts';
import { podHealth } from './pod.ts';
import { replicaSetHealth } from './replicaset.ts';
import { statefulSetHealth } from './statefulset.ts';
import { ingressHealth, serviceHealth } from './service.ts';
import { persistentVolumeClaimHealth } from './storage.ts';
import type { AssessContext, HealthResult } from './types.ts';

type Rule = (obj: KubeObject, ctx: AssessContext) => HealthResult;

/** Rules keyed by `group/kind`, every group version alike (a v1beta1 Ingress reads as a v1 one). */
const RULES: Record<string, Rule> = {
  'apps/Deployment': deploymentHealth,
  'apps/StatefulSet': statefulSetHealth,
  'apps/DaemonSet': daemonSetHealth,
  'apps/ReplicaSet': replicaSetHealth,
  'extensions/Deployment': deploymentHealth,
  'extensions/DaemonSet': daemonSetHealth,
  'extensions/ReplicaSet': replicaSetHealth,
  'extensions/Ingress': (o, c) => ingressHealth(o, c.options),
  'networking.k8s.io/Ingress': (o, c) => ingressHealth(o, c.options),
  '/Pod': podHealth,
  '/Service': (o, c) => serviceHealth(o, c.options),
  '/PersistentVolumeClaim': persistentVolumeClaimHealth,
  '/Namespace': namespaceHealth,
  'batch/Job': jobHealth,
  'batch/CronJob': cronJobHealth,
  'autoscaling/HorizontalPodAutoscaler': horizontalPodAutoscalerHealth,
  'apiregistration.k8s.io/APIService': apiServiceHealth,
  'apiextensions.k8s.io/CustomResourceDefinition': customResourceDefinitionHealth,
  'policy/PodDisruptionBudget': podDisruptionBudgetHealth,
};

/**
 * API groups served by Kubernetes itself. Their kinds without a rule above (ConfigMap, Secret,
 * ServiceAccount, RBAC, ...) have no status to wait for: existing is being healthy. Any other
 * group belongs to a custom resource: read by its project's rule (crd-rules/) where there is one,
 * else the kstatus way.
 */
const BUILT_IN_GROUPS = new Set([
  '',
  'apps',
  'batch',
  'autoscaling',
  'policy',
  'extensions',
  'admissionregistration.k8s.io',
  'apiextensions.k8s.io',
  'apiregistration.k8s.io',
  'authentication.k8s.io',
  'authorization.k8s.io',
  'certificates.k8s.io',
  'coordination.k8s.io',
  'discovery.k8s.io',
  'events.k8s.io',
  'flowcontrol.apiserver.k8s.io',
  'internal.apiserver.k8s.io',
  'networking.k8s.io',
  'node.k8s.io',
  'rbac.authorization.k8s.io',
  'resource.k8s.io',
  'scheduling.k8s.io',
  'storage.k8s.io',
  'storagemigration.k8s.io',
]);

/**
 * The health of one live object. Anything being deleted is Progressing first (Argo CD): its
 * status describes an object on its way out. Then the user's CEL expressions for the object's
 * kind (spec.healthCheckExprs), which take precedence over any rule here, then the rules.
 *
 * Flux's CEL reader does not look at deletion; we do, because a user's `current` reading the
 * last status of an object held by finalizers would otherwise call it Healthy as it goes away.
 */
export function assessHealth(obj: KubeObject, ctx: AssessContext): HealthResult {
  if (obj.metadata.deletionTimestamp) return { status: 'Progressing', message: 'Pending deletion' };
  const check = ctx.exprs && ctx.exprs.length > 0 ? findHealthCheckExpr(obj, ctx.exprs) : undefined;
  if (check) return exprHealth(obj, check);
  const { group } = splitApiVersion(obj.apiVersion);
  const rule = RULES[`${group}/${obj.kind}`];
  if (rule) return rule(obj, ctx);
  if (BUILT_IN_GROUPS.has(group)) return { status: 'Healthy' };
  const crdRule = crdRuleFor(obj, group);
  if (crdRule) return crdRule(obj, ctx);
  return customResourceHealth(obj, ctx);
}

/** Whether a group is served by Kubernetes itself; any other group's objects are custom resources. */
export function isBuiltInGroup(group: string): boolean {
  return BUILT_IN_GROUPS.has(group);
}

/** For an object that Git declares and the cluster does not have. */
export function missingHealth(): HealthResult {
  return { status: 'Missing', message: 'not found in the cluster' };
}
