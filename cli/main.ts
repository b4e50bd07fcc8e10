import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { describeError, isTidemarkError, toTidemarkError } from '../shared/errors/index.ts';
import type { CliContext, IO } from './context.ts';
import { buildContext, Exit, UsageError } from './context.ts';
import { EXIT_CODES, HELP, wantsHelp } from './help.ts';
import { DEFAULT_LEASE_TIMINGS, type LeaseTimings } from '../shared/controller/lease-timings.ts';
import type { Logger } from '../shared/log/index.ts';
import { parseDuration } from '../shared/time/duration.ts';
import { parseSelector } from '../shared/kube/selector.ts';

/** `kustomize build DIR` or `kubectl kustomize DIR`, by the executable's name. */
function kustomizeCommand(path: string | undefined): string[] | undefined {
  if (!path) return undefined;
  return /(^|\/)kustomize$/.test(path) ? [path, 'build'] : [path, 'kustomize'];
}

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

const defaultIO: IO = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  env: process.env,
};

/** One subcommand: `tidemark <name> ...`. */
export interface Command {
  name: string;
  aliases?: readonly string[];
  /** How it is called, after `tidemark `. */
  synopsis: string;
  /** What it does, in `tidemark --help`. */
  summary: string;
  /** `tidemark <name> --help`. */
  help: string;
  /** Runs it with the arguments after its name; returns the exit code. */
  run(args: string[], io: IO): Promise<number>;
}

/** Every subcommand; `tidemark --help` lists them in this order, and each answers `--help`. */
export const COMMANDS: readonly Command[] = [
  {
    name: 'get',
    synopsis: 'get cd [NAME] | get images',
    summary: 'ContinuousDeployments, or image repositories and policies',
    help: HELP.get,
    run: async ([what, ...args], io) => {
      if (what === 'cd' || what === 'cds' || what === 'continuousdeployments')
        return withContext(args, {}, io, async (ctx) => (await import('./commands/cd.ts')).getCds(ctx));
      if (what === 'images' || what === 'image')
        return withContext(args, {}, io, async (ctx) => (await import('./commands/images.ts')).getImages(ctx));
      throw new UsageError(`get: expected cd or images, not ${JSON.stringify(what ?? '')}`);
    },
  },
  {
    name: 'status',
    synopsis: 'status NAME',
    summary: 'source, sync and health, resources and recent events',
    help: HELP.status,
    run: (args, io) => withContext(args, {}, io, async (ctx) => (await import('./commands/cd.ts')).status(ctx)),
  },
  {
    name: 'sync',
    synopsis: 'sync NAME [--wait]',
    summary: 'request a sync now; --wait follows it to the end',
    help: HELP.sync,
    run: (args, io) =>
      withContext(args, { wait: { type: 'boolean' }, timeout: { type: 'string' } }, io, async (ctx) =>
        (await import('./commands/cd.ts')).sync(ctx),
      ),
  },
  {
    name: 'suspend',
    synopsis: 'suspend NAME',
    summary: 'stop applying and pruning',
    help: HELP.suspend,
    run: (args, io) => withContext(args, {}, io, async (ctx) => (await import('./commands/cd.ts')).setSuspend(ctx, true)),
  },
  {
    name: 'resume',
    synopsis: 'resume NAME',
    summary: 'resume and sync now',
    help: HELP.resume,
    run: (args, io) => withContext(args, {}, io, async (ctx) => (await import('./commands/cd.ts')).setSuspend(ctx, false)),
  },
  {
    name: 'diff',
    synopsis: 'diff NAME',
    summary: 'what a sync would change; exit 1 when something differs',
    help: HELP.diff,
    run: (args, io) =>
      withContext(args, { 'helm-binary': { type: 'string' } }, io, async (ctx) => (await import('./commands/diff.ts')).diff(ctx)),
  },
  {
    name: 'dashboard',
    synopsis: 'dashboard [--port N]',
    summary: 'the web console on 127.0.0.1, with your kubeconfig',
    help: HELP.dashboard,
    run: (args, io) => runDashboard(args, io),
  },
  {
    name: 'agent',
    synopsis: 'agent [flags]',
    summary: 'run the sync agent',
    help: HELP.agent,
    run: (args, io) => runProgram('agent', args, io),
  },
  {
    name: 'image-updater',
    synopsis: 'image-updater [flags]',
    summary: 'run the image updater',
    help: HELP['image-updater'],
    run: (args, io) => runProgram('image-updater', args, io),
  },
  {
    name: 'notification',
    synopsis: 'notification [flags]',
    summary: 'run the webhook receivers',
    help: HELP.notification,
    run: (args, io) => runProgram('notification', args, io),
  },
  {
    name: 'version',
    aliases: ['--version', '-v'],
    synopsis: 'version',
    summary: 'print the version',
    help: HELP.version,
    run: (args, io) => {
      parseFlags(args, {});
      io.out(`tidemark ${version()}\n`);
      return Promise.resolve(Exit.ok);
    },
  },
  {
    name: 'help',
    synopsis: 'help [COMMAND]',
    summary: 'this list, or one command in detail',
    help: HELP.help,
    run: ([name], io) => {
      if (name === undefined) {
        io.out(usage());
        return Promise.resolve(Exit.ok);
      }
      const command = findCommand(name);
      if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}`);
      io.out(command.help);
      return Promise.resolve(Exit.ok);
    },
  },
];

function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name || c.aliases?.includes(name));
}

/** `tidemark --help`: every command of the table. */
export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.synopsis.length));
  const lines = COMMANDS.map((c) => `  tidemark ${c.synopsis.padEnd(width)}   ${c.summary}`).join('\n');
  const more = "Run 'tidemark COMMAND --help' for a command's flags.";
  return `tidemark — pull-based GitOps for Kubernetes\n\nUsage:\n${lines}\n\n${more}\n${EXIT_CODES}`;
}

/** Runs a subcommand and returns the process exit code. */
export async function main(argv: string[], io: IO = defaultIO): Promise<number> {
  const [name, ...rest] = argv;
  let command: Command | undefined;
  try {
    if (name === undefined || name === '--help' || name === '-h') {
      io.out(usage());
      return Exit.ok;
    }
    command = findCommand(name);
    if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}`);
    if (wantsHelp(rest)) {
      io.out(command.help);
      return Exit.ok;
    }
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      const help = command === undefined ? 'tidemark --help' : `tidemark ${command.name} --help`;
      io.err(`tidemark: ${err.message}\nRun '${help}' for usage.\n`);
      return Exit.usage;
    }
    io.err(`tidemark: ${isTidemarkError(err) ? describeError(err) : (err as Error).message}\n`);
    return Exit.usage;
  }
}

