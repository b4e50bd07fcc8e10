import { toTidemarkError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import type { Clock } from '../time/clock.ts';
import { backoffDelay, reconcileBackoff, watchBackoff } from '../time/backoff.ts';
import type { ResourceMapping } from '../kube/discovery.ts';
import type { KubeObject } from '../kube/object.ts';
import { isNotFound, KubeApiError } from '../kube/errors.ts';
import { isObject } from '../kube/object.ts';
import type { KubePort, ListOptions } from '../kube/port.ts';

export interface WatchHandlers<T extends KubeObject> {
  /** After each full list, with every object that exists. */
  onList(items: T[]): void;
  onUpsert(obj: T): void;
  onDelete(obj: T): void;
  /** After the first list that worked once listing or watching had failed: the API server answers again. */
  onRecovered?(): void;
}

/** Objects per LIST request, as client-go's reflector asks: one big response is never held whole. */
export const LIST_PAGE_SIZE = 500;

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
    fieldSelector?: string | undefined;
    onError?: ((err: unknown) => void) | undefined;
    /** Objects per LIST request (`limit` + `continue`); default LIST_PAGE_SIZE. */
    pageSize?: number | undefined;
    /**
     * What to keep of each listed or watched object, applied as each page arrives: a listing
     * never holds more than one page of full objects.
     */
    transform?: ((obj: T) => T) | undefined;
  },
): Promise<void> {
  const scope = { namespace: options.namespace, labelSelector: options.labelSelector, fieldSelector: options.fieldSelector };
  const transform = options.transform ?? ((obj: T) => obj);
  let attempt = 0;
  let notServed = false;
  let resourceVersion: string | undefined;
  let failed = false;
  while (!options.signal.aborted) {
    try {
      if (resourceVersion === undefined) {
        const list = await listAll(port, resource, scope, options.pageSize ?? LIST_PAGE_SIZE, transform);
        handlers.onList(list.items);
        resourceVersion = list.resourceVersion;
        if (failed) handlers.onRecovered?.();
        failed = false;
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
          if (event.type === 'DELETED') handlers.onDelete(transform(obj as unknown as T));
          else handlers.onUpsert(transform(obj as unknown as T));
        },
        options.signal,
      );
      attempt = 0;
    } catch (err) {
      if (options.signal.aborted) return;
      resourceVersion = undefined;
      if (isExpired(err)) {
        // Routine after etcd compacts past our resourceVersion, and the list before it worked:
        // neither a failure for the cache nor a reason for the backoff to grow, which would leave
        // drift unseen for minutes after a few expiries in a row.
        attempt = 0;
        const delay = backoffDelay(reconcileBackoff, attempt);
        options.log.debug({ resource: resource.plural, retryInMs: delay }, 'watch expired; listing again');
        await options.clock.sleep(delay, options.signal).catch(() => undefined);
        continue;
      }
      options.onError?.(err);
      failed = !isNotFound(err);
      const delay = backoffDelay(watchBackoff, attempt++);
      if (isNotFound(err)) {
        // The kind is not served (its CRD is not installed, e.g. the image updater's CRDs on a
        // cluster without it): said once, then checked again quietly until it appears.
        if (!notServed) options.log.info({ resource: resource.plural, retryInMs: delay }, 'kind not served; watching for it to appear');
        notServed = true;
      } else {
        notServed = false;
        options.log.warn({ resource: resource.plural, err: toTidemarkError(err).message, retryInMs: delay }, 'watch failed');
      }
      await options.clock.sleep(delay, options.signal).catch(() => undefined);
    }
  }
}

/** 410 Gone: the resourceVersion we watched from is older than the server keeps. */
function isExpired(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 410;
}

/** Every page of one listing; the resourceVersion is the first page's snapshot, which all pages share. */
async function listAll<T extends KubeObject>(
  port: Pick<KubePort, 'list'>,
  resource: ResourceMapping,
  scope: ListOptions,
  limit: number,
  transform: (obj: T) => T,
): Promise<{ items: T[]; resourceVersion: string }> {
  const items: T[] = [];
  let page = await port.list(resource, { ...scope, limit });
  const resourceVersion = page.resourceVersion;
  for (;;) {
    for (const obj of page.items) items.push(transform(obj as T));
    if (!page.continue) return { items, resourceVersion };
    page = await port.list(resource, { ...scope, limit, continue: page.continue });
  }
}
