import { recordScan } from '../../shared/metrics/index.ts';
import { Annotations } from '../../shared/api/constants.ts';
import type { ImageRepositoryStatus } from '../../shared/api/image.ts';
import { runnerFor, type Runner, type RunnerDeps } from '../../shared/controller/kind-runner.ts';
import { Resources } from '../../shared/api/resources.ts';
import { involvedObject, keyOf, namespaceOf } from '../../shared/controller/objects.ts';
import { PerGeneration } from '../../shared/controller/per-generation.ts';
import type { ReconcileResult } from '../../shared/controller/runner.ts';
import { StatusMemory } from '../../shared/controller/status-memory.ts';
import { writeStatus } from '../../shared/controller/status-writer.ts';
import { combineErrors } from '../../shared/errors/combine.ts';
import { toTidemarkError, transient, type TidemarkError } from '../../shared/errors/index.ts';
import type { EventRecorder, PlannedEvent } from '../../shared/kube/events.ts';
import { formatDuration } from '../../shared/time/duration.ts';
import { parseImageReference, type ImageReference, type RegistryClient, type RetryWait } from '../../shared/registry/index.ts';
import { readImageRepositorySpec, type ImageRepositoryConfig, type Validated } from '../specs.ts';
import type { RepositoryObject } from './object-types.ts';
import type { AccessResolver } from './registry-access.ts';
import {
  failedStatus,
  progressingStatus,
  REPOSITORY_STATUS_FIELDS,
  scanDue,
  scannedStatus,
  suspendedStatus,
  waitingStatus,
} from './repository-status.ts';
import { repositoryKey, type TagStore } from './tag-store.ts';
import { timeoutSignal } from '../../shared/time/timer.ts';

export interface RepositoryControllerDeps extends RunnerDeps {
  registry: RegistryClient;
  access: AccessResolver;
  store: TagStore;
  events: EventRecorder;
  /** Called after every successful scan, so the policies choosing from this repository run again. */
  onScanned(namespace: string, name: string): void;
}

/**
 * Scans each ImageRepository on its interval (and at once on a new spec or `requestedAt`),
 * keeps the tags in the TagStore and reports the result in status, conditions and Events.
 */
export class ImageRepositoryController {
  readonly runner: Runner<RepositoryObject>;
  private readonly deps: RepositoryControllerDeps;
  private readonly statuses = new StatusMemory<ImageRepositoryStatus>();
  private readonly configs = new PerGeneration<Validated<ImageRepositoryConfig>>();

  constructor(deps: RepositoryControllerDeps) {
    this.deps = deps;
    this.runner = runnerFor(deps, { resource: Resources.ImageRepository, reconcile: (obj, signal) => this.reconcile(obj, signal) });
  }

  /** The validated spec, compiled once per generation. */
  config(obj: RepositoryObject): Validated<ImageRepositoryConfig> {
    return this.configs.get(obj, () => readImageRepositorySpec(obj.spec));
  }

  /** Forgets tags, statuses and configs of ImageRepositories that are gone. */
  async sweep(): Promise<void> {
    if (!this.runner.ready) return;
    const live = new Set(this.runner.list().map(keyOf));
    for (const key of await this.deps.store.keys()) if (!live.has(key)) await this.deps.store.delete(key);
    this.configs.retain((key) => live.has(key));
    this.statuses.retain((key) => live.has(key));
  }

