/**
 * Health of live objects as pure functions, one per kind, after Argo CD's gitops-engine:
 * `(live object, {now, options}) → {status, message}`, no I/O.
 */
export { assessHealth, isBuiltInGroup, missingHealth } from './assess.ts';
export type { HealthOfObject } from './aggregate.ts';
export { HEALTH_ORDER, healthRank, isWorse, worstHealth } from './aggregate.ts';
export type { AssessContext, CrdFacts, HealthOptions, HealthResult, HealthStatus } from './types.ts';
export { exprHealth, findHealthCheckExpr } from './expressions.ts';
export { DEFAULT_STATUSLESS_GRACE_MS } from './types.ts';
export { apiServiceHealth } from './apiservice.ts';
export { customResourceDefinitionHealth } from './crd.ts';
export { customResourceHealth } from './custom.ts';
export { daemonSetHealth } from './daemonset.ts';
export { deploymentHealth } from './deployment.ts';
export { horizontalPodAutoscalerHealth } from './hpa.ts';
export { cronJobHealth, jobHealth } from './job.ts';
export { namespaceHealth } from './namespace.ts';
export { podDisruptionBudgetHealth } from './pdb.ts';
export { podHealth } from './pod.ts';
export { replicaSetHealth } from './replicaset.ts';
export { ingressHealth, serviceHealth } from './service.ts';
export { statefulSetHealth } from './statefulset.ts';
export { persistentVolumeClaimHealth } from './storage.ts';
