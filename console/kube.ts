import type { ContinuousDeployment } from '../shared/api/continuous-deployment.ts';
import { API_VERSION, Kinds } from '../shared/api/constants.ts';
import type { KubeClient } from '../shared/kube/client.ts';
import type { ResourceMapping } from '../shared/kube/discovery.ts';
import { resourcePath } from '../shared/kube/discovery.ts';
import { isNotFound } from '../shared/kube/errors.ts';
import type { KubeObject } from '../shared/kube/object.ts';
import type { KubePort } from '../shared/kube/port.ts';
import { RepositoryLabel } from './repositories.ts';
import type { CdEvent } from './view.ts';
import { eventOf } from './view.ts';

export const CD_RESOURCE: ResourceMapping = {
  group: 'tidemark.dev',
  version: API_VERSION.split('/')[1] ?? 'v1alpha1',
  kind: Kinds.ContinuousDeployment.kind,
  plural: Kinds.ContinuousDeployment.plural,
  namespaced: true,
};

/** Edits made in the console are the user's, under this manager (not the agent's `tidemark`). */
export const CONSOLE_FIELD_MANAGER = 'tidemark-console';

/**
 * What the console asks of Kubernetes, always with the user's own credentials: the API server's
 * RBAC decides, and its refusal is passed on to the page as it is.
 */
export interface ConsoleKube {
  /** The one list-and-watch of ContinuousDeployments, and the access review that scopes it. */
  port: Pick<KubePort, 'list' | 'watch' | 'canI'>;
  getCd(namespace: string, name: string): Promise<ContinuousDeployment | undefined>;
  /** A JSON merge patch of the ContinuousDeployment. */
  patchCd(namespace: string, name: string, patch: Record<string, unknown>): Promise<void>;
  deleteCd(namespace: string, name: string): Promise<void>;
  /** Creates a ContinuousDeployment; `dryRun` stores nothing (the API server's checks only). */
  createCd(obj: KubeObject, dryRun: boolean): Promise<void>;
  /** An update (PUT) of the whole object, conditional on its resourceVersion; `dryRun` stores nothing. */
  replaceCd(obj: KubeObject, dryRun: boolean): Promise<void>;
  /** The code repositories' Secrets (by their label), in one namespace or all. */
  listRepositories(namespace: string | undefined): Promise<KubeObject[]>;
  /** The objects of one of our image kinds (by plural), in one namespace or all. */
  listTidemark(plural: string, namespace: string | undefined): Promise<KubeObject[]>;
  /** Creates a Secret; `dryRun` stores nothing. */
  createSecret(obj: KubeObject, dryRun: boolean): Promise<void>;
  /** The Events about one ContinuousDeployment. */
  events(namespace: string, name: string): Promise<CdEvent[]>;
  /**
   * A Secret's decoded data and version (Revert reads the deployment's Git credentials with the
   * user's rights; the values stay on the server); undefined when it does not exist.
   */
  readSecret?(namespace: string, name: string): Promise<{ data: Record<string, string>; resourceVersion: string } | undefined>;
  /** The user's name as the API server knows it (SelfSubjectReview), when it can say. */
  whoAmI?(): Promise<string | undefined>;
}

/**
 * `bearerToken`: in-cluster, the user's token, whose claims name the user where the API server
 * is too old to answer a SelfSubjectReview (it accepted the token, so its claims are its issuer's).
 */
