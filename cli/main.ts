import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const HELP = `tidemark — pull-based GitOps for Kubernetes

Usage:
  tidemark agent [flags]            run the sync agent (ContinuousDeployments)
  tidemark image-updater [flags]    run the image updater (ImageRepository, ImagePolicy, ImageUpdateAutomation)
  tidemark version                  print the version

Flags for agent and image-updater:
  --kubeconfig PATH   kubeconfig file (default: in-cluster, then $KUBECONFIG, then ~/.kube/config)
  --context NAME      kubeconfig context
  -n, --namespace NS  watch only this namespace (default: all)
  --health-addr ADDR  serve /healthz and /readyz on ADDR (e.g. :8080)
  --log-level LEVEL   debug, info, warn, error (default info)
`;

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Runs a subcommand and returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case 'help':
    case '-h':
    case '--help':
      process.stdout.write(HELP);
      return 0;
    case 'version':
    case '--version':
    case '-v':
      process.stdout.write(`tidemark ${version()}\n`);
      return 0;
    case 'agent':
      return runProgram('agent', rest);
    case 'image-updater':
      return runProgram('image-updater', rest);
    default:
      process.stderr.write(`tidemark: unknown command ${JSON.stringify(command)}\n\n${HELP}`);
      return 2;
  }
}

async function runProgram(program: 'agent' | 'image-updater', argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      namespace: { type: 'string', short: 'n' },
      'health-addr': { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
      'cache-dir': { type: 'string' },
      workers: { type: 'string' },
    },
    strict: true,
  });
  const { createLogger } = await import('../shared/log/index.ts');
  const log = createLogger({ name: program, level: values['log-level'] });
  const common = {
    kubeconfigPath: values.kubeconfig ?? process.env.KUBECONFIG,
    context: values.context,
    namespace: values.namespace,
    healthAddress: values['health-addr'],
    cacheDir: values['cache-dir'],
    workers: values.workers ? Number(values.workers) : undefined,
    log,
  };
  const running = program === 'agent'
    ? await (await import('../agent/main.ts')).startAgent(common)
    : await (await import('../image-updater/main.ts')).startImageUpdater(common);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log.info({}, 'shutting down');
  await running.stop();
  return 0;
}
