import type { KubeClient } from '../../shared/kube/client.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { mintToken, waitForBindings } from './helm.ts';
import type { PolicyRule } from './helm.ts';

/** May read ContinuousDeployments: what a viewer of the console needs. */
export const READ_CDS: PolicyRule = { apiGroups: ['tidemark.dev'], resources: ['continuousdeployments'], verbs: ['get', 'list', 'watch'] };

/** A user of the test cluster's token file (`cluster.userToken(name)`), or a ServiceAccount of the namespace. */
export type Grantee = string | { serviceAccount: string };

/**
 * Grants `rules` in `namespace` to one user: a Role and a RoleBinding both named after the user,
 * so one grant per user and namespace. Returns once the API server's authorizer applies it (it
 * learns bindings a moment after the write), so the user's next request is judged by it.
 */
export async function grantRole(kube: KubeClient, namespace: string, user: Grantee, rules: readonly PolicyRule[]): Promise<void> {
  const name = typeof user === 'string' ? `grant-${user}` : `grant-sa-${user.serviceAccount}`;
  const subject =
    typeof user === 'string'
      ? { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }
      : { kind: 'ServiceAccount', name: user.serviceAccount, namespace };
  const rbac = `/apis/rbac.authorization.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}`;
  const role: KubeObject = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace }, rules };
  const binding: KubeObject = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name, namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [subject],
  };
  await kube.rest.request({ method: 'POST', path: `${rbac}/roles`, body: role });
  await kube.rest.request({ method: 'POST', path: `${rbac}/rolebindings`, body: binding });
  await waitForBindings(kube, [role, binding]);
}

/** A ServiceAccount in `namespace` granted `rules` there, and a bound token of it (TokenRequest). */
export async function serviceAccountToken(
  kube: KubeClient,
  namespace: string,
  name: string,
  rules: readonly PolicyRule[],
  expirationSeconds = 3600,
): Promise<string> {
  await kube.rest.request({
    method: 'POST',
    path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts`,
    body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } },
  });
  await grantRole(kube, namespace, { serviceAccount: name }, rules);
  return mintToken(kube, { namespace, name }, expirationSeconds);
}
