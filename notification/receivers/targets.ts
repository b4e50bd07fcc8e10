import { Annotations } from '../../shared/api/constants.ts';
import { isRegistryReceiverType, type ReceiverType } from '../../shared/api/receiver.ts';
import { Resources } from '../../shared/api/resources.ts';
import { isNotFound } from '../../shared/kube/errors.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import type { KubePort } from '../../shared/kube/port.ts';
import type { ReceiverTarget } from '../../shared/spec/receiver.ts';
import { imageMatches, type PushedRepository } from './registry-events.ts';

export type TargetPort = Pick<KubePort, 'get' | 'list' | 'patchMetadata'>;

/** An object a call asks to reconcile. */
export interface TargetRef {
  kind: ReceiverTarget['kind'];
  namespace: string;
  name: string;
}

/**
 * The objects `targets` select now: a name is one object (none when it is gone), `*` every object
 * of the kind in the namespace that matchLabels selects.
 */
export async function listTargets(kube: Pick<KubePort, 'get' | 'list'>, targets: readonly ReceiverTarget[]): Promise<KubeObject[]> {
  const found = new Map<string, KubeObject>();
  for (const target of targets) {
    const resource = Resources[target.kind];
    const objects =
      target.name === '*'
        ? (await kube.list(resource, { namespace: target.namespace, labelSelector: labelSelector(target.matchLabels) })).items
        : [await kube.get(resource, target.namespace, target.name)].filter((o): o is KubeObject => o !== undefined);
    for (const obj of objects) found.set(`${target.kind}/${target.namespace}/${obj.metadata.name}`, { ...obj, kind: target.kind });
  }
  return [...found.values()];
}

/**
 * Which selected objects a call asks for. A Git or generic call asks for all of them; a
 * registry's call only for ImageRepositories (and ContinuousDeployments' inline image blocks) of a
 * pushed repository, so a push of another image triggers nothing.
 */
export function chooseTargets(type: ReceiverType, objects: readonly KubeObject[], pushed: readonly PushedRepository[]): TargetRef[] {
  const chosen = isRegistryReceiverType(type) ? objects.filter((obj) => pushed.some((repo) => watches(obj, repo))) : objects;
  return chosen.map((obj) => ({ kind: obj.kind as TargetRef['kind'], namespace: obj.metadata.namespace ?? '', name: obj.metadata.name }));
}

function watches(obj: KubeObject, repo: PushedRepository): boolean {
  const spec = obj.spec as { image?: unknown; imageRepository?: { image?: unknown } } | undefined;
  const image = obj.kind === 'ImageRepository' ? spec?.image : spec?.imageRepository?.image;
  return typeof image === 'string' && imageMatches(image, repo);
}

/**
 * Asks each target to reconcile now with a new `tidemark.dev/requestedAt`, the annotation the
 * agent and the image updater honour. A target deleted meanwhile is skipped.
 */
export async function requestReconcile(
  kube: Pick<KubePort, 'patchMetadata'>,
  targets: readonly TargetRef[],
  stamp: string,
  /** `receiver/<namespace>/<name>`: the agent's sync history calls the sync a webhook. */
  requestedBy: string,
): Promise<number> {
  let requested = 0;
  for (const target of targets) {
    try {
      await kube.patchMetadata(Resources[target.kind], target.namespace, target.name, {
        annotations: { [Annotations.requestedAt]: stamp, [Annotations.requestedBy]: requestedBy },
      });
      requested++;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  return requested;
}

function labelSelector(labels: Record<string, string>): string | undefined {
  const entries = Object.entries(labels);
  return entries.length === 0 ? undefined : entries.map(([key, value]) => `${key}=${value}`).join(',');
}
