import type { ResourceMapping, RestMapper } from './discovery.ts';
import { resourcePath } from './discovery.ts';
import { isNotFound } from './errors.ts';
import type { KubeObject } from './object.ts';
import { isObject, joinApiVersion } from './object.ts';
import type { KubePort } from './port.ts';
import { propagationName } from './port.ts';
import type { KubeRest } from './rest.ts';

/** The Kubernetes port over our own REST client (ADR 0001) and discovery. */
export function createRestPort(rest: KubeRest, mapper: RestMapper, options: { fieldManager: string }): KubePort {
  const path = (resource: ResourceMapping, namespace: string | undefined, name?: string) => resourcePath(resource, namespace, name);
  return {
    mapping: (apiVersion, kind) => mapper.find(apiVersion, kind),
    forgetMappings: () => mapper.reset(),
    async get(resource, namespace, name) {
      try {
        return await rest.request<KubeObject>({ method: 'GET', path: path(resource, namespace, name) });
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async list(resource, opts = {}) {
      const list = await rest.request<{ metadata?: { resourceVersion?: string; continue?: string }; items?: KubeObject[] }>({
        method: 'GET',
        path: path(resource, opts.namespace),
        query: { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector, limit: opts.limit, continue: opts.continue },
      });
      // List items carry no apiVersion/kind (only the list does); stamp them so a listed copy
      // reads the same as a watched one.
      const apiVersion = joinApiVersion(resource.group, resource.version);
      const items = (list.items ?? []).map((o) => ({ ...o, apiVersion, kind: resource.kind }));
      const next = list.metadata?.continue;
      return { items, resourceVersion: list.metadata?.resourceVersion ?? '', ...(next ? { continue: next } : {}) };
    },
    watch: (resource, opts, onEvent, signal) =>
      rest.watch(
        path(resource, opts.namespace),
        {
          resourceVersion: opts.resourceVersion,
          timeoutSeconds: 300,
          labelSelector: opts.labelSelector,
          fieldSelector: opts.fieldSelector,
        },
        (event) => onEvent(event as Parameters<typeof onEvent>[0]),
        signal,
      ),
    apply: (resource, obj, opts = {}) =>
      rest.request<KubeObject>({
        method: 'PATCH',
        path: path(resource, obj.metadata.namespace, obj.metadata.name),
        query: {
          fieldManager: options.fieldManager,
          force: true,
          dryRun: opts.dryRun ? 'All' : undefined,
          fieldValidation: opts.skipSchemaValidation ? 'Ignore' : undefined,
        },
        contentType: 'application/apply-patch+yaml',
        body: obj,
      }),
    create: (resource, obj, opts = {}) =>
      rest.request<KubeObject>({
        method: 'POST',
        path: path(resource, obj.metadata.namespace),
        query: { fieldManager: options.fieldManager, dryRun: opts.dryRun ? 'All' : undefined },
        body: obj,
      }),
    replace: (resource, obj) =>
      rest.request<KubeObject>({
        method: 'PUT',
        path: path(resource, obj.metadata.namespace, obj.metadata.name),
        query: { fieldManager: options.fieldManager },
        body: obj,
      }),
    async delete(resource, namespace, name, propagation, preconditions) {
      await rest.request({
        method: 'DELETE',
        path: path(resource, namespace, name),
        body: {
          kind: 'DeleteOptions',
          apiVersion: 'v1',
          propagationPolicy: propagationName(propagation),
          ...(preconditions ? { preconditions } : {}),
        },
      });
    },
    patchStatus: (resource, namespace, name, status) =>
      rest.request<KubeObject>({
        method: 'PATCH',
        path: `${path(resource, namespace, name)}/status`,
        contentType: 'application/merge-patch+json',
        body: { status },
      }),
    patchMetadata: (resource, namespace, name, patch) =>
      rest.request<KubeObject>({
        method: 'PATCH',
        path: path(resource, namespace, name),
        contentType: 'application/merge-patch+json',
        body: { metadata: withoutUndefined(patch) },
      }),
    async canI(attributes) {
      const review = await rest.request<{ status?: { allowed?: boolean; reason?: string } }>({
        method: 'POST',
        path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: {
            resourceAttributes: {
              verb: attributes.verb,
              group: attributes.resource.group,
              version: attributes.resource.version,
              resource: attributes.resource.plural,
              ...(attributes.namespace === undefined ? {} : { namespace: attributes.namespace }),
              ...(attributes.name === undefined ? {} : { name: attributes.name }),
            },
          },
        },
      });
      return { allowed: review.status?.allowed === true, reason: review.status?.reason };
    },
  };
}

function withoutUndefined(value: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && !(isObject(v) && Object.keys(v).length === 0)));
}
