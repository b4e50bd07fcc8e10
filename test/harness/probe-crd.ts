import type { KubeClient } from '../../shared/kube/client.ts';
import { waitFor } from './process.ts';
import { getObject } from './tidemark.ts';

/**
 * A custom resource kind that only one test file writes: the API server's request counter has no
 * namespace label, so a private resource is how a file counts its own writes exactly on a cluster
 * other files share.
 */
export function probeCrd(group: string, plural: string, kind: string) {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase() },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: { spec: { type: 'object', properties: { value: { type: 'string' } } } },
            },
          },
        },
      ],
    },
  };
}

/** Applies the probe CRD and waits until the API server serves it. */
export async function installProbeCrd(kube: KubeClient, crd: ReturnType<typeof probeCrd>): Promise<void> {
  const path = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`;
  await kube.rest.request({
    method: 'PATCH',
    path,
    query: { fieldManager: 'tidemark-test', force: true },
    contentType: 'application/apply-patch+yaml',
    body: crd,
  });
  await waitFor(
    async () => {
      const live = await getObject(kube, path);
      const conditions = (live?.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions ?? [];
      return conditions.some((c) => c.type === 'Established' && c.status === 'True');
    },
    { timeoutMs: 60_000, what: 'probe CRD established' },
  );
}
