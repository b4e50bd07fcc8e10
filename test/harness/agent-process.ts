import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { freePort } from './ports.ts';
import { onShutdown, waitFor } from './process.ts';

/**
 * `tidemark agent` as its own process, the way a Pod runs it, so a test can kill it with SIGKILL
 * at any moment and start it again on the same cache directory.
 */
export interface AgentProcess {
  /** Everything the process printed (all incarnations). */
  readonly output: () => string;
  /** `http://127.0.0.1:<port>` of the current process's health port (/healthz, /readyz, /metrics). */
  readonly healthUrl: () => string;
  /** The current process's id (undefined before the first start). */
  readonly pid: () => number | undefined;
  /** Resolves when the current process has exited. */
  readonly exited: () => Promise<void>;
  kill(signal?: NodeJS.Signals): void;
  /** Starts the agent again (after a kill) with the same flags, and waits until it is ready. */
  restart(): Promise<void>;
  /** SIGTERM, then SIGKILL after 10 s. Idempotent. */
  stop(): Promise<void>;
}

export interface AgentProcessOptions {
  kubeconfig: string;
  namespace: string;
  cacheDir: string;
  /** More flags, e.g. `--workers 4`. */
  args?: readonly string[];
}

const BIN = new URL('../../bin/tidemark.ts', import.meta.url).pathname;

export async function startAgentProcess(options: AgentProcessOptions): Promise<AgentProcess> {
  let output = '';
  let child: ChildProcess | undefined;
  let exit: Promise<void> = Promise.resolve();
  let healthUrl = '';

  const start = async () => {
    const port = await freePort();
    healthUrl = `http://127.0.0.1:${port}`;
    const args = [
      BIN,
      'agent',
      '--kubeconfig',
      options.kubeconfig,
      '--namespace',
      options.namespace,
      '--cache-dir',
      options.cacheDir,
      '--health-addr',
      `127.0.0.1:${port}`,
      // The harness serves repositories from local directories too; the chart never sets this.
      '--allow-local-git',
      ...(options.args ?? []),
    ];
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KUBECONFIG: '' } });
    child = proc;
    exit = new Promise((resolve) => proc.once('exit', () => resolve()));
    proc.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    proc.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    await waitFor(
      async () => {
        if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`the agent exited while starting: ${output.slice(-2000)}`);
        return (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200;
      },
      { timeoutMs: 60_000, what: 'agent ready' },
    );
  };

  const alive = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (!alive()) return;
    child?.kill('SIGTERM');
    const timer = setTimeout(() => child?.kill('SIGKILL'), 10_000);
    await exit;
    clearTimeout(timer);
  };
  const unregister = onShutdown({ name: 'agent process', async: stop, sync: () => child?.kill('SIGKILL') });

  await start();
  return {
    output: () => output,
    healthUrl: () => healthUrl,
    pid: () => child?.pid,
    exited: () => exit,
    kill: (signal = 'SIGKILL') => {
      if (alive()) child?.kill(signal);
    },
    restart: async () => {
      if (alive()) throw new Error('restart: the agent is still running; kill it first');
      await start();
    },
    stop: async () => {
      await stop();
      unregister();
    },
  };
}
