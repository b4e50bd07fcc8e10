import { Annotations } from '../../shared/api/constants.ts';
import type { ImagePolicyStatus, ImageRef } from '../../shared/api/image.ts';
import { ConditionType, findCondition } from '../../shared/conditions/index.ts';
import { runnerFor, type Runner, type RunnerDeps } from '../../shared/controller/kind-runner.ts';
import { Resources } from '../../shared/api/resources.ts';
import { involvedObject, keyOf, namespaceOf } from '../../shared/controller/objects.ts';
import { PerGeneration } from '../../shared/controller/per-generation.ts';
import type { ReconcileResult } from '../../shared/controller/runner.ts';
import { StatusMemory } from '../../shared/controller/status-memory.ts';
import { writeStatus } from '../../shared/controller/status-writer.ts';
import { combineErrors } from '../../shared/errors/combine.ts';
import { toTidemarkError, transient } from '../../shared/errors/index.ts';
import type { EventRecorder } from '../../shared/kube/events.ts';
import { formatDuration } from '../../shared/time/duration.ts';
import { decide, ExclusionList } from '../policy/index.ts';
import { parseImageReference, type RegistryClient } from '../../shared/registry/index.ts';
import { readImagePolicySpec, type ImageRepositoryConfig, type ImagePolicyConfig, type Validated } from '../specs.ts';
import type { PolicyObject, RepositoryObject } from './object-types.ts';
import { digestPlan, nextPolicyStatus, POLICY_STATUS_FIELDS, sameRef, type PolicyOutcome } from './policy-status.ts';
import type { AccessResolver } from './registry-access.ts';
import { repositoryAccessProblem } from './repository-grant.ts';
import { repositoryKey, type TagStore } from './tag-store.ts';
import { timeoutSignal } from '../../shared/time/timer.ts';

/** What the policy controller reads of the ImageRepositories: the repository controller's cache and compiled specs. */
export interface RepositoryLookup {
  runner: Pick<Runner<RepositoryObject>, 'get'>;
  config(obj: RepositoryObject): Validated<ImageRepositoryConfig>;
}

export interface PolicyControllerDeps extends RunnerDeps {
  registry: RegistryClient;
  access: AccessResolver;
  store: TagStore;
  events: EventRecorder;
  repositories: RepositoryLookup;
  /** Called when a policy's latestRef changes, after `latestRef` returns the new one: the automations that use it run again. */
  onLatestChanged(namespace: string, name: string): void;
  /** Safety net for changes no trigger reports (a deleted ImageRepository); default 10 min. */
  resyncMs?: number;
  /** How soon to look again while the ImageRepository has not been scanned; default 30 s (a scan triggers sooner). */
  dependencyRetryMs?: number;
  /** Lockdown: `imageRepositoryRef.namespace` other than the policy's own is a spec problem, grant or not. */
  noCrossNamespaceRefs?: boolean | undefined;
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
  readonly runner: Runner<PolicyObject>;
  private readonly deps: PolicyControllerDeps;
  private readonly statuses = new StatusMemory<ImagePolicyStatus>();
  private readonly configs = new PerGeneration<Validated<ImagePolicyConfig>>();

  constructor(deps: PolicyControllerDeps) {
    this.deps = deps;
    this.runner = runnerFor(deps, { resource: Resources.ImagePolicy, reconcile: (obj, signal) => this.reconcile(obj, signal) });
  }

  /**
   * The image the policy chose last: the one this process wrote even before the watch brings it
   * back, else the one in the watched status (checked: another process may have written it).
   */
  latestRef(obj: PolicyObject): ImageRef | undefined {
    return validRef(this.statuses.current(obj)?.latestRef);
  }

  /** Runs every policy that chooses from the ImageRepository `namespace/name`. */
  triggerFor(namespace: string, name: string): void {
    for (const policy of this.runner.list()) {
      const ref: unknown = policy.spec?.imageRepositoryRef;
      if (typeof ref !== 'object' || ref === null) continue;
      const { name: refName, namespace: refNamespace } = ref as { name?: unknown; namespace?: unknown };
      if (refName === name && (refNamespace ?? namespaceOf(policy)) === namespace) {
        this.runner.trigger(namespaceOf(policy), policy.metadata.name);
      }
    }
  }

  sweep(): void {
    if (!this.runner.ready) return;
    const live = new Set(this.runner.list().map(keyOf));
    this.configs.retain((key) => live.has(key));
    this.statuses.retain((key) => live.has(key));
  }

  config(obj: PolicyObject): Validated<ImagePolicyConfig> {
    return this.configs.get(obj, () =>
      readImagePolicySpec(obj.spec, namespaceOf(obj), { noCrossNamespaceRefs: this.deps.noCrossNamespaceRefs === true }),
    );
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
    const repository = this.deps.repositories.runner.get(repoNamespace, repoName);
    if (!repository) {
      await report({ kind: 'waiting', message: `ImageRepository ${repoNamespace}/${repoName} not found` });
      return { requeueAfterMs: this.deps.dependencyRetryMs ?? 30_000 };
    }
    const denied = await this.crossNamespaceProblem(obj, config, repository);
    if (denied) {
      // A grant added on the repository's side rescans it, which runs this policy again.
      await report({ kind: 'failed', error: denied, stalled: false });
      return { requeueAfterMs: resyncMs };
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

  /** Refuses a repository in another namespace that does not grant this one (repository-grant.ts). */
  private async crossNamespaceProblem(obj: PolicyObject, config: ImagePolicyConfig, repository: RepositoryObject) {
    const policyNamespace = namespaceOf(obj);
    const { namespace, name } = config.imageRepositoryRef;
    if (namespace === policyNamespace) return undefined;
    const repoConfig = this.deps.repositories.config(repository);
    const own = await this.deps.port.get(Resources.Namespace, undefined, policyNamespace);
    return repositoryAccessProblem({
      policyNamespace,
      repository: { namespace, name },
      accessFrom: repoConfig.ok ? repoConfig.value.accessFrom : undefined,
      labels: own?.metadata.labels ?? {},
      digestReflection: config.digestReflectionPolicy !== 'Never',
    });
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
    const deadline = timeoutSignal(timeoutMs);
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
    const wrote = await writeStatus(this.deps.port, {
      resource: Resources.ImagePolicy,
      namespace: namespaceOf(obj),
      name: obj.metadata.name,
      previous,
      next: next.status,
      fields: POLICY_STATUS_FIELDS,
    });
    this.statuses.remember(obj, next.status);
    if (!sameRef(previous?.latestRef, next.status.latestRef)) this.deps.onLatestChanged(namespaceOf(obj), obj.metadata.name);
    // Events only on a change of status: a policy stuck on the same problem is not re-announced
    // after every scan of its repository.
    if (!wrote) return;
    for (const event of next.events) await this.deps.events.record(involvedObject(obj), event.type, event.reason, event.message);
  }
}

/** A latestRef from a status this process may not have written, checked before it reaches a file. */
function validRef(ref: unknown): ImageRef | undefined {
  if (typeof ref !== 'object' || ref === null) return undefined;
  const { name, tag, digest } = ref as Record<string, unknown>;
  if (typeof name !== 'string' || name === '' || typeof tag !== 'string' || tag === '') return undefined;
  if (digest !== undefined && typeof digest !== 'string') return undefined;
  return digest ? { name, tag, digest } : { name, tag };
}
