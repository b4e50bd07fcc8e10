import { terminal } from '../errors/index.ts';
import { namespaceProblem, objectNameProblem } from '../spec/names.ts';

/** A ServiceAccount the agent acts as: the API server's RBAC then decides what a request may do. */
export interface ServiceAccountIdentity {
  namespace: string;
  name: string;
}

/**
 * The user name the API server gives a ServiceAccount, for the `Impersonate-User` header. Only
 * the user is sent, never `Impersonate-Group`: Kubernetes (1.20's impersonation filter, as today)
 * adds `system:serviceaccounts`, `system:serviceaccounts:<namespace>` and `system:authenticated`
 * itself when a ServiceAccount is impersonated without groups — which is also all Flux's
 * kustomize-controller sends. Both parts are checked first (DNS-1123), so no header can carry a
 * value a spec author typed: a ':' or a line break would name another user or split the header.
 */
export function serviceAccountUser(identity: ServiceAccountIdentity): string {
  const problem = namespaceProblem(identity.namespace) ?? objectNameProblem(identity.name);
  if (problem) {
    throw terminal('InvalidSpec', `cannot act as ServiceAccount ${JSON.stringify(`${identity.namespace}/${identity.name}`)}: ${problem}`);
  }
  return `system:serviceaccount:${identity.namespace}:${identity.name}`;
}

/** `namespace/name`, as messages name the identity. */
export function describeIdentity(identity: ServiceAccountIdentity | undefined): string {
  return identity ? `ServiceAccount ${identity.namespace}/${identity.name}` : "the agent's own identity";
}
