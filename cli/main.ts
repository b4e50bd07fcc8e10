import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { describeError, isTidemarkError } from '../shared/errors/index.ts';
import type { CliContext, IO } from './context.ts';
import { buildContext, Exit, UsageError } from './context.ts';

const HELP = `tidemark — pull-based GitOps for Kubernetes

Usage:
  tidemark get cd [NAME]            list ContinuousDeployments (name, health, sync, location, revision, updated)
  tidemark get images               image repositories and policies with their latest tags
  tidemark status NAME              source, sync and health, resources and recent events
  tidemark sync NAME [--wait]       request a sync now; --wait follows it to the end (--timeout 5m)
  tidemark suspend NAME             stop applying and pruning
  tidemark resume NAME              resume and sync now
  tidemark diff NAME                what a sync would change; exit 1 when something differs
  tidemark agent [flags]            run the sync agent
  tidemark image-updater [flags]    run the image updater
  tidemark version

Common flags:
  --kubeconfig PATH     kubeconfig file (default $KUBECONFIG, then ~/.kube/config)
  --context NAME        kubeconfig context
  -n, --namespace NS    namespace (default: the context's, else default)
  -A, --all-namespaces  list across namespaces
  -o, --output FORMAT   table (default), json or yaml

Exit codes: 0 ok, 1 difference found or sync failed, 2 usage or runtime error, 3 not found.
`;

const PROGRAM_HELP = `Flags for agent and image-updater:
  --kubeconfig PATH   kubeconfig file (default: in-cluster, then $KUBECONFIG, then ~/.kube/config)
  --context NAME      kubeconfig context
  -n, --namespace NS  watch only this namespace (default: all)
  --health-addr ADDR  serve /healthz and /readyz on ADDR (e.g. :8080)
  --log-level LEVEL   debug, info, warn, error (default info)
  --cache-dir DIR     Git checkouts cache
  --workers N         objects reconciled at once
  --kustomize PATH    kustomize or kubectl executable for kustomizations (default: kubectl on PATH)
`;

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

/** Runs a subcommand and returns the process exit code. */
export async function main(argv: string[], io: IO = defaultIO): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case 'help':
      case '-h':
      case '--help':
        io.out(HELP + '\n' + PROGRAM_HELP);
        return Exit.ok;
      case 'version':
      case '--version':
      case '-v':
        io.out(`tidemark ${version()}\n`);
        return Exit.ok;
      case 'agent':
      case 'image-updater':
        return await runProgram(command, rest, io);
      case 'get': {
        const [what, ...args] = rest;
        if (what === 'cd' || what === 'cds' || what === 'continuousdeployments')
          return await withContext(args, {}, io, async (ctx) => (await import('./commands/cd.ts')).getCds(ctx));
        if (what === 'images' || what === 'image')
          return await withContext(args, {}, io, async (ctx) => (await import('./commands/images.ts')).getImages(ctx));
        throw new UsageError(`tidemark get: expected cd or images, not ${JSON.stringify(what ?? '')}`);
      }
      case 'status':
        return await withContext(rest, {}, io, async (ctx) => (await import('./commands/cd.ts')).status(ctx));
      case 'sync':
        return await withContext(rest, { wait: { type: 'boolean' }, timeout: { type: 'string' } }, io, async (ctx) =>
          (await import('./commands/cd.ts')).sync(ctx),
        );
      case 'suspend':
      case 'resume':
        return await withContext(rest, {}, io, async (ctx) => (await import('./commands/cd.ts')).setSuspend(ctx, command === 'suspend'));
      case 'diff':
        return await withContext(rest, {}, io, async (ctx) => (await import('./commands/diff.ts')).diff(ctx));
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`tidemark: ${err.message}\nRun 'tidemark help' for usage.\n`);
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

async function runProgram(program: 'agent' | 'image-updater', argv: string[], io: IO): Promise<number> {
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
        kustomize: { type: 'string' },
      },
      strict: true,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  if (workers !== undefined && !(Number.isInteger(workers) && workers > 0))
    throw new UsageError(`--workers must be a positive whole number`);
  const { createLogger } = await import('../shared/log/index.ts');
  const log = createLogger({ name: program, level: values['log-level'] });
  const common = {
    kubeconfigPath: values.kubeconfig ?? io.env.KUBECONFIG?.split(':')[0],
    context: values.context,
    namespace: values.namespace,
    healthAddress: values['health-addr'],
    cacheDir: values['cache-dir'],
    workers,
    kustomizeCommand: kustomizeCommand(values.kustomize),
    log,
  };
  const running =
    program === 'agent'
      ? await (await import('../agent/index.ts')).startAgent(common)
      : await (await import('../image-updater/index.ts')).startImageUpdater(common);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log.info({}, 'shutting down');
  await running.stop();
  return Exit.ok;
}