async function withContext(
  argv: string[],
  extra: Parameters<typeof buildContext>[1],
  io: IO,
  run: (ctx: CliContext) => Promise<number>,
): Promise<number> {
  const ctx = buildContext(argv, extra, io);
  try {
    return await run(ctx);
  } finally {
    await ctx.kube.close();
  }
}

/** parseArgs, strict, with its complaint as a UsageError. */
function parseFlags<T extends ParseArgsConfig['options']>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** A flag's positive whole number; with `binary`, a Ki, Mi or Gi suffix multiplies it. */
function positiveCount(value: string | undefined, flag: string, binary = false): number | undefined {
  if (value === undefined) return undefined;
  const match = (binary ? /^([0-9]+)(Ki|Mi|Gi)?$/ : /^([0-9]+)$/).exec(value);
  const units = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 } as const;
  const count = match ? Number(match[1]) * (match[2] ? units[match[2] as keyof typeof units] : 1) : NaN;
  if (!(Number.isSafeInteger(count) && count > 0))
    throw new UsageError(`${flag} must be a positive whole number${binary ? ' (of bytes; Ki, Mi and Gi suffixes allowed)' : ''}`);
  return count;
}

/** `--kube-api-qps` (0: no limit) and `--kube-api-burst` over the default (DEFAULT_RATE_LIMIT). */
async function kubeApiRateLimit(qps: string | undefined, burst: string | undefined): Promise<{ qps: number; burst: number }> {
  const { DEFAULT_RATE_LIMIT } = await import('../shared/kube/rate-limit.ts');
  const rate = qps === undefined ? DEFAULT_RATE_LIMIT.qps : Number(qps);
  if (!(qps === undefined || (/^[0-9]+(\.[0-9]+)?$/.test(qps) && Number.isFinite(rate))))
    throw new UsageError('--kube-api-qps must be a number of requests per second (0: no limit)');
  return { qps: rate, burst: positiveCount(burst, '--kube-api-burst') ?? DEFAULT_RATE_LIMIT.burst };
}

