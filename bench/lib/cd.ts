import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import { Annotations } from '../../shared/api/constants.ts';
import { isNotFound } from '../../shared/kube/errors.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { applyCd, cdPath } from '../../test/harness/tidemark.ts';
import { waitFor } from '../../test/harness/process.ts';
import type { BenchEnv } from './env.ts';
import { CollectionWatch } from './watch.ts';
import { Resources } from '../../shared/api/resources.ts';

export type CdObject = ContinuousDeployment & KubeObject;

/** Watches every ContinuousDeployment of the agent's namespace. */
export function watchCds(env: BenchEnv, namespace: string): CollectionWatch<CdObject> {
  return new CollectionWatch<CdObject>(env.kube.port, Resources.ContinuousDeployment, { namespace });
}

export function isSyncedAt(cd: CdObject | undefined, revision: string): boolean {
  return cd?.status?.sync?.status === 'Synced' && cd.status.lastAppliedRevision === revision;
}

export function describeCd(cd: CdObject | undefined): string {
  if (!cd) return 'not found';
  const ready = cd.status?.conditions?.find((c) => c.type === 'Ready');
  return (
    `sync=${cd.status?.sync?.status} applied=${cd.status?.lastAppliedRevision} ` +
    `ready=${ready?.status}/${ready?.reason}: ${ready?.message?.slice(0, 300)}`
  );
}

export interface CdSpecInput {
  name: string;
  namespace: string;
  url: string;
  secretRef: string;
  path: string;
  targetNamespace: string;
  pullInterval: string;
  extra?: Record<string, unknown>;
}

/**
 * Creates a ContinuousDeployment. Its deletion policy is `orphan`: deleting it between runs
 * must not cost a thousand DELETEs; the bench deletes the target namespace instead.
 */
export async function createCd(env: BenchEnv, input: CdSpecInput): Promise<void> {
  await applyCd(env.kube, {
    metadata: { name: input.name, namespace: input.namespace, annotations: { [Annotations.deletionPolicy]: 'orphan' } },
    spec: {
      repoType: 'git',
      url: input.url,
      secretRef: input.secretRef,
      pullInterval: input.pullInterval,
      git: { branch: 'main' },
      path: input.path,
      targetNamespace: input.targetNamespace,
      ...input.extra,
    },
  });
}

/** Deletes a ContinuousDeployment and waits until the agent has released its finalizer. */
export async function deleteCd(env: BenchEnv, namespace: string, name: string, timeoutMs = 120_000): Promise<void> {
  try {
    await env.kube.rest.request({ method: 'DELETE', path: cdPath(namespace, name) });
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
  await waitFor(
    async () => {
      try {
        await env.kube.rest.request({ method: 'GET', path: cdPath(namespace, name) });
        return false;
      } catch (err) {
        if (isNotFound(err)) return true;
        throw err;
      }
    },
    { what: `ContinuousDeployment ${namespace}/${name} deleted`, timeoutMs, intervalMs: 200 },
  );
}
