import { Annotations, Kinds } from '../../shared/api/constants.ts';
import type { ImagePolicyStatus, ImageRef } from '../../shared/api/image.ts';
import { ConditionType, findCondition } from '../../shared/conditions/index.ts';
import { Controller, type ReconcileResult } from '../../shared/controller/runner.ts';
import { toTidemarkError, transient } from '../../shared/errors/index.ts';
import type { EventRecorder } from '../../shared/kube/events.ts';
import type { KubeRest } from '../../shared/kube/rest.ts';
import type { KubePort } from '../../shared/kube/port.ts';
import { Resources } from '../../shared/api/resources.ts';
import type { Logger } from '../../shared/log/index.ts';
import type { Clock } from '../../shared/time/clock.ts';
import { formatDuration } from '../../shared/time/duration.ts';
import { decide, ExclusionList } from '../policy/index.ts';
import { parseImageReference, type RegistryClient } from '../registry/index.ts';
import { validateImagePolicySpec, type ImagePolicyConfig, type Validated } from '../spec/index.ts';
import {
  involvedObject,
  keyOf,
  namespaceOf,
  objectPath,
  StatusMemory,
  writeStatus,
  type PolicyObject,
  type RepositoryObject,
} from './objects.ts';
import { digestPlan, nextPolicyStatus, POLICY_STATUS_FIELDS, type PolicyOutcome } from './policy-status.ts';
import type { AccessResolver } from './registry-access.ts';
import type { ImageRepositoryController } from './repository.ts';
import { combineErrors } from './status-common.ts';
import { repositoryKey, type TagStore } from './tag-store.ts';

export interface PolicyControllerDeps {
  rest: KubeRest;
  /** Lists and watches go through the Kubernetes port. */
  port: KubePort;
  registry: RegistryClient;
  access: AccessResolver;
  store: TagStore;
  events: EventRecorder;
  clock: Clock;
  log: Logger;
  workers: number;
  namespace?: string | undefined;
  repositories: ImageRepositoryController;
  /** Safety net for changes no trigger reports (a deleted ImageRepository); default 10 min. */
  resyncMs?: number;
  /** How soon to look again while the ImageRepository has not been scanned; default 30 s (a scan triggers sooner). */
  dependencyRetryMs?: number;
}

/** Tags were filtered by the ImageRepository's exclusion list when they were stored. */
const NO_EXCLUSIONS = new ExclusionList([]);
/** The digest lookup's deadline when the ImageRepository's own timeout is unknown. */
const DIGEST_TIMEOUT_MS = 60_000;

/**
 * Chooses the newest tag for each ImagePolicy from its ImageRepository's last scan and reports
 * it as `status.latestRef`. Runs when the policy changes and after every scan of its repository.
 */
export class ImagePolicyController {
  private readonly deps: PolicyControllerDeps;
  private readonly controller: Controller<PolicyObject>;
  private readonly statuses = new StatusMemory<ImagePolicyStatus>();
  private readonly configs = new Map<
    string,
    { uid: string | undefined; generation: number | undefined; result: Validated<ImagePolicyConfig> }
  >();

  constructor(deps: PolicyControllerDeps) {
    this.deps = deps;
    this.controller = new Controller<PolicyObject>({
      name: 'imagepolicy',
      kube: deps.port,
      resource: Resources.ImagePolicy,
      namespace: deps.namespace,
      clock: deps.clock,
      log: deps.log,
      workers: deps.workers,
      reconcile: (obj, signal) => this.reconcile(obj, signal),
    });
  }

  get ready(): boolean {
    return this.controller.ready;
  }

  start(): void {
    this.controller.start();
  }

  stop(): Promise<void> {
    return this.controller.stop();
  }

  get(namespace: string, name: string): PolicyObject | undefined {
    return this.controller.get(namespace, name);
  }

  /** Runs every policy that chooses from the ImageRepository `namespace/name`. */
  triggerFor(namespace: string, name: string): void {
    for (const policy of this.controller.list()) {
      const ref: unknown = policy.spec?.imageRepositoryRef;
      if (typeof ref !== 'object' || ref === null) continue;
      const { name: refName, namespace: refNamespace } = ref as { name?: unknown; namespace?: unknown };
      if (refName === name && (refNamespace ?? namespaceOf(policy)) === namespace) {
        this.controller.trigger(namespaceOf(policy), policy.metadata.name);
      }
    }
  }

  sweep(): void {
    if (!this.controller.ready) return;
    const live = new Set(this.controller.list().map(keyOf));
    for (const key of this.configs.keys()) if (!live.has(key)) this.configs.delete(key);
    this.statuses.retain((key) => live.has(key));
  }

  config(obj: PolicyObject): Validated<ImagePolicyConfig> {
    const key = keyOf(obj);
    const cached = this.configs.get(key);
    if (cached && cached.uid === obj.metadata.uid && cached.generation === obj.metadata.generation) return cached.result;
    const result = validateImagePolicySpec(obj.spec, namespaceOf(obj));
    this.configs.set(key, { uid: obj.metadata.uid, generation: obj.metadata.generation, result });
    return result;
  }