/** The lockdown flags, checked as the API server would check the names they become. */
async function tenancyFlags(
  defaultServiceAccount: string | undefined,
  namespaces: string | undefined,
): Promise<{ defaultServiceAccount?: string; agentIdentityNamespaces?: string[] }> {
  const { namespaceProblem, objectNameProblem } = await import('../shared/spec/names.ts');
  const out: { defaultServiceAccount?: string; agentIdentityNamespaces?: string[] } = {};
  if (defaultServiceAccount !== undefined) {
    const problem = objectNameProblem(defaultServiceAccount);
    if (problem) throw new UsageError(`--default-service-account: ${problem}`);
    out.defaultServiceAccount = defaultServiceAccount;
  }
  if (namespaces !== undefined) {
    const list = namespaces
      .split(',')
      .map((ns) => ns.trim())
      .filter((ns) => ns !== '');
    for (const ns of list) {
      const problem = namespaceProblem(ns);
      if (problem) throw new UsageError(`--agent-identity-namespaces: ${problem}`);
    }
    out.agentIdentityNamespaces = list;
  }
  // Without a default ServiceAccount every deployment that names none acts as the agent anyway.
  if (out.agentIdentityNamespaces !== undefined && out.defaultServiceAccount === undefined)
    throw new UsageError('--agent-identity-namespaces needs --default-service-account');
  return out;
}

