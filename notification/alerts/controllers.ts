import RE2 from 're2';
import { Resources } from '../../shared/api/resources.ts';
import { removeCondition, setCondition, type Condition } from '../../shared/conditions/index.ts';
import { notReadyConditions, readyConditions } from '../../shared/conditions/ready.ts';
import { runnerFor, type Runner, type RunnerDeps } from '../../shared/controller/kind-runner.ts';
import { involvedObject, keyOf, namespaceOf } from '../../shared/controller/objects.ts';
import type { ReconcileResult } from '../../shared/controller/runner.ts';
import { StatusMemory } from '../../shared/controller/status-memory.ts';
import { writeStatus } from '../../shared/controller/status-writer.ts';
import { combineErrors } from '../../shared/errors/combine.ts';
import { terminal, toTidemarkError, type TidemarkError } from '../../shared/errors/index.ts';
import type { ResourceMapping } from '../../shared/kube/discovery.ts';
import { isNotFound } from '../../shared/kube/errors.ts';
import type { EventRecorder } from '../../shared/kube/events.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { validateAlertSpec } from '../../shared/spec/alert.ts';
import { validateProviderSpec, addressProblem } from '../../shared/spec/provider.ts';
import type { ResolvedProvider } from '../providers/payloads.ts';
import type { CompiledAlert } from './match.ts';
import { validateAlertTemplate } from './message.ts';

interface Status {
  observedGeneration?: number;
  conditions?: Condition[];
}
type Obj = KubeObject & { status?: Status | undefined };

const STATUS_FIELDS = ['observedGeneration', 'conditions'] as const;
/** A Provider's Secret is read again this often, so a rotated token or address takes effect without an edit. */
export const PROVIDER_RESYNC_MS = 60_000;

export interface ProviderEntry {
  provider: ResolvedProvider;
  timeoutMs: number;
  suspend: boolean;
}

export interface AlertingDeps extends RunnerDeps {
  noCrossNamespaceRefs?: boolean | undefined;
  /** Where an Alert's template failures are recorded as Events (none: only its condition says). */
  events?: Pick<EventRecorder, 'record'> | undefined;
}

/** False while an Alert's message template fails for the events it sends (they go out with the plain message). */
export const MESSAGE_TEMPLATE_CONDITION = 'MessageTemplate';

/** Reads each object's spec, keeps what is valid for the dispatcher, and says in Ready why an object is not used. */
abstract class TableController<T> {
  readonly runner: Runner<Obj>;
  protected readonly deps: AlertingDeps;
  private readonly table = new Map<string, T>();
  private readonly statuses = new StatusMemory<Status>();
  /** The copy last reconciled, for status written between reconciles. */
  private readonly objects = new Map<string, Obj>();
  private readonly resource: ResourceMapping;
  /** Conditions about one generation's spec, dropped when a new generation is read. */
  protected readonly perGeneration: readonly string[] = [];

  constructor(deps: AlertingDeps, resource: ResourceMapping) {
    this.deps = deps;
    this.resource = resource;
    this.runner = runnerFor<Obj>(deps, {
      resource,
      reconcile: (obj) => this.reconcile(obj),
      forget: (key) => {
        this.table.delete(key);
        this.objects.delete(key);
        this.statuses.retain((kept) => kept !== key);
      },
    });
  }

  get(namespace: string, name: string): T | undefined {
    return this.table.get(`${namespace}/${name}`);
  }

  values(): IterableIterator<T> {
    return this.table.values();
  }

  protected abstract read(obj: Obj): Promise<{ entry: T; message: string; requeueAfterMs?: number }>;

