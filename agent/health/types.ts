import type { HealthStatus } from '../../shared/api/continuous-deployment.ts';
import type { HealthCheckExpr } from '../../shared/spec/index.ts';

export type { HealthStatus } from '../../shared/api/continuous-deployment.ts';

/** What every rule returns: one of the six statuses and, when there is something to say, why. */
export interface HealthResult {
  status: HealthStatus;
  message?: string;
}

/** Cluster-specific leniencies: without them, clusters lacking a controller never report Healthy. */
export interface HealthOptions {
  /** An Ingress is Progressing until its controller publishes an address. Default true (Argo CD). */
  ingressRequiresAddress?: boolean;
  /** A LoadBalancer Service is Progressing until it has an ingress point. Default true (Argo CD). */
  loadBalancerRequiresIngress?: boolean;
  /**
   * How long a custom resource without any status counts as Progressing after its creation,
   * giving its controller time to write one. Default 30 s.
   */
  statuslessGraceMs?: number;
}

/** What a custom resource's CRD says about the object's version, read by the assessor (I/O) and handed in. */
export interface CrdFacts {
  /** The version declares a status subresource: a controller is expected to write status. */
  statusSubresource: boolean;
}

export interface AssessContext {
  /** Epoch milliseconds; injected so rules that depend on time stay pure. */
  now: number;
  options?: HealthOptions | undefined;
  /** The deployment's spec.healthCheckExprs: for the kinds they cover they replace the built-in rules. */
  exprs?: readonly HealthCheckExpr[] | undefined;
  /** The object's CRD, when it is a custom resource and the assessor could read the CRD. */
  crd?: CrdFacts | undefined;
}

export const DEFAULT_STATUSLESS_GRACE_MS = 30_000;
