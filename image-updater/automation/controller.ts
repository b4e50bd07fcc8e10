import { recordBotPush } from '../../shared/metrics/index.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Annotations, Kinds } from '../../shared/api/constants.ts';
import { Resources } from '../../shared/api/resources.ts';
import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import type { ImagePolicy, ImageRef } from '../../shared/api/image.ts';
import { runnerFor, type Runner, type RunnerDeps } from '../../shared/controller/kind-runner.ts';
import { involvedObject, keyOf, namespaceOf, objectPath } from '../../shared/controller/objects.ts';
import { PerGeneration } from '../../shared/controller/per-generation.ts';
import type { ReconcileResult } from '../../shared/controller/runner.ts';
import { StatusMemory } from '../../shared/controller/status-memory.ts';
import { writeStatus } from '../../shared/controller/status-writer.ts';
import { combineErrors } from '../../shared/errors/combine.ts';
import { terminal, toTidemarkError } from '../../shared/errors/index.ts';
import { credentialsFromSecretData, KeyedMutex } from '../../shared/git/index.ts';
import type { GitCredentials } from '../../shared/git/index.ts';
import type { EventRecorder } from '../../shared/kube/events.ts';
import { isNotFound } from '../../shared/kube/errors.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import type { KubeRest } from '../../shared/kube/rest.ts';
import { readSecretData } from '../../shared/kube/secrets.ts';
import type { Validated } from '../../shared/spec/index.ts';
import { updateBranch } from './git-update.ts';
import { refuseLocalRepository } from '../../shared/git/transport.ts';
import { resolveTarget, validateAutomationSpec, type AutomationConfig } from './spec.ts';
import { AUTOMATION_STATUS_FIELDS, nextAutomationStatus, type AutomationOutcome } from './status.ts';
import type { ImageUpdateAutomation, ImageUpdateAutomationStatus } from './types.ts';
import { runUpdate, type PolicyView, type UpdateRunResult } from './update-run.ts';

export type AutomationObject = ImageUpdateAutomation & KubeObject;
type PolicyObject = ImagePolicy & KubeObject;

/**
 * What the automation reads of the ImagePolicies: the policy controller's cache, and the image
 * each policy chose last as that controller knows it (its own write may not have come back
 * through the watch yet when it tells the automation).
 */
export interface PolicyChoices {
  runner: Pick<Runner<PolicyObject>, 'ready' | 'list'>;
  latestRef(policy: PolicyObject): ImageRef | undefined;
}

export interface AutomationControllerDeps extends RunnerDeps {
  /** Reads the source and its Secrets, and asks it to sync. */
  rest: KubeRest;
  events: EventRecorder;
  policies: PolicyChoices;
  /** Parent of the temporary checkouts; default a private directory under the system temp dir, removed by close(). */
  workDir?: string | undefined;
  /** Attempts when the branch moves during a push; default 4. */
  maxPushAttempts?: number;
  /** Deadline of each git operation; default the git library's. */
  gitTimeoutMs?: number;
  /** A source that does not exist yet is looked for again this soon (or at the interval if sooner); default 1 min. */
  dependencyRetryMs?: number;
  /** Observes every git argv (tests check that no spec value arrives as an option). */
  onGitCommand?: (args: readonly string[]) => void;
  /** Push to file:// repositories (tests and the local demo); refused otherwise. */
  allowLocalGit?: boolean | undefined;
}

/** Keys a signing key Secret may use: Flux's `git.asc` (OpenPGP), or an SSH `identity`. */
const SIGNING_KEY_FIELDS = ['git.asc', 'identity'] as const;

/**
 * Runs each ImageUpdateAutomation on its interval, at once on a new spec or `requestedAt`, and
 * whenever an ImagePolicy in its namespace chooses a new image: clone the source's branch,
 * rewrite the marked values, commit, push, and ask the ContinuousDeployment to sync.
 */
export class ImageUpdateAutomationController {
  readonly runner: Runner<AutomationObject>;
  private readonly deps: AutomationControllerDeps;
  private readonly statuses = new StatusMemory<ImageUpdateAutomationStatus>();
  private readonly configs = new PerGeneration<Promise<Validated<AutomationConfig>>>();
  private readonly pushLocks = new KeyedMutex();
  private ownWorkRoot: Promise<string> | undefined;