async function runProgram(program: 'agent' | 'image-updater' | 'notification', argv: string[], io: IO): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        kubeconfig: { type: 'string' },
        context: { type: 'string' },
        namespace: { type: 'string', short: 'n' },
        'health-addr': { type: 'string' },
        'log-level': { type: 'string', default: 'info' },
        'cache-dir': { type: 'string' },
        workers: { type: 'string' },
        'kube-api-qps': { type: 'string' },
        'kube-api-burst': { type: 'string' },
        kustomize: { type: 'string' },
        'helm-binary': { type: 'string' },
        'render-max-files': { type: 'string' },
        'render-max-bytes': { type: 'string' },
        'render-max-objects': { type: 'string' },
        'default-service-account': { type: 'string' },
        'agent-identity-namespaces': { type: 'string' },
        'no-cross-namespace-refs': { type: 'boolean', default: false },
        'allow-local-git': { type: 'boolean', default: false },
        'watch-label-selector': { type: 'string' },
        'leader-elect': { type: 'boolean', default: false },
        'shard-auto': { type: 'boolean', default: false },
        'shard-group': { type: 'string' },
        'leader-election-id': { type: 'string' },
        'leader-election-namespace': { type: 'string' },
        'leader-election-lease-duration': { type: 'string' },
        'leader-election-renew-deadline': { type: 'string' },
        'leader-election-retry-period': { type: 'string' },
        'receiver-addr': { type: 'string' },
      },
      strict: true,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  if (workers !== undefined && !(Number.isInteger(workers) && workers > 0))
    throw new UsageError(`--workers must be a positive whole number`);
  const rateLimit = await kubeApiRateLimit(values['kube-api-qps'], values['kube-api-burst']);
  const renderLimits = {
    maxFiles: positiveCount(values['render-max-files'], '--render-max-files'),
    maxBytes: positiveCount(values['render-max-bytes'], '--render-max-bytes', true),
    maxObjects: positiveCount(values['render-max-objects'], '--render-max-objects'),
  };
  if (program !== 'agent' && Object.values(renderLimits).some((v) => v !== undefined))
    throw new UsageError('--render-max-files, --render-max-bytes and --render-max-objects are flags of tidemark agent');
  const watchLabelSelector = values['watch-label-selector'];
  if (watchLabelSelector !== undefined) {
    if (program !== 'agent') throw new UsageError('--watch-label-selector is a flag of tidemark agent');
    const parsed = parseSelector(watchLabelSelector);
    if ('problem' in parsed) throw new UsageError(`--watch-label-selector: ${parsed.problem}`);
  }
  const tenancy = await tenancyFlags(values['default-service-account'], values['agent-identity-namespaces']);
  if (program !== 'agent' && (tenancy.defaultServiceAccount !== undefined || tenancy.agentIdentityNamespaces !== undefined))
    throw new UsageError('--default-service-account and --agent-identity-namespaces are flags of tidemark agent');
  if (program !== 'notification' && values['receiver-addr'] !== undefined)
    throw new UsageError('--receiver-addr is a flag of tidemark notification');
  const { createLogger } = await import('../shared/log/index.ts');
  const log = createLogger({ name: program, level: values['log-level'] });
  const common = {
    kubeconfigPath: values.kubeconfig,
    env: io.env,
    context: values.context,
    namespace: values.namespace,
    healthAddress: values['health-addr'],
    cacheDir: values['cache-dir'],
    workers,
    kustomizeCommand: kustomizeCommand(values.kustomize),
    helmBinary: values['helm-binary'],
    noCrossNamespaceRefs: values['no-cross-namespace-refs'],
    allowLocalGit: values['allow-local-git'],
    kubeApiRateLimit: rateLimit,
    log,
  };
  const election = values['leader-elect'] ? leaderElectionFlags(program, values, common.namespace, io.env) : undefined;
  const autoSharding = autoShardingFlags(program, values, common.namespace, io.env);
  const start = (healthAddress: string | undefined): Promise<Running> =>
    program === 'agent'
      ? import('../agent/index.ts').then((m) =>
          m.startAgent({ ...common, healthAddress, ...tenancy, renderLimits, watchLabelSelector, autoSharding }),
        )
      : program === 'notification'
        ? import('../notification/index.ts').then((m) =>
            m.startNotification({ ...common, healthAddress, receiverAddress: values['receiver-addr'] }),
          )
        : import('../image-updater/index.ts').then((m) => m.startImageUpdater({ ...common, healthAddress }));

  const shutdown = new AbortController();
  const stopOnSignal = () => shutdown.abort();
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  const stopped = new Promise<'signal'>((resolve) => shutdown.signal.addEventListener('abort', () => resolve('signal')));

  if (!election) {
    const running = await start(common.healthAddress);
    const lost = running.lost ?? new Promise<never>(() => undefined);
    const outcome = await Promise.race([stopped, lost]);
    if (outcome !== 'signal') {
      // Like a leader that lost its Lease: the others may run this replica's deployments already.
      log.error({ reason: outcome }, 'exiting: this replica lost its shard membership');
      void running.stop();
      process.exit(Exit.usage);
    }
    log.info({}, 'shutting down');
    await running.stop();
    return Exit.ok;
  }
  return runElected(election, { ...common, start, stopped, signal: shutdown.signal, io });
}

/** `--shard-auto`: the member Leases' group, namespace and timings (those of leader election). */
function autoShardingFlags(
  program: 'agent' | 'image-updater' | 'notification',
  values: Record<string, string | boolean | undefined>,
  watchNamespace: string | undefined,
  env: NodeJS.ProcessEnv,
): { namespace: string; group: string; timings: LeaseTimings } | undefined {
  const group = typeof values['shard-group'] === 'string' ? values['shard-group'] : undefined;
  if (values['shard-auto'] !== true) {
    if (group !== undefined) throw new UsageError('--shard-group needs --shard-auto');
    return undefined;
  }
  if (program !== 'agent') throw new UsageError('--shard-auto is a flag of tidemark agent');
  if (values['leader-elect'] === true)
    throw new UsageError('--shard-auto and --leader-elect exclude each other: with --shard-auto every replica works');
  // It begins the Leases' names (`<group>-member-<identity>`) and is their label's value.
  if (group !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(group))
    throw new UsageError('--shard-group must be lower-case letters, digits and dashes, at most 63 characters');
  const { namespace, timings } = leaderElectionFlags(program, values, watchNamespace, env);
  return { namespace, group: group ?? 'tidemark-agent', timings };
}

interface ElectionFlags {
  namespace: string;
  name: string;
  timings: LeaseTimings;
}