  /** Public for tests, as the receiver controller's; the runner calls it. */
  async reconcile(obj: Obj): Promise<ReconcileResult> {
    const key = keyOf(obj);
    this.objects.set(key, obj);
    const previous = this.statuses.current(obj);
    const ctx = { generation: obj.metadata.generation, nowMs: this.deps.clock.now() };
    const kept =
      previous?.observedGeneration === ctx.generation
        ? previous?.conditions
        : this.perGeneration.reduce<Condition[] | undefined>((list, type) => removeCondition(list, type), previous?.conditions);
    let next: Status;
    let result: ReconcileResult = {};
    try {
      const { entry, message, requeueAfterMs } = await this.read(obj);
      this.table.set(key, entry);
      next = { conditions: readyConditions(kept, message, ctx) };
      if (requeueAfterMs !== undefined) result = { requeueAfterMs };
    } catch (err) {
      const error = toTidemarkError(err);
      this.table.delete(key);
      next = { conditions: notReadyConditions(kept, error.code, error.message, error.kind === 'terminal', ctx) };
      result = error.kind === 'transient' ? { retry: true, requeueAfterMs: PROVIDER_RESYNC_MS } : { requeueAfterMs: PROVIDER_RESYNC_MS };
    }
    if (ctx.generation !== undefined) next.observedGeneration = ctx.generation;
    await writeStatus(this.deps.port, {
      resource: this.resource,
      namespace: namespaceOf(obj),
      name: obj.metadata.name,
      previous,
      next,
      fields: STATUS_FIELDS,
    });
    this.statuses.remember(obj, next);
    return result;
  }

  /**
   * Changes the conditions outside a reconcile (what happened when an event was sent), through
   * the same writer and memory; writes nothing when nothing changed. Returns the object, if known.
   */
  protected async amendConditions(
    namespace: string,
    name: string,
    change: (conditions: readonly Condition[] | undefined, obj: Obj) => Condition[],
  ): Promise<Obj | undefined> {
    const obj = this.objects.get(`${namespace}/${name}`);
    if (!obj) return undefined;
    const previous = this.statuses.current(obj);
    const next: Status = { ...previous, conditions: change(previous?.conditions, obj) };
    await writeStatus(this.deps.port, { resource: this.resource, namespace, name, previous, next, fields: STATUS_FIELDS });
    this.statuses.remember(obj, next);
    return obj;
  }
}

function invalid(errors: TidemarkError[]): TidemarkError {
  return combineErrors(errors);
}

/** Providers with their Secret's values resolved; the values stay in memory, never in status or logs. */
export class ProviderController extends TableController<ProviderEntry> {
  constructor(deps: AlertingDeps) {
    super(deps, Resources.Provider);
  }

  protected async read(obj: Obj): Promise<{ entry: ProviderEntry; message: string; requeueAfterMs?: number }> {
    const read = validateProviderSpec((obj as { spec?: unknown }).spec);
    if (!read.ok) throw invalid(read.errors);
    const config = read.value;
    const secret = config.secretRef === undefined ? {} : await this.secret(namespaceOf(obj), config.secretRef);
    const address = config.address ?? secret.address;
    if (address === undefined || address === '') {
      throw terminal(
        'InvalidSecret',
        `Secret ${config.secretRef ?? ''} (spec.secretRef) has no key "address"`,
        'put the URL under "address", or set spec.address',
      );
    }
    const problem = addressProblem(address);
    // The Secret's address is not repeated in the message: it may itself be the secret (a Slack webhook).
    if (problem)
      throw terminal('InvalidSecret', `the address in Secret ${config.secretRef ?? ''} is unusable: ${problem.replace(/^".*?" /, '')}`);
    const provider: ResolvedProvider = {
      type: config.type,
      address,
      channel: config.channel,
      username: config.username ?? secret.username,
      token: secret.token,
      password: secret.password,
    };
    if (config.type === 'generic-hmac' && !provider.token) {
      throw terminal(
        'InvalidSecret',
        'a generic-hmac provider needs its signing key in the Secret under "token"',
        'set spec.secretRef to a Secret with a "token" key',
      );
    }
    const message = config.suspend ? 'Provider is suspended: nothing is sent' : `Provider initialized (${config.type})`;
    return {
      entry: { provider, timeoutMs: config.timeoutMs, suspend: config.suspend },
      message,
      ...(config.secretRef === undefined ? {} : { requeueAfterMs: PROVIDER_RESYNC_MS }),
    };
  }

