import type { ContinuousDeployment } from '../shared/api/continuous-deployment.ts';
import { terminal } from '../shared/errors/index.ts';
import type { ServiceAccountIdentity } from '../shared/kube/impersonation.ts';
import { objectNameProblem } from '../shared/spec/names.ts';

/**
 * Who a ContinuousDeployment acts as on the agent's own cluster. The flags come from main; the
 * decision is this pure function, so every caller (sync, plan, deletion) takes the same one.
 */
export interface TenancyOptions {
  /** Flux's `--default-service-account`: deployments that name none act as this one of their namespace. */
  defaultServiceAccount?: string | undefined;
  /** Namespaces whose deployments that name no ServiceAccount still act as the agent (a platform team's). */
  agentIdentityNamespaces?: readonly string[] | undefined;
  /** `--no-cross-namespace-refs`: spec.dependsOn may not name another namespace. */
  noCrossNamespaceRefs?: boolean | undefined;
}

/**
 * `spec.serviceAccountName` first; then the agent itself for a namespace allowed to use it; then
 * the default ServiceAccount when one is set; otherwise the agent (no lockdown). The name is read
 * from the raw spec as well as the checked one, so a deployment whose spec no longer parses is
 * still deleted as its ServiceAccount, never with the agent's wider rights.
 */
export function deploymentIdentity(cd: ContinuousDeployment, options: TenancyOptions): ServiceAccountIdentity | undefined {
  const namespace = cd.metadata.namespace ?? 'default';
  const named: unknown = cd.spec?.serviceAccountName;
  if (named !== undefined && named !== null && named !== '') {
    const problem = typeof named === 'string' ? objectNameProblem(named) : 'must be a string';
    if (problem) {
      throw terminal('InvalidSpec', `spec.serviceAccountName: ${problem}`, 'name a ServiceAccount of this namespace');
    }
    return { namespace, name: named as string };
  }
  if (options.agentIdentityNamespaces?.includes(namespace)) return undefined;
  if (options.defaultServiceAccount) return { namespace, name: options.defaultServiceAccount };
  return undefined;
}