/** The Lease to elect on: its namespace from the flag, the pod (downward API or service account), --namespace, or default. */
function leaderElectionFlags(
  program: 'agent' | 'image-updater' | 'notification',
  values: Record<string, string | boolean | undefined>,
  watchNamespace: string | undefined,
  env: NodeJS.ProcessEnv,
): ElectionFlags {
  const flag = (name: string) => (typeof values[name] === 'string' ? values[name] : undefined);
  const duration = (name: string, fallback: number) => {
    const text = flag(name);
    if (text === undefined) return fallback;
    try {
      const ms = parseDuration(text);
      if (ms > 0) return ms;
    } catch {
      // reported below
    }
    throw new UsageError(`--${name} must be a positive duration such as 15s`);
  };
  const timings: LeaseTimings = {
    leaseDurationMs: duration('leader-election-lease-duration', DEFAULT_LEASE_TIMINGS.leaseDurationMs),
    renewDeadlineMs: duration('leader-election-renew-deadline', DEFAULT_LEASE_TIMINGS.renewDeadlineMs),
    retryPeriodMs: duration('leader-election-retry-period', DEFAULT_LEASE_TIMINGS.retryPeriodMs),
  };
  // client-go's own checks: a leader must give up before a standby may take over, and renew more than once in that time.
  if (timings.renewDeadlineMs >= timings.leaseDurationMs)
    throw new UsageError('--leader-election-renew-deadline must be shorter than --leader-election-lease-duration');
  if (timings.retryPeriodMs * 1.2 >= timings.renewDeadlineMs)
    throw new UsageError('--leader-election-retry-period must be well under --leader-election-renew-deadline');
  const namespace = flag('leader-election-namespace') ?? env.POD_NAMESPACE ?? serviceAccountNamespace() ?? watchNamespace ?? 'default';
  return { namespace, name: flag('leader-election-id') ?? `tidemark-${program}`, timings };
}