  constructor(deps: AutomationControllerDeps) {
    this.deps = deps;
    this.runner = runnerFor(deps, { resource: Resources.ImageUpdateAutomation, reconcile: (obj, signal) => this.reconcile(obj, signal) });
  }

  /** Runs every automation of the namespace: one of its policies chose a new image. */
  triggerNamespace(namespace: string): void {
    for (const automation of this.runner.list()) {
      if (namespaceOf(automation) === namespace) this.runner.trigger(namespace, automation.metadata.name);
    }
  }

  /** Removes the private checkout directory, if one was made; call after `runner.stop()`. */
  async close(): Promise<void> {
    const own = await this.ownWorkRoot?.catch(() => undefined);
    if (own) await rm(own, { recursive: true, force: true });
  }

  /** Where checkouts go: the configured directory, or a private one made on first use. */
  private workRoot(): Promise<string> {
    if (this.deps.workDir !== undefined) return Promise.resolve(this.deps.workDir);
    this.ownWorkRoot ??= mkdtemp(join(tmpdir(), 'tidemark-image-automation-'));
    return this.ownWorkRoot;
  }

  /** Forgets remembered statuses and configs of automations that no longer exist. */
  sweep(): void {
    if (!this.runner.ready) return;
    const live = new Set(this.runner.list().map(keyOf));
    this.configs.retain((key) => live.has(key));
    this.statuses.retain((key) => live.has(key));
  }

  /** The validated spec, once per generation (validating compiles the message template, asynchronously). */
  private config(obj: AutomationObject): Promise<Validated<AutomationConfig>> {
    return this.configs.get(obj, () =>
      validateAutomationSpec(obj.spec).catch((err: unknown) => {
        // A failure to validate is no verdict on the spec: the next run validates again.
        this.configs.retain((key) => key !== keyOf(obj));
        throw err;
      }),
    );
  }

  async reconcile(obj: AutomationObject, signal: AbortSignal): Promise<ReconcileResult> {
    if (obj.metadata.deletionTimestamp) return {};
    const namespace = namespaceOf(obj);
    const previous = this.statuses.current(obj);
    const ctx = {
      generation: obj.metadata.generation,
      nowMs: this.deps.clock.now(),
      handledRequest: obj.metadata.annotations?.[Annotations.requestedAt],
    };
    const log = this.deps.log.child({ automation: keyOf(obj) });
    const report = async (outcome: AutomationOutcome) => {
      const next = nextAutomationStatus(previous, outcome, ctx);
      await writeStatus(this.deps.port, {
        resource: Resources.ImageUpdateAutomation,
        namespace,
        name: obj.metadata.name,
        previous,
        next: next.status,
        fields: AUTOMATION_STATUS_FIELDS,
      });
      this.statuses.remember(obj, next.status);
      for (const event of next.events) await this.deps.events.record(involvedObject(obj), event.type, event.reason, event.message);
    };

    const validated = await this.config(obj);
    if (!validated.ok) {
      await report({ kind: 'failed', error: combineErrors(validated.errors) });
      return {};
    }
    const config = validated.value;
    if (config.suspend) {
      log.debug({}, 'suspended');
      return {};
    }
    // Before the first list every marker would look like an unknown policy.
    if (!this.deps.policies.runner.ready) return { requeueAfterMs: 1000 };

    const policies = this.visiblePolicies(namespace);
    const observedPolicies = observed(namespace, policies);
    try {
      const source = await this.source(namespace, config.sourceName, signal);
      const target = resolveTarget(config, source);
      refuseLocalRepository(target.url, this.deps.allowLocalGit === true);
      const credentials = await this.credentials(namespace, config.sourceName, target.secretRef, signal);
      const signingKey = config.signingKeySecret === undefined ? undefined : await this.signingKey(namespace, config.signingKeySecret);
      const automation = { namespace, name: obj.metadata.name };
      const workRoot = await this.workRoot();

      const outcome = await this.pushLocks.run(`${target.url}#${target.pushBranch}`, () =>
        updateBranch<UpdateRunResult>({
          url: target.url,
          credentials,
          allowInsecureHttp: target.insecure,
          checkoutBranch: target.checkoutBranch,
          pushBranch: target.pushBranch,
          author: config.author,
          signingKey,
          workRoot,
          maxAttempts: this.deps.maxPushAttempts,
          timeoutMs: this.deps.gitTimeoutMs,
          signal,
          log,
          onCommand: this.deps.onGitCommand,
          apply: async (dir) => {
            const result = await runUpdate({
              workdir: dir,
              updatePath: target.updatePath,
              namespace,
              policies,
              template: config.messageTemplate,
              values: config.messageTemplateValues,
              automation,
            });
            return { message: result.message, result };
          },
        }),
      );

      const problems = outcome.result.problems;
      recordBotPush(outcome.kind, outcome.kind === 'pushed' ? outcome.attempts - 1 : 0);
      if (outcome.kind === 'pushed') {
        log.info(
          {
            commit: outcome.commit,
            branch: outcome.branch,
            changes: outcome.result.changes.length,
            attempts: outcome.attempts,
          },
          'pushed image updates',
        );
        // status.lastPushCommit is the agent's signal to sync the source now (agent/image-pushes.ts):
        // the updater itself may not write ContinuousDeployments.
        await report({
          kind: 'done',
          pushed: {
            commit: outcome.commit,
            branch: outcome.branch,
            message: outcome.result.message ?? '',
            changes: outcome.result.changes.length,
          },
          problems,
          observedPolicies,
        });
      } else {
        await report({ kind: 'done', unchanged: outcome.reason, problems, observedPolicies });
      }
      return { requeueAfterMs: config.intervalMs };
    } catch (err) {
      if (signal.aborted) throw err;
      const error = toTidemarkError(err);
      recordBotPush({ failure: error.code }, 0);
      await report({ kind: 'failed', error, observedPolicies });
      if (error.kind === 'transient') throw error;
      // Terminal: a human must act, but what they fix may be a Secret or the source, which do
      // not trigger this object; look again at the interval.
      const retryMs =
        error.code === 'SourceNotFound' ? Math.min(config.intervalMs, this.deps.dependencyRetryMs ?? 60_000) : config.intervalMs;
      return { requeueAfterMs: retryMs };
    }
  }