export function consoleKube(client: KubeClient, options: { bearerToken?: string | undefined } = {}): ConsoleKube {
  const path = (namespace: string, name: string) => resourcePath(CD_RESOURCE, namespace, name);
  return {
    port: client.port,
    async getCd(namespace, name) {
      try {
        return await client.rest.request<ContinuousDeployment>({ method: 'GET', path: path(namespace, name) });
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async patchCd(namespace, name, patch) {
      await client.rest.request({ method: 'PATCH', path: path(namespace, name), contentType: 'application/merge-patch+json', body: patch });
    },
    async deleteCd(namespace, name) {
      await client.rest.request({ method: 'DELETE', path: path(namespace, name) });
    },
    async createCd(obj, dryRun) {
      await client.rest.request({
        method: 'POST',
        path: resourcePath(CD_RESOURCE, obj.metadata.namespace ?? ''),
        query: { fieldManager: CONSOLE_FIELD_MANAGER, dryRun: dryRun ? 'All' : undefined },
        body: obj,
      });
    },
    async replaceCd(obj, dryRun) {
      await client.rest.request({
        method: 'PUT',
        path: path(obj.metadata.namespace ?? '', obj.metadata.name),
        query: { fieldManager: CONSOLE_FIELD_MANAGER, dryRun: dryRun ? 'All' : undefined },
        body: obj,
      });
    },
    async listRepositories(namespace) {
      const list = await client.rest.request<{ items?: KubeObject[] }>({
        method: 'GET',
        path: namespace === undefined ? '/api/v1/secrets' : `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`,
        query: { labelSelector: `${RepositoryLabel}=true` },
      });
      return list.items ?? [];
    },
    async listTidemark(plural, namespace) {
      const base = `/apis/${CD_RESOURCE.group}/${CD_RESOURCE.version}`;
      const path = namespace === undefined ? `${base}/${plural}` : `${base}/namespaces/${encodeURIComponent(namespace)}/${plural}`;
      return (await client.rest.request<{ items?: KubeObject[] }>({ method: 'GET', path })).items ?? [];
    },
    async createSecret(obj, dryRun) {
      await client.rest.request({
        method: 'POST',
        path: `/api/v1/namespaces/${encodeURIComponent(obj.metadata.namespace ?? '')}/secrets`,
        query: { fieldManager: CONSOLE_FIELD_MANAGER, dryRun: dryRun ? 'All' : undefined },
        body: obj,
      });
    },
    async events(namespace, name) {
      const list = await client.rest.request<{ items?: Array<Parameters<typeof eventOf>[0]> }>({
        method: 'GET',
        path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`,
        query: { fieldSelector: `involvedObject.kind=${Kinds.ContinuousDeployment.kind},involvedObject.name=${name}` },
      });
      return (list.items ?? []).map(eventOf);
    },
    async readSecret(namespace, name) {
      try {
        const secret = await client.rest.request<{ data?: Record<string, unknown>; metadata?: { resourceVersion?: string } }>({
          method: 'GET',
          path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`,
        });
        const data: Record<string, string> = {};
        for (const [key, value] of Object.entries(secret.data ?? {})) {
          if (typeof value === 'string') data[key] = Buffer.from(value, 'base64').toString('utf8');
        }
        return { data, resourceVersion: secret.metadata?.resourceVersion ?? '' };
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async whoAmI() {
      for (const version of ['v1', 'v1beta1', 'v1alpha1']) {
        try {
          const review = await client.rest.request<{ status?: { userInfo?: { username?: string } } }>({
            method: 'POST',
            path: `/apis/authentication.k8s.io/${version}/selfsubjectreviews`,
            body: { apiVersion: `authentication.k8s.io/${version}`, kind: 'SelfSubjectReview' },
          });
          if (review.status?.userInfo?.username) return review.status.userInfo.username;
        } catch (err) {
          if (!isNotFound(err)) break;
        }
      }
      return options.bearerToken === undefined ? undefined : tokenSubject(options.bearerToken);
    },
  };
}

/** The user a JWT bearer token names (a ServiceAccount's `sub`, an OIDC email or name); undefined for other tokens. */
export function tokenSubject(token: string): string | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined || token.split('.').length !== 3) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    for (const claim of ['email', 'preferred_username', 'sub']) {
      const value = claims[claim];
      if (typeof value === 'string' && value !== '') return value;
    }
  } catch {
    // Not a JWT: a static or opaque token names nobody.
  }
  return undefined;
}
