import type { ResourceMapping } from '../kube/discovery.ts';
import type { KubeObject } from '../kube/object.ts';
import type { KubePort } from '../kube/port.ts';
import type { Logger } from '../log/index.ts';
import type { Clock } from '../time/clock.ts';
import { Controller, type ReconcileResult } from './runner.ts';

/** What other code may do with a running controller: start and stop it, read its cache, run an object now. */
export type Runner<T extends KubeObject> = Pick<Controller<T>, 'ready' | 'start' | 'stop' | 'get' | 'list' | 'trigger'>;

/** What every controller of a kind is given. */
export interface RunnerDeps {
  /** Lists, watches and status writes go through the Kubernetes port. */
  port: KubePort;
  clock: Clock;
  log: Logger;
  /** Reconciles in flight at once. */
  workers: number;
  /** Watch only this namespace; all when omitted. */
  namespace?: string | undefined;
}

/**
 * The shared runner for one kind, reconciling with `reconcile`. Controllers hold the runner and
 * hand it out instead of wrapping it: callers use `runner.get`, `runner.trigger`, ...
 */
export function runnerFor<T extends KubeObject>(
  deps: RunnerDeps,
  options: {
    /** The kind to watch, e.g. `Resources.ImagePolicy`. */
    resource: ResourceMapping;
    /** The `controller` field of its log lines; default the kind in lower case. */
    name?: string;
    reconcile(obj: T, signal: AbortSignal): Promise<ReconcileResult>;
    /** The object is gone: drop what is kept for `namespace/name`. */
    forget?(key: string): void;
  },
): Runner<T> {
  return new Controller<T>({
    name: options.name ?? options.resource.kind.toLowerCase(),
    kube: deps.port,
    resource: options.resource,
    namespace: deps.namespace,
    clock: deps.clock,
    log: deps.log,
    workers: deps.workers,
    reconcile: (obj, signal) => options.reconcile(obj, signal),
    ...(options.forget ? { forget: (key: string) => options.forget?.(key) } : {}),
  });
}