  /** The policies markers may name: those in the automation's namespace, with their latest choice. */
  private visiblePolicies(namespace: string): Map<string, PolicyView> {
    const views = new Map<string, PolicyView>();
    for (const policy of this.deps.policies.runner.list()) {
      if (namespaceOf(policy) !== namespace) continue;
      views.set(policy.metadata.name, { latestRef: this.deps.policies.latestRef(policy) });
    }
    return views;
  }

  private async source(namespace: string, name: string, signal: AbortSignal): Promise<ContinuousDeployment> {
    try {
      return await this.deps.rest.request<ContinuousDeployment>({
        method: 'GET',
        path: objectPath(Kinds.ContinuousDeployment.plural, namespace, name),
        signal,
      });
    } catch (err) {
      if (isNotFound(err)) {
        throw terminal(
          'SourceNotFound',
          `ContinuousDeployment ${namespace}/${name} (spec.sourceRef) not found`,
          'create it or fix spec.sourceRef.name',
        );
      }
      throw err;
    }
  }

  private async credentials(
    namespace: string,
    sourceName: string,
    secretName: string | undefined,
    signal: AbortSignal,
  ): Promise<GitCredentials | undefined> {
    signal.throwIfAborted();
    if (secretName === undefined) return undefined;
    const field = `spec.secretRef of ContinuousDeployment ${sourceName}`;
    return credentialsFromSecretData(await readSecretData(this.deps.rest, namespace, secretName, { field, signal }));
  }

  private async signingKey(namespace: string, secretName: string): Promise<string> {
    const data = await readSecretData(this.deps.rest, namespace, secretName, { field: 'spec.git.commit.signingKey.secretRef' });
    for (const field of SIGNING_KEY_FIELDS) {
      const key = data[field];
      if (key !== undefined && key.trim() !== '') return key;
    }
    throw terminal(
      'SigningKeyInvalid',
      `Secret ${namespace}/${secretName} (spec.git.commit.signingKey) has no ${SIGNING_KEY_FIELDS.join(' or ')} entry`,
      'store an armored OpenPGP private key as git.asc, or an OpenSSH private key as identity',
    );
  }
}

/** status.observedPolicies: `<namespace>/<name>` → the reference the policy chose. */
function observed(namespace: string, policies: ReadonlyMap<string, PolicyView>): Record<string, ImageRef> {
  const out: Record<string, ImageRef> = {};
  for (const [name, view] of [...policies.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (view.latestRef) out[`${namespace}/${name}`] = view.latestRef;
  }
  return out;
}