  async reconcile(obj: PolicyObject, signal: AbortSignal): Promise<ReconcileResult> {
    const previous = this.statuses.current(obj);
    const ctx = {
      generation: obj.metadata.generation,
      nowMs: this.deps.clock.now(),
      handledRequest: obj.metadata.annotations?.[Annotations.requestedAt],
    };
    const resyncMs = this.deps.resyncMs ?? 10 * 60_000;
    const report = (outcome: PolicyOutcome) => this.report(obj, previous, outcome, ctx);

    const validated = this.config(obj);
    if (!validated.ok) {
      // Only a spec change helps; the other policies on the same repository are unaffected.
      await report({ kind: 'failed', error: combineErrors(validated.errors), stalled: true });
      return {};
    }
    const config = validated.value;
    const { namespace: repoNamespace, name: repoName } = config.imageRepositoryRef;
    const repository = this.deps.repositories.get(repoNamespace, repoName);
    if (!repository) {
      await report({ kind: 'waiting', message: `ImageRepository ${repoNamespace}/${repoName} not found` });
      return { requeueAfterMs: this.deps.dependencyRetryMs ?? 30_000 };
    }
    const record = await this.deps.store.get(repositoryKey(repoNamespace, repoName));
    if (!record || record.uid !== repository.metadata.uid || record.image !== repository.spec.image) {
      const ready = findCondition(repository.status?.conditions, ConditionType.Ready);
      const why = ready?.status === 'False' ? `; its last scan failed with ${ready.reason}` : '';
      await report({
        kind: 'waiting',
        message: `ImageRepository ${repoNamespace}/${repoName} has not been scanned yet${why}`,
      });
      return { requeueAfterMs: this.deps.dependencyRetryMs ?? 30_000 };
    }

    const decision = decide(record.tags, {
      filterTags: config.filterTags,
      exclusionList: NO_EXCLUSIONS,
      policy: config.policy,
    });
    if ('error' in decision) {
      // Terminal for these tags, but the next scan may bring a tag that qualifies.
      await report({ kind: 'failed', error: decision.error, stalled: false });
      return { requeueAfterMs: resyncMs };
    }

    const name = record.image;
    let ref: ImageRef;
    try {
      ref = await this.reflect(config, repository, previous?.latestRef, name, decision.tag, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      const error = toTidemarkError(err);
      await report({ kind: 'failed', error, stalled: false });
      if (error.kind === 'transient') throw error;
      return { requeueAfterMs: resyncMs };
    }
    await report({ kind: 'resolved', ref, candidates: decision.candidates });
    return { requeueAfterMs: resyncMs };
  }

  /** The chosen reference with its digest as digestReflectionPolicy asks (a HEAD request). */
  private async reflect(
    config: ImagePolicyConfig,
    repository: RepositoryObject,
    previous: ImageRef | undefined,
    name: string,
    tag: string,
    signal: AbortSignal,
  ): Promise<ImageRef> {
    const plan = digestPlan(config.digestReflectionPolicy, previous, name, tag);
    if (!plan.lookup) return plan.digest === undefined ? { name, tag } : { name, tag, digest: plan.digest };
    const repoConfig = this.deps.repositories.config(repository);
    if (!repoConfig.ok) throw combineErrors(repoConfig.errors);
    const image = parseImageReference(name);
    const timeoutMs = repoConfig.value.timeoutMs || DIGEST_TIMEOUT_MS;
    const deadline = AbortSignal.timeout(timeoutMs);
    const lookupSignal = AbortSignal.any([signal, deadline]);
    try {
      const access = await this.deps.access.resolve(namespaceOf(repository), repoConfig.value, image, lookupSignal);
      const { digest } = await this.deps.registry.getDigest(image, tag, { access, signal: lookupSignal });
      return { name, tag, digest };
    } catch (err) {
      if (deadline.aborted && !signal.aborted) {
        throw transient('RegistryTimeout', `looking up the digest of ${name}:${tag} took longer than ${formatDuration(timeoutMs)}`, err);
      }
      throw err;
    }
  }

  private async report(
    obj: PolicyObject,
    previous: ImagePolicyStatus | undefined,
    outcome: PolicyOutcome,
    ctx: { generation: number | undefined; nowMs: number; handledRequest: string | undefined },
  ): Promise<void> {
    const next = nextPolicyStatus(previous, outcome, ctx);
    const path = objectPath(Kinds.ImagePolicy.plural, namespaceOf(obj), obj.metadata.name);
    const wrote = await writeStatus(this.deps.rest, path, previous, next.status, POLICY_STATUS_FIELDS);
    this.statuses.remember(obj, next.status);
    // Events only on a change of status: a policy stuck on the same problem is not re-announced
    // after every scan of its repository.
    if (!wrote) return;
    for (const event of next.events) await this.deps.events.record(involvedObject(obj), event.type, event.reason, event.message);
  }
}
