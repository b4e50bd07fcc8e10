import { listAndWatch } from '../../shared/controller/watch.ts';
import type { ResourceMapping } from '../../shared/kube/discovery.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import type { KubePort } from '../../shared/kube/port.ts';
import { silentLogger } from '../../shared/log/index.ts';
import { systemClock } from '../../shared/time/clock.ts';

/**
 * A list+watch of one collection that keeps the newest copy of each object and tells waiters the
 * moment a condition first holds. Watching instead of polling keeps the observer's own load on
 * the API server near zero (a ContinuousDeployment status with 5,000 resources is large), and
 * the time recorded is when the API server's event arrived, not the next poll.
 */
export class CollectionWatch<T extends KubeObject = KubeObject> {
  readonly objects = new Map<string, T>();
  private readonly abort = new AbortController();
  private readonly waiters = new Set<() => void>();
  private readonly readyPromise: Promise<void>;
  /** performance.now() of the last event per object name. */
  readonly lastEventAt = new Map<string, number>();

  constructor(port: KubePort, resource: ResourceMapping, options: { namespace?: string; labelSelector?: string } = {}) {
    let markReady!: () => void;
    this.readyPromise = new Promise((resolve) => (markReady = resolve));
    const wake = () => {
      for (const w of [...this.waiters]) w();
    };
    void listAndWatch<T>(
      port,
      resource,
      {
        onList: (items) => {
          this.objects.clear();
          const now = performance.now();
          for (const item of items) {
            this.objects.set(item.metadata.name, item);
            this.lastEventAt.set(item.metadata.name, now);
          }
          markReady();
          wake();
        },
        onUpsert: (obj) => {
          this.objects.set(obj.metadata.name, obj);
          this.lastEventAt.set(obj.metadata.name, performance.now());
          wake();
        },
        onDelete: (obj) => {
          this.objects.delete(obj.metadata.name);
          this.lastEventAt.set(obj.metadata.name, performance.now());
          wake();
        },
      },
      {
        signal: this.abort.signal,
        clock: systemClock,
        log: silentLogger,
        namespace: options.namespace,
        labelSelector: options.labelSelector,
      },
    );
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  /**
   * Resolves with performance.now() at the first moment `check` holds over the watched objects
   * (checked on every event). Rejects after `timeoutMs` with `describe()` in the message.
   */
  async until(
    check: (objects: Map<string, T>) => boolean,
    what: string,
    timeoutMs: number,
    describe?: () => string,
    signal?: AbortSignal,
  ): Promise<number> {
    await this.readyPromise;
    if (check(this.objects)) return performance.now();
    return new Promise<number>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(test);
        signal?.removeEventListener('abort', cancel);
      };
      const test = () => {
        try {
          if (check(this.objects)) {
            done();
            resolve(performance.now());
          }
        } catch (err) {
          done();
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      };
      const cancel = () => {
        done();
        reject(new Error(`stopped waiting for ${what}`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}${describe ? `: ${describe()}` : ''}`));
      }, timeoutMs);
      this.waiters.add(test);
      signal?.addEventListener('abort', cancel, { once: true });
    });
  }

  stop(): void {
    this.abort.abort();
    for (const w of [...this.waiters]) w();
  }
}
