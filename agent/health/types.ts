import type { HealthStatus } from '../../shared/api/continuous-deployment.ts';

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

export interface AssessContext {
  /** Epoch milliseconds; injected so rules that depend on time stay pure. */
  now: number;
  options?: HealthOptions | undefined;
}

export const DEFAULT_STATUSLESS_GRACE_MS = 30_000;
