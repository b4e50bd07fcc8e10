import { toTidemarkError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import type { Clock } from '../time/clock.ts';
import { backoffDelay, reconcileBackoff } from '../time/backoff.ts';
import type { ResourceMapping } from '../kube/discovery.ts';
import type { KubeObject } from '../kube/object.ts';
import { isObject } from '../kube/object.ts';
import type { KubePort } from '../kube/port.ts';

export interface WatchHandlers<T extends KubeObject> {
  /** After each full list, with every object that exists. */
  onList(items: T[]): void;
  onUpsert(obj: T): void;
  onDelete(obj: T): void;
}

/**
 * List, then watch from the list's resourceVersion; on a closed stream resume, on 410 Gone or an
 * error list again after a capped backoff. Runs until the signal aborts.
 */
export async function listAndWatch<T extends KubeObject>(
  port: Pick<KubePort, 'list' | 'watch'>,
  resource: ResourceMapping,
  handlers: WatchHandlers<T>,
  options: {
    signal: AbortSignal;
    clock: Clock;
    log: Logger;
    /** Omitted: every namespace. */
    namespace?: string | undefined;
    labelSelector?: string | undefined;
    onError?: ((err: unknown) => void) | undefined;
  },
): Promise<void> {
  const scope = { namespace: options.namespace, labelSelector: options.labelSelector };
  let attempt = 0;
  let resourceVersion: string | undefined;
  while (!options.signal.aborted) {
    try {
      if (resourceVersion === undefined) {
        const list = await port.list(resource, scope);
        handlers.onList(list.items as T[]);
        resourceVersion = list.resourceVersion;
      }
      await port.watch(
        resource,
        { ...scope, resourceVersion },
        (event) => {
          const obj = event.object;
          if (!isObject(obj) || !isObject(obj.metadata)) return;
          if (event.type === 'ERROR') {
            resourceVersion = undefined; // 410 Gone: the resourceVersion is too old; list again
            return;
          }
          if (typeof obj.metadata.resourceVersion === 'string') resourceVersion = obj.metadata.resourceVersion;
          if (event.type === 'BOOKMARK') return;
          if (event.type === 'DELETED') handlers.onDelete(obj as unknown as T);
          else handlers.onUpsert(obj as unknown as T);
        },
        options.signal,
      );
      attempt = 0;
    } catch (err) {
      if (options.signal.aborted) return;
      resourceVersion = undefined;
      options.onError?.(err);
      const delay = backoffDelay(reconcileBackoff, attempt++);
      options.log.warn({ resource: resource.plural, err: toTidemarkError(err).message, retryInMs: delay }, 'watch failed');
      await options.clock.sleep(delay, options.signal).catch(() => undefined);
    }
  }
}