  private async secret(namespace: string, name: string): Promise<Record<string, string | undefined>> {
    let secret: KubeObject | undefined;
    try {
      secret = await this.deps.port.get(Resources.Secret, namespace, name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (!secret)
      throw terminal('SecretNotFound', `Secret ${namespace}/${name} (spec.secretRef) not found`, 'create the Secret or fix spec.secretRef');
    const data = (secret as { data?: Record<string, unknown> }).data ?? {};
    const decoded: Record<string, string | undefined> = {};
    for (const key of ['address', 'token', 'username', 'password']) {
      const value = data[key];
      if (typeof value === 'string') decoded[key] = Buffer.from(value, 'base64').toString('utf8').trim();
    }
    return decoded;
  }
}

/** Alerts with their patterns compiled (RE2: linear time whatever a pattern says). */
export class AlertController extends TableController<CompiledAlert> {
  constructor(deps: AlertingDeps) {
    super(deps, Resources.Alert);
  }

  protected override readonly perGeneration = [MESSAGE_TEMPLATE_CONDITION];

  /**
   * The Alert's side of a send: a template that failed for an event sets MessageTemplate=False
   * with the reason, and a Warning Event (the plain message went out); one that renders again
   * removes the condition. Failing to say so is logged, never fails the send.
   */
  async messageTemplateOutcome(namespace: string, name: string, error: TidemarkError | undefined): Promise<void> {
    const nowMs = this.deps.clock.now();
    try {
      const obj = await this.amendConditions(namespace, name, (conditions, about) =>
        error === undefined
          ? removeCondition(conditions, MESSAGE_TEMPLATE_CONDITION)
          : setCondition(
              conditions,
              {
                type: MESSAGE_TEMPLATE_CONDITION,
                status: 'False',
                reason: error.code,
                message: `the plain event message was sent: ${error.message}`,
                observedGeneration: about.metadata.generation,
              },
              nowMs,
            ),
      );
      if (error !== undefined && obj) {
        const about = {
          ...involvedObject(obj),
          apiVersion: `${Resources.Alert.group}/${Resources.Alert.version}`,
          kind: Resources.Alert.kind,
        };
        await this.deps.events?.record(
          about,
          'Warning',
          error.code,
          `spec.messageTemplate: ${error.message}; the plain event message was sent`,
        );
      }
    } catch (err) {
      this.deps.log.warn({ alert: `${namespace}/${name}`, err: toTidemarkError(err).message }, 'alert status not written');
    }
  }

  /** Parses spec.messageTemplate with the template engine (a worker), so a syntax error is a spec problem. */
  protected async read(obj: Obj): Promise<{ entry: CompiledAlert; message: string }> {
    const namespace = namespaceOf(obj);
    const read = validateAlertSpec((obj as { spec?: unknown }).spec, namespace, {
      noCrossNamespaceRefs: this.deps.noCrossNamespaceRefs === true,
    });
    if (!read.ok) throw invalid(read.errors);
    const config = read.value;
    const problems: TidemarkError[] = [];
    const compile = (patterns: string[], field: string) =>
      patterns.flatMap((pattern, i) => {
        try {
          return [new RE2(pattern)];
        } catch (err) {
          problems.push(terminal('InvalidSpec', `spec.${field}[${i}]: not a valid RE2 expression: ${(err as Error).message}`));
          return [];
        }
      });
    const include = compile(config.inclusionList, 'inclusionList');
    const exclude = compile(config.exclusionList, 'exclusionList');
    if (config.messageTemplate !== undefined) {
      try {
        await validateAlertTemplate(config.messageTemplate);
      } catch (err) {
        const error = toTidemarkError(err, 'InvalidAlertTemplate');
        problems.push(terminal(error.code, `spec.messageTemplate: ${error.message}`, error.hint));
      }
    }
    if (problems.length > 0) throw invalid(problems);
    return {
      entry: { namespace, name: obj.metadata.name, config, include, exclude },
      message: config.suspend ? 'Alert is suspended: nothing is sent' : `Alert initialized (provider ${config.providerRef})`,
    };
  }
}
