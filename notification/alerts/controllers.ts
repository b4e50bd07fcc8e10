import RE2 from 're2';
import { Resources } from '../../shared/api/resources.ts';
import type { Condition } from '../../shared/conditions/index.ts';
import { notReadyConditions, readyConditions } from '../../shared/conditions/ready.ts';
import { runnerFor, type Runner, type RunnerDeps } from '../../shared/controller/kind-runner.ts';
import { keyOf, namespaceOf } from '../../shared/controller/objects.ts';
import type { ReconcileResult } from '../../shared/controller/runner.ts';
import { StatusMemory } from '../../shared/controller/status-memory.ts';
import { writeStatus } from '../../shared/controller/status-writer.ts';
import { combineErrors } from '../../shared/errors/combine.ts';
import { terminal, toTidemarkError, type TidemarkError } from '../../shared/errors/index.ts';
import type { ResourceMapping } from '../../shared/kube/discovery.ts';
import { isNotFound } from '../../shared/kube/errors.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { validateAlertSpec } from '../../shared/spec/alert.ts';
import { validateProviderSpec, addressProblem } from '../../shared/spec/provider.ts';
import type { ResolvedProvider } from '../providers/payloads.ts';
import type { CompiledAlert } from './match.ts';

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
}

/** Reads each object's spec, keeps what is valid for the dispatcher, and says in Ready why an object is not used. */
abstract class TableController<T> {
  readonly runner: Runner<Obj>;
  protected readonly deps: AlertingDeps;
  private readonly table = new Map<string, T>();
  private readonly statuses = new StatusMemory<Status>();
  private readonly resource: ResourceMapping;

  constructor(deps: AlertingDeps, resource: ResourceMapping) {
    this.deps = deps;
    this.resource = resource;
    this.runner = runnerFor<Obj>(deps, {
      resource,
      reconcile: (obj) => this.reconcile(obj),
      forget: (key) => {
        this.table.delete(key);
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

  private async reconcile(obj: Obj): Promise<ReconcileResult> {
    const key = keyOf(obj);
    const previous = this.statuses.current(obj);
    const ctx = { generation: obj.metadata.generation, nowMs: this.deps.clock.now() };
    let next: Status;
    let result: ReconcileResult = {};
    try {
      const { entry, message, requeueAfterMs } = await this.read(obj);
      this.table.set(key, entry);
      next = { conditions: readyConditions(previous?.conditions, message, ctx) };
      if (requeueAfterMs !== undefined) result = { requeueAfterMs };
    } catch (err) {
      const error = toTidemarkError(err);
      this.table.delete(key);
      next = { conditions: notReadyConditions(previous?.conditions, error.code, error.message, error.kind === 'terminal', ctx) };
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

  // eslint-disable-next-line @typescript-eslint/require-await -- the table's read step may do I/O (providers do)
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
    if (problems.length > 0) throw invalid(problems);
    return {
      entry: { namespace, name: obj.metadata.name, config, include, exclude },
      message: config.suspend ? 'Alert is suspended: nothing is sent' : `Alert initialized (provider ${config.providerRef})`,
    };
  }
}
