import type { ContinuousDeployment } from '../shared/api/continuous-deployment.ts';
import { listAndWatch } from '../shared/controller/watch.ts';
import { toTidemarkError } from '../shared/errors/index.ts';
import type { KubeObject } from '../shared/kube/object.ts';
import type { Logger } from '../shared/log/index.ts';
import type { Clock } from '../shared/time/clock.ts';
import type { ConsoleKube } from './kube.ts';
import { CD_RESOURCE } from './kube.ts';
import type { CdRow } from './view.ts';
import { cdRow, rowKey } from './view.ts';

/** Which ContinuousDeployments the user sees: every namespace, or the one the kubeconfig names. */
export type FeedScope = { all: true } | { all: false; namespace: string };

export type FeedMessage =
  | { event: 'snapshot'; data: { scope: FeedScope; synced: boolean; rows: CdRow[]; problem: string | undefined } }
  | { event: 'upsert'; data: CdRow }
  | { event: 'delete'; data: { namespace: string; name: string } }
  /** A change that leaves the row as it was (the spec's source, say): a details page reloads on it. */
  | { event: 'changed'; data: { namespace: string; name: string } }
  | { event: 'problem'; data: { message: string } };

export type FeedListener = (message: FeedMessage) => void;

/**
 * The server's one watch of ContinuousDeployments, shared by every open page: each page gets the
 * current rows, then only the changes. A page never polls, and a thousand rows cost one watch.
 */
export class CdFeed {
  private readonly rows = new Map<string, CdRow>();
  private readonly listeners = new Set<FeedListener>();
  private readonly abort = new AbortController();
  private scope: FeedScope = { all: true };
  private problem: string | undefined;
  private running: Promise<void> | undefined;
  private synced = false;
  private readonly kube: ConsoleKube;
  private readonly options: { clock: Clock; log: Logger; fallbackNamespace: string };

  constructor(kube: ConsoleKube, options: { clock: Clock; log: Logger; fallbackNamespace: string }) {
    this.kube = kube;
    this.options = options;
  }

  /**
   * Starts the watch: across every namespace when the user may list there, else in the
   * kubeconfig's namespace (a user bound by a RoleBinding sees their own namespace).
   */
  async start(): Promise<void> {
    const review = await this.kube.port.canI({ verb: 'watch', resource: CD_RESOURCE, namespace: undefined });
    this.scope = review.allowed ? { all: true } : { all: false, namespace: this.options.fallbackNamespace };
    this.running = listAndWatch<KubeObject>(
      this.kube.port,
      CD_RESOURCE,
      {
        onList: (items) => {
          this.rows.clear();
          for (const obj of items) {
            const row = cdRow(asCd(obj));
            this.rows.set(rowKey(row), row);
          }
          this.problem = undefined;
          this.synced = true;
          this.send(this.snapshot());
        },
        onUpsert: (obj) => {
          const row = cdRow(asCd(obj));
          const key = rowKey(row);
          if (JSON.stringify(this.rows.get(key)) === JSON.stringify(row)) {
            this.send({ event: 'changed', data: { namespace: row.namespace, name: row.name } });
            return;
          }
          this.rows.set(key, row);
          this.send({ event: 'upsert', data: row });
        },
        onDelete: (obj) => {
          const row = cdRow(asCd(obj));
          if (this.rows.delete(rowKey(row))) this.send({ event: 'delete', data: { namespace: row.namespace, name: row.name } });
        },
      },
      {
        signal: this.abort.signal,
        clock: this.options.clock,
        log: this.options.log,
        namespace: this.scope.all ? undefined : this.scope.namespace,
        onError: (err) => {
          this.problem = toTidemarkError(err).message;
          this.send({ event: 'problem', data: { message: this.problem } });
        },
      },
    );
  }

  /** What a newly opened page is sent first. */
  snapshot(): FeedMessage & { event: 'snapshot' } {
    // Code-unit order, the order the page keeps when it inserts a new row.
    const rows = [...this.rows.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
    return { event: 'snapshot', data: { scope: this.scope, synced: this.synced, rows, problem: this.problem } };
  }

  get currentScope(): FeedScope {
    return this.scope;
  }

  subscribe(listener: FeedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private send(message: FeedMessage): void {
    for (const listener of this.listeners) listener(message);
  }
}

/** A watched object of the ContinuousDeployment kind; cdRow reads every field defensively. */
function asCd(obj: KubeObject): ContinuousDeployment {
  return obj as unknown as ContinuousDeployment;
}
