import { RECEIVER_TOKEN_KEY, type Receiver, type ReceiverStatus } from '../../shared/api/receiver.ts';
import { Resources } from '../../shared/api/resources.ts';
import { notReadyConditions, readyConditions } from '../../shared/conditions/ready.ts';
import { runnerFor, type Runner, type RunnerDeps } from '../../shared/controller/kind-runner.ts';
import { involvedObject, keyOf, namespaceOf } from '../../shared/controller/objects.ts';
import type { ReconcileResult } from '../../shared/controller/runner.ts';
import { StatusMemory } from '../../shared/controller/status-memory.ts';
import { writeStatus } from '../../shared/controller/status-writer.ts';
import { combineErrors } from '../../shared/errors/combine.ts';
import { terminal, toTidemarkError, type TidemarkError } from '../../shared/errors/index.ts';
import { isNotFound } from '../../shared/kube/errors.ts';
import type { EventRecorder } from '../../shared/kube/events.ts';
import { findCondition } from '../../shared/conditions/index.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { validateReceiverSpec, type ReceiverConfig } from '../../shared/spec/receiver.ts';
import { webhookPath } from './verify.ts';

export type ReceiverObject = KubeObject & Pick<Receiver, 'status'>;

/** What the HTTP server needs of a Receiver to answer a call to its path. */
export interface Route {
  /** `<namespace>/<name>`: the metric label and the rate-limit key. */
  key: string;
  config: ReceiverConfig;
  /** The shared secret; never logged, never in status. */
  token: string;
}

export const RECEIVER_STATUS_FIELDS = ['webhookPath', 'observedGeneration', 'conditions'] as const;
/** How often a Receiver's Secret is read again, so a rotated token takes effect without an edit. */
export const RECEIVER_RESYNC_MS = 60_000;

export interface ReceiverControllerDeps extends RunnerDeps {
  /** Receivers' targets stay in their own namespace (lockdown, as Flux's flag). */
  noCrossNamespaceRefs?: boolean | undefined;
  /** A Receiver left the table (deleted, invalid, suspended): its metrics and buckets go. */
  onForget?(key: string): void;
  /** Events on a change of Ready, with the condition's reason. */
  events?: Pick<EventRecorder, 'record'> | undefined;
}

/**
 * Keeps the table of webhook paths: each Receiver's spec is read, its token fetched from its
 * Secret, and its path (`/hook/` + sha256(token + name + namespace)) served and written to status.
 */
export class ReceiverController {
  readonly runner: Runner<ReceiverObject>;
  private readonly deps: ReceiverControllerDeps;
  private readonly statuses = new StatusMemory<ReceiverStatus>();
  private readonly routes = new Map<string, Route>();
  private readonly pathOf = new Map<string, string>();

  constructor(deps: ReceiverControllerDeps) {
    this.deps = deps;
    this.runner = runnerFor<ReceiverObject>(deps, {
      resource: Resources.Receiver,
      reconcile: (obj) => this.reconcile(obj),
      forget: (key) => {
        this.unroute(key);
        this.statuses.retain((kept) => kept !== key);
      },
    });
  }

  /** The Receiver serving `path`, if any. */
  route(path: string): Route | undefined {
    return this.routes.get(path);
  }