  async reconcile(obj: RepositoryObject, signal: AbortSignal): Promise<ReconcileResult> {
    const namespace = namespaceOf(obj);
    const name = obj.metadata.name;
    const previous = this.statuses.current(obj);
    const requestedAt = obj.metadata.annotations?.[Annotations.requestedAt];
    const ctx = { generation: obj.metadata.generation, nowMs: this.deps.clock.now(), handledRequest: requestedAt };

    const validated = this.config(obj);
    if (!validated.ok) {
      await this.report(obj, previous, failedStatus(previous, combineErrors(validated.errors), { ...ctx, stalled: true }));
      return {};
    }
    const config = validated.value;
    if (config.suspend) {
      await this.report(obj, previous, { status: suspendedStatus(previous, ctx), events: [] });
      return {};
    }
    let ref: ImageReference;
    try {
      ref = parseImageReference(config.image);
    } catch (err) {
      await this.report(obj, previous, failedStatus(previous, toTidemarkError(err), { ...ctx, stalled: true }));
      return {};
    }

    const key = repositoryKey(namespace, name);
    const due = scanDue({
      record: await this.deps.store.get(key),
      uid: obj.metadata.uid,
      generation: obj.metadata.generation,
      image: config.image,
      requestedAt,
      status: previous,
      intervalMs: config.intervalMs,
      nowMs: ctx.nowMs,
    });
    if (!due.now) return { requeueAfterMs: due.inMs };

    let current = previous;
    if (obj.metadata.generation !== previous?.observedGeneration) {
      const progressing = progressingStatus(previous, config.image, ctx);
      await this.report(obj, previous, { status: progressing, events: [] });
      current = progressing;
    }

    const log = this.deps.log.child({ imagerepository: key });
    const onRetry = async (wait: RetryWait) => {
      const waiting = waitingStatus(current, wait, { ...ctx, nowMs: this.deps.clock.now() });
      log.info({ reason: wait.error.code, waitMs: wait.delayMs, attempt: wait.nextAttempt }, 'scan waiting to retry');
      try {
        await this.report(obj, current, { status: waiting, events: [] });
        current = waiting;
      } catch (err) {
        // The scan goes on; the condition catches up with its outcome.
        log.warn({ err: toTidemarkError(err).message }, 'could not report the wait');
      }
    };
    let tags: string[];
    const scanStarted = this.deps.clock.now();
    const scanSeconds = () => (this.deps.clock.now() - scanStarted) / 1000;
    try {
      tags = await this.scan(namespace, config, ref, signal, onRetry);
      recordScan(ref.registry, undefined, scanSeconds());
    } catch (err) {
      if (signal.aborted) throw err;
      const error = toTidemarkError(err);
      recordScan(ref.registry, error.code, scanSeconds());
      log.warn({ reason: error.code, err: error.message }, 'scan failed');
      await this.report(obj, current, failedStatus(current, error, { ...ctx, stalled: false, canonicalImageName: ref.name }));
      // Transient: the runner retries with backoff. Terminal (credentials, missing repository):
      // the next attempt is on the interval, or sooner when the spec or requestedAt changes.
      if (error.kind === 'transient') throw error;
      return { requeueAfterMs: config.intervalMs };
    }

    const scanTimeMs = this.deps.clock.now();
    await this.deps.store.set(key, {
      uid: obj.metadata.uid,
      generation: obj.metadata.generation,
      image: config.image,
      canonicalImageName: ref.name,
      tags,
      scanTimeMs,
    });
    log.debug({ tags: tags.length }, 'scan finished');
    await this.report(obj, current, scannedStatus(current, { canonicalImageName: ref.name, tags, scanTimeMs }, ctx));
    this.deps.onScanned(namespace, name);
    return { requeueAfterMs: config.intervalMs };
  }

  /** Lists the tags within the spec's timeout; the exclusion list is applied here, once per scan. */
  private async scan(
    namespace: string,
    config: ImageRepositoryConfig,
    ref: ImageReference,
    signal: AbortSignal,
    onRetry: (wait: RetryWait) => Promise<void>,
  ): Promise<string[]> {
    const deadline = timeoutSignal(config.timeoutMs);
    const scanSignal = AbortSignal.any([signal, deadline]);
    try {
      const access = await this.deps.access.resolve(namespace, config, ref, scanSignal);
      const listed = await this.deps.registry.listTags(ref, { access, signal: scanSignal, onRetry });
      return config.exclusionList.keep(listed.tags);
    } catch (err) {
      if (deadline.aborted && !signal.aborted) throw timedOut(ref, config.timeoutMs, err);
      throw err;
    }
  }

  private async report(
    obj: RepositoryObject,
    previous: ImageRepositoryStatus | undefined,
    next: { status: ImageRepositoryStatus; events: PlannedEvent[] },
  ): Promise<void> {
    await writeStatus(this.deps.port, {
      resource: Resources.ImageRepository,
      namespace: namespaceOf(obj),
      name: obj.metadata.name,
      previous,
      next: next.status,
      fields: REPOSITORY_STATUS_FIELDS,
    });
    this.statuses.remember(obj, next.status);
    for (const event of next.events) await this.deps.events.record(involvedObject(obj), event.type, event.reason, event.message);
  }
}

function timedOut(ref: ImageReference, timeoutMs: number, cause: unknown): TidemarkError {
  return transient('RegistryTimeout', `scanning ${ref.name} took longer than the timeout of ${formatDuration(timeoutMs)}`, cause);
}