function serviceAccountNamespace(): string | undefined {
  try {
    return readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

interface Running {
  ready(): boolean;
  /** Automatic sharding: this replica lost its member Lease and must exit. */
  lost?: Promise<string> | undefined;
  stop(): Promise<void>;
}

/**
 * A replica under leader election: it serves health and metrics at once (a standby is Ready, so
 * rollouts proceed), works only while it leads, and exits when it loses the Lease, because a
 * standby may already be acting; the restarted process stands by.
 */
async function runElected(
  election: ElectionFlags,
  run: {
    start: (healthAddress: string | undefined) => Promise<Running>;
    stopped: Promise<'signal'>;
    signal: AbortSignal;
    log: Logger;
    io: IO;
    kubeconfigPath: string | undefined;
    context: string | undefined;
    healthAddress: string | undefined;
  },
): Promise<number> {
  const { loadKubeconfig } = await import('../shared/kube/kubeconfig/index.ts');
  const { createKubeClient } = await import('../shared/kube/client.ts');
  const { LeaderElector } = await import('../shared/controller/leader-election.ts');
  const { serveHealth } = await import('../shared/http/health.ts');
  const { systemClock } = await import('../shared/time/clock.ts');
  const connection = loadKubeconfig({ path: run.kubeconfigPath, context: run.context, env: run.io.env, prefer: 'in-cluster' });
  const kube = createKubeClient(connection, { fieldManager: 'tidemark-leader-election', clock: systemClock });
  const elector = new LeaderElector({ rest: kube.rest, ...election, clock: systemClock, log: run.log });
  const replica: { running?: Running } = {};
  const health = run.healthAddress ? await serveHealth(run.healthAddress, () => replica.running?.ready() ?? true) : undefined;
  const closeAll = async () => {
    await new Promise<void>((resolve) => (health ? health.close(() => resolve()) : resolve()));
    await kube.close();
  };
  try {
    await elector.acquire(run.signal);
  } catch {
    run.log.info({}, 'shutting down while standing by');
    await closeAll();
    return Exit.ok;
  }
  const running = await run.start(undefined);
  replica.running = running;
  const outcome = await Promise.race([run.stopped, elector.lost]);
  if (outcome !== 'signal') {
    // Stop at once: the new leader may be applying already. The process exits on return.
    run.log.error({ reason: outcome }, 'exiting: this replica no longer leads');
    void running.stop();
    await closeAll();
    process.exit(Exit.usage);
  }
  run.log.info({}, 'shutting down');
  await running.stop();
  await elector.release();
  await closeAll();
  return Exit.ok;
}

/**
 * `tidemark dashboard --in-cluster`: no kubeconfig and no rights of its own; each user logs in with
 * a bearer token that every one of their requests carries to the API server.
 */
async function runDashboardInCluster(
  values: {
    listen?: string | undefined;
    host?: string[] | undefined;
    secure?: boolean | undefined;
    'idle-timeout'?: string | undefined;
    'session-lifetime'?: string | undefined;
    'max-sessions'?: string | undefined;
    'max-sessions-per-token'?: string | undefined;
    'login-failures'?: string | undefined;
    'login-failures-total'?: string | undefined;
    'trust-forwarded-for'?: boolean | undefined;
    'cache-dir'?: string | undefined;
    'api-server'?: string | undefined;
    'api-ca'?: string | undefined;
    'log-level'?: string | undefined;
  },
  port: number,
  io: IO,
): Promise<number> {
  const hosts = values.host ?? [];
  if (hosts.length === 0)
    throw new UsageError('--in-cluster needs --host NAME (the Ingress or Service host the browser uses), once per name');
  const envHost = io.env.KUBERNETES_SERVICE_HOST;
  const envPort = io.env.KUBERNETES_SERVICE_PORT;
  const server =
    values['api-server'] ?? (envHost && envPort ? `https://${envHost.includes(':') ? `[${envHost}]` : envHost}:${envPort}` : undefined);
  if (server === undefined) throw new UsageError('--in-cluster needs --api-server URL outside a pod (no KUBERNETES_SERVICE_HOST)');
  const { readFileSync } = await import('node:fs');
  const { SERVICE_ACCOUNT_DIR } = await import('../shared/kube/kubeconfig/index.ts');
  const caPath = values['api-ca'] ?? `${SERVICE_ACCOUNT_DIR}/ca.crt`;
  let ca: string | undefined;
  try {
    ca = readFileSync(caPath, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the API server's CA ${caPath}: ${(err as Error).message}`);
  }
  const { parseDuration } = await import('../shared/time/duration.ts');
  const duration = (flag: 'idle-timeout' | 'session-lifetime', example: string): number | undefined => {
    const text = values[flag];
    let ms = 0;
    try {
      ms = text === undefined ? 1 : parseDuration(text);
    } catch {
      // Reported below.
    }
    if (!(ms > 0)) throw new UsageError(`--${flag} must be a positive duration such as ${example}`);
    return text === undefined ? undefined : ms;
  };
  const idleMs = duration('idle-timeout', '30m or 1h');
  const lifetimeMs = duration('session-lifetime', '12h');
  const count = (flag: 'max-sessions' | 'max-sessions-per-token'): number | undefined => {
    const text = values[flag];
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!(/^\d+$/.test(text) && Number.isSafeInteger(n) && n >= 1)) throw new UsageError(`--${flag} must be a whole number of at least 1`);
    return n;
  };
  const consoleFace = await import('../console/index.ts');
  const window = (flag: 'login-failures' | 'login-failures-total') => {
    const text = values[flag];
    if (text === undefined) return undefined;
    try {
      return consoleFace.parseLoginWindow(text);
    } catch (err) {
      throw new UsageError(`--${flag}: ${(err as Error).message}`);
    }
  };
  const loginLimits = {
    perClient: window('login-failures') ?? consoleFace.DEFAULT_LOGIN_LIMITS.perClient,
    total: window('login-failures-total') ?? consoleFace.DEFAULT_LOGIN_LIMITS.total,
  };
  const maxSessions = count('max-sessions');
  const maxSessionsPerToken = count('max-sessions-per-token');
  const { createLogger } = await import('../shared/log/index.ts');
  const log = createLogger({ name: 'dashboard', level: values['log-level'] ?? 'warn', destination: process.stderr });
  // The details page's comparison with Git, each session with its user's token and its own cache.
  const { mkdirSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const cacheRoot = values['cache-dir'] ?? `${tmpdir()}/tidemark-console`;
  mkdirSync(cacheRoot, { recursive: true, mode: 0o700 });
  const { sessionPlanner, sweepSessionCaches } = await import('./console-planner.ts');
  // Before any session: a crashed console's caches (or a fetch that outlived its session) go now.
  // A root that cannot be read is logged, not fatal: the Pod would only crash-loop on the same dir.
  try {
    sweepSessionCaches(cacheRoot, { log });
  } catch (err) {
    log.warn({ err: describeError(toTidemarkError(err)), cacheRoot }, 'console: stale session caches not swept');
  }
  const running = await consoleFace.startConsole({
    inCluster: {
      server,
      ca,
      hosts,
      secure: values.secure === true,
      idleMs,
      lifetimeMs,
      maxSessions,
      maxSessionsPerToken,
      loginLimits,
      trustForwardedFor: values['trust-forwarded-for'] === true,
      listenHost: values.listen ?? '0.0.0.0',
      planner: (client) => sessionPlanner(client, { cacheRoot, log }),
    },
    port,
    log,
  });
  io.out(
    `Tidemark console (in-cluster) for ${server} on ${values.listen ?? '0.0.0.0'}:${running.port}, answering to ${hosts.join(', ')}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await running.stop();
  return Exit.ok;
}

/** `tidemark dashboard`: serves the console on loopback until interrupted. */
async function runDashboard(argv: string[], io: IO): Promise<number> {
  const { values } = parseFlags(argv, {
    port: { type: 'string' },
    kubeconfig: { type: 'string' },
    context: { type: 'string' },
    'log-level': { type: 'string', default: 'warn' },
    'in-cluster': { type: 'boolean', default: false },
    listen: { type: 'string' },
    host: { type: 'string', multiple: true },
    secure: { type: 'boolean', default: false },
    'idle-timeout': { type: 'string' },
    'session-lifetime': { type: 'string' },
    'max-sessions': { type: 'string' },
    'max-sessions-per-token': { type: 'string' },
    'login-failures': { type: 'string' },
    'login-failures-total': { type: 'string' },
    'trust-forwarded-for': { type: 'boolean', default: false },
    'cache-dir': { type: 'string' },
    'api-server': { type: 'string' },
    'api-ca': { type: 'string' },
  });
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new UsageError('--port must be a port number (0-65535)');
  if (values['in-cluster']) return runDashboardInCluster(values, port, io);
  const inClusterOnly = [
    'listen',
    'host',
    'secure',
    'idle-timeout',
    'session-lifetime',
    'max-sessions',
    'max-sessions-per-token',
    'login-failures',
    'login-failures-total',
    'trust-forwarded-for',
    'cache-dir',
    'api-server',
    'api-ca',
  ] as const;
  for (const flag of inClusterOnly) {
    if (values[flag] !== undefined && values[flag] !== false) throw new UsageError(`--${flag} is for --in-cluster only`);
  }
  const { loadKubeconfig } = await import('../shared/kube/kubeconfig/index.ts');
  const connection = loadKubeconfig({ path: values.kubeconfig, context: values.context, env: io.env, prefer: 'home' });
  const { createLogger } = await import('../shared/log/index.ts');
  const log = createLogger({ name: 'dashboard', level: values['log-level'], destination: process.stderr });
  // The details page's comparison with Git: the plan `tidemark diff` computes, with the same credentials.
  const { createKubeClient } = await import('../shared/kube/client.ts');
  const { FIELD_MANAGER } = await import('../shared/api/constants.ts');
  const { systemClock } = await import('../shared/time/clock.ts');
  const planKube = createKubeClient(connection, { fieldManager: FIELD_MANAGER, clock: systemClock });
  const { consolePlanner } = await import('./console-planner.ts');
  const { tmpdir } = await import('node:os');
  const planner = consolePlanner(planKube, { cacheDir: `${tmpdir()}/tidemark-cli-cache`, log });
  const running = await (
    await import('../console/index.ts')
  )
    .startConsole({ connection, port, log, planner })
    .catch(async (err: unknown) => {
      await planKube.close();
      throw err;
    });
  io.out(`Tidemark console for ${connection.server}\n\n  Open ${running.loginUrl}\n\n`);
  io.out('The link works once, in one browser. Press Ctrl+C to stop.\n');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await running.stop();
  await planKube.close();
  return Exit.ok;
}
