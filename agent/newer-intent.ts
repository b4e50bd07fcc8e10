import { Annotations } from '../shared/api/constants.ts';
import { toTidemarkError } from '../shared/errors/index.ts';
import type { KubeObject } from '../shared/kube/object.ts';
import type { Logger } from '../shared/log/index.ts';
import type { Clock } from '../shared/time/clock.ts';

export interface NewerIntentOptions {
  clock: Clock;
  log: Logger;
  /** The pull interval: how often Git is asked for a new commit while the run goes on. */
  intervalMs: number;
  /** The source's current revision (a `git ls-remote`), bounded by `signal`. */
  lookUp: (signal: AbortSignal) => Promise<string>;
}

/**
 * While one run goes on — above all while it waits for health — watches for what makes it stale:
 * a newer generation of the spec, another sync request, the deletion, or a new commit (Git is
 * asked every pull interval, and at once when a webhook or an image push announces one). Then it
 * aborts `signal` with what it saw, e.g. `revision main@sha1:…`: the run's waits end and the next
 * run starts on it. The newest commit wins instead of waiting out spec.timeout.
 */
export class NewerIntent {
  private readonly newer = new AbortController();
  private readonly ended = new AbortController();
  private readonly generation: number | undefined;
  private readonly requestedAt: string | undefined;
  private readonly options: NewerIntentOptions;
  /** The revision the run works on, once it has resolved it. */
  private revision: string | undefined;
  private looking: Promise<void> | undefined;

  /** `cd`: the copy the run started from. */
  constructor(cd: KubeObject, options: NewerIntentOptions) {
    this.generation = cd.metadata.generation;
    this.requestedAt = cd.metadata.annotations?.[Annotations.requestedAt];
    this.options = options;
    void this.poll();
  }

  /** Aborted once a newer intent exists; its reason (a string) says which. */
  get signal(): AbortSignal {
    return this.newer.signal;
  }

  /** The revision the run resolved: another one in Git later is a newer commit. */
  resolved(revision: string): void {
    this.revision = revision;
  }

  /** A watched copy of the deployment. A lagging copy (an older generation) supersedes nothing. */
  observe(cd: KubeObject): void {
    const { generation, annotations, deletionTimestamp } = cd.metadata;
    const requestedAt = annotations?.[Annotations.requestedAt];
    if (generation !== undefined && this.generation !== undefined && generation > this.generation) {
      this.supersede(`generation ${generation} of the spec`);
    } else if (requestedAt !== undefined && requestedAt !== this.requestedAt) {
      this.supersede(`the sync request of ${requestedAt}`);
    } else if (deletionTimestamp) this.supersede('the deletion of the ContinuousDeployment');
  }

  /** New commits were announced (a webhook, an image push): ask Git now rather than at the interval. */
  lookNow(): void {
    void this.look();
  }

  /** The run is over: no more looks. */
  end(): void {
    this.ended.abort();
  }

  private supersede(by: string): void {
    if (!this.newer.signal.aborted && !this.ended.signal.aborted) this.newer.abort(by);
  }

  private async poll(): Promise<void> {
    const { clock, intervalMs } = this.options;
    while (!this.ended.signal.aborted && !this.newer.signal.aborted) {
      try {
        await clock.sleep(intervalMs, this.ended.signal);
      } catch {
        return; // the run ended
      }
      await this.look();
    }
  }

  /** One look at a time: a webhook during a look joins it. */
  private look(): Promise<void> {
    this.looking ??= this.lookOnce().finally(() => (this.looking = undefined));
    return this.looking;
  }

  private async lookOnce(): Promise<void> {
    const known = this.revision;
    if (known === undefined || this.ended.signal.aborted || this.newer.signal.aborted) return;
    try {
      const current = await this.options.lookUp(this.ended.signal);
      if (sourcePart(current) !== sourcePart(known)) this.supersede(`revision ${current}`);
    } catch (err) {
      // The run does not depend on this look; the next run reports what Git says.
      if (!this.ended.signal.aborted) this.options.log.debug({ err: toTidemarkError(err).message }, 'newer-commit lookup failed');
    }
  }
}

/**
 * The revision of the source itself: a Git deployment that takes its chart from a repository runs
 * at `main@sha1:<sha>+<chart>-<version>@sha256:<digest>`, while the look asks Git alone. The
 * first `@sha1:`/`@sha256:` digest ends the source's part (chart versions may hold `+`).
 */
export function sourcePart(revision: string): string {
  return /^.*?@sha(?:1:[0-9a-f]{40}|256:[0-9a-f]{64})/.exec(revision)?.[0] ?? revision;
}
