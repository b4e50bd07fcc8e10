import { Resources } from '../shared/api/resources.ts';
import { Controller } from '../shared/controller/runner.ts';
import { keyOf, namespaceOf } from '../shared/controller/objects.ts';
import type { KubeObject } from '../shared/kube/object.ts';
import type { KubePort } from '../shared/kube/port.ts';
import type { Logger } from '../shared/log/index.ts';
import type { Clock } from '../shared/time/clock.ts';

/**
 * The image updater records each push in its ImageUpdateAutomation's `status.lastPushCommit`; the
 * agent watches those and runs the ContinuousDeployment named by `spec.sourceRef` at once, with a
 * fresh Git lookup. So the image updater needs no write access to ContinuousDeployments: a
 * compromised updater cannot change what the agent applies, only push to Git as its bot.
 */
export interface ImagePushDeps {
  kube: Pick<KubePort, 'list' | 'watch'>;
  clock: Clock;
  log: Logger;
  namespace?: string | undefined;
  /** Runs `namespace/name` now, looking at Git again. */
  onPush(namespace: string, name: string): void;
}

const lastPush = (obj: KubeObject): string | undefined => {
  const commit = (obj.status as { lastPushCommit?: unknown } | undefined)?.lastPushCommit;
  return typeof commit === 'string' && commit !== '' ? commit : undefined;
};

const sourceName = (obj: KubeObject): string | undefined => {
  const ref = (obj.spec as { sourceRef?: { name?: unknown } } | undefined)?.sourceRef;
  return typeof ref?.name === 'string' && ref.name !== '' ? ref.name : undefined;
};

export function watchImagePushes(deps: ImagePushDeps): Controller<KubeObject> {
  /** The last push seen per automation; the first sighting (the agent's start-up list) only records it. */
  const seen = new Map<string, string | undefined>();
  return new Controller<KubeObject>({
    name: 'image-push',
    kube: deps.kube,
    resource: Resources.ImageUpdateAutomation,
    namespace: deps.namespace,
    clock: deps.clock,
    log: deps.log,
    workers: 1,
    changed: (previous, next) => !previous || lastPush(previous) !== lastPush(next),
    reconcile: (obj) => {
      const key = keyOf(obj);
      const commit = lastPush(obj);
      const known = seen.has(key);
      const before = seen.get(key);
      seen.set(key, commit);
      const source = sourceName(obj);
      if (known && commit !== undefined && commit !== before && source !== undefined) {
        deps.log.info({ automation: key, commit, cd: `${namespaceOf(obj)}/${source}` }, 'image update pushed; syncing');
        deps.onPush(namespaceOf(obj), source);
      }
      return Promise.resolve({});
    },
    forget: (key) => seen.delete(key),
    dropManagedFields: true,
  });
}