  async reconcile(obj: ReceiverObject): Promise<ReconcileResult> {
    const namespace = namespaceOf(obj);
    const key = keyOf(obj);
    const previous = this.statuses.current(obj);
    const ctx = { generation: obj.metadata.generation, nowMs: this.deps.clock.now() };

    const read = validateReceiverSpec(obj.spec, namespace, { noCrossNamespaceRefs: this.deps.noCrossNamespaceRefs === true });
    if (!read.ok) {
      this.unroute(key);
      await this.report(obj, previous, this.failed(previous, combineErrors(read.errors), true, ctx));
      return {};
    }
    const config = read.value;
    let token: string;
    try {
      token = await this.token(namespace, config.secretRef);
    } catch (err) {
      const error = toTidemarkError(err);
      this.unroute(key);
      await this.report(obj, previous, this.failed(previous, error, false, ctx));
      // A Secret created later is found on the next resync; an API failure is retried sooner.
      return error.kind === 'transient' ? { retry: true, requeueAfterMs: RECEIVER_RESYNC_MS } : { requeueAfterMs: RECEIVER_RESYNC_MS };
    }

    const path = webhookPath(token, obj.metadata.name, namespace);
    if (config.suspend) {
      this.unroute(key);
      const status: ReceiverStatus = {
        ...previous,
        webhookPath: path,
        conditions: notReadyConditions(previous?.conditions, 'Suspended', 'Receiver is suspended: calls are refused', false, ctx),
      };
      if (ctx.generation !== undefined) status.observedGeneration = ctx.generation;
      await this.report(obj, previous, status);
      return {};
    }
    const old = this.pathOf.get(key);
    if (old !== undefined && old !== path) this.routes.delete(old);
    this.routes.set(path, { key, config, token });
    this.pathOf.set(key, path);
    const status: ReceiverStatus = {
      ...previous,
      webhookPath: path,
      conditions: readyConditions(previous?.conditions, `Receiver initialized for path ${path}`, ctx),
    };
    if (ctx.generation !== undefined) status.observedGeneration = ctx.generation;
    await this.report(obj, previous, status);
    return { requeueAfterMs: RECEIVER_RESYNC_MS };
  }

  private async token(namespace: string, secretName: string): Promise<string> {
    let secret: KubeObject | undefined;
    try {
      secret = await this.deps.port.get(Resources.Secret, namespace, secretName);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (!secret) {
      throw terminal(
        'SecretNotFound',
        `Secret ${namespace}/${secretName} (spec.secretRef) not found`,
        'create the Secret or fix spec.secretRef',
      );
    }
    const data = (secret as { data?: Record<string, unknown> }).data;
    const encoded = data?.[RECEIVER_TOKEN_KEY];
    const token = typeof encoded === 'string' ? Buffer.from(encoded, 'base64').toString('utf8') : '';
    if (token === '') {
      throw terminal(
        'InvalidSecret',
        `Secret ${namespace}/${secretName} (spec.secretRef) has no key "${RECEIVER_TOKEN_KEY}"`,
        `put the webhook's shared secret under "${RECEIVER_TOKEN_KEY}", ` +
          `e.g. kubectl create secret generic ${secretName} --from-literal=token=$(openssl rand -hex 32)`,
      );
    }
    return token;
  }

  private failed(
    previous: ReceiverStatus | undefined,
    error: TidemarkError,
    stalled: boolean,
    ctx: { generation: number | undefined; nowMs: number },
  ): ReceiverStatus {
    const status: ReceiverStatus = {
      ...previous,
      conditions: notReadyConditions(previous?.conditions, error.code, error.message, stalled, ctx),
    };
    // No path is served: status must not show one.
    delete status.webhookPath;
    if (ctx.generation !== undefined) status.observedGeneration = ctx.generation;
    return status;
  }

  private unroute(key: string): void {
    const path = this.pathOf.get(key);
    if (path === undefined) return;
    this.routes.delete(path);
    this.pathOf.delete(key);
    this.deps.onForget?.(key);
  }

  private async report(obj: ReceiverObject, previous: ReceiverStatus | undefined, next: ReceiverStatus): Promise<void> {
    await writeStatus(this.deps.port, {
      resource: Resources.Receiver,
      namespace: namespaceOf(obj),
      name: obj.metadata.name,
      previous,
      next,
      fields: RECEIVER_STATUS_FIELDS,
    });
    this.statuses.remember(obj, next);
    const before = findCondition(previous?.conditions, 'Ready');
    const after = findCondition(next.conditions, 'Ready');
    if (after && (after.status !== before?.status || after.reason !== before.reason || after.message !== before.message)) {
      await this.deps.events?.record(involvedObject(obj), after.status === 'False' ? 'Warning' : 'Normal', after.reason, after.message);
    }
  }
}
