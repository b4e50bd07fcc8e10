import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, createWriteStream, existsSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { WriteStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { TidemarkError } from '../../shared/errors/index.ts';

/**
 * Managed child processes for test servers (etcd, kube-apiserver, registries, sshd...).
 *
 * Every process started here is tracked in a process-wide registry that kills it when this Node
 * process exits, is interrupted, or crashes, so a failing or aborted test never leaks a server.
 * When setpriv (util-linux) is present, children also get a parent-death signal, which covers the
 * one case no handler can: this process being SIGKILLed.
 *
 * Children and their pipes are unref'd: a lazily started server must not keep a finished test
 * file alive; the registry stops it on the way out instead.
 */

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartProcessOptions {
  /** Short label for messages, e.g. "etcd". */
  name: string;
  command: string;
  args: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** The whole output of the process is appended here, when given. */
  logFile?: string;
  /** Lines of output kept in memory for error messages. */
  tailLines?: number;
}

const SETPRIV = '/usr/bin/setpriv';
const hasSetpriv = existsSync(SETPRIV);

export class ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string | undefined;
  /** Resolves when the process has exited and its output is drained; never rejects. */
  readonly exited: Promise<ExitInfo>;

  private child: ChildProcess;
  private lines: string[] = [];
  private partial = '';
  private tailLines: number;
  private log: WriteStream | undefined;
  private lastExit: ExitInfo | undefined;

  constructor(child: ChildProcess, pid: number, options: StartProcessOptions) {
    this.name = options.name;
    this.pid = pid;
    this.logFile = options.logFile;
    this.child = child;
    this.tailLines = options.tailLines ?? 200;
    this.log = options.logFile ? createWriteStream(options.logFile, { flags: 'a', mode: 0o600 }) : undefined;
    this.log?.on('error', () => {
      // A log that cannot be written (temp dir removed under us) must not crash the test run.
      this.log = undefined;
    });
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      stream.on('data', (chunk: Buffer) => this.record(chunk));
      unrefStream(stream);
    }
    child.unref();
    this.exited = new Promise((resolve) => {
      let settled = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (settled) return;
        settled = true;
        this.lastExit = { code, signal };
        if (this.partial) this.pushLine(this.partial);
        this.partial = '';
        this.log?.end();
        registry.delete(this);
        resolve(this.lastExit);
      };
      child.once('close', finish);
      // 'close' waits for the pipes; a grandchild holding them open must not stall us.
      child.once('exit', (code, signal) => {
        setTimeout(() => finish(code, signal), 2000).unref();
      });
    });
  }

  /** Undefined while the process runs. */
  get exitInfo(): ExitInfo | undefined {
    return this.lastExit;
  }

  get running(): boolean {
    return this.lastExit === undefined;
  }

  /** The last `lines` lines of combined stdout/stderr. */
  tail(lines = 40): string {
    const all = this.partial ? [...this.lines, this.partial] : this.lines;
    return all.slice(-lines).join('\n');
  }

  /** SIGTERM, then SIGKILL after `graceMs`. Resolves once the process is gone. */
  async stop(graceMs = 10_000): Promise<ExitInfo> {
    if (this.lastExit) return this.lastExit;
    // Keep the event loop alive while we wait for the exit we asked for.
    this.child.ref();
    signal(this.pid, 'SIGTERM');
    const cancel = new AbortController();
    const timer = sleep(graceMs, 'timeout' as const, { ref: true, signal: cancel.signal }).catch(() => 'cancelled' as const);
    const first = await Promise.race([this.exited, timer]);
    cancel.abort();
    if (first !== 'timeout' && first !== 'cancelled') return first;
    signal(this.pid, 'SIGKILL');
    return this.exited;
  }

  /** Synchronous SIGKILL, for exit handlers that cannot wait. */
  killNow(): void {
    if (this.lastExit) return;
    signal(this.pid, 'SIGKILL');
  }

  private record(chunk: Buffer): void {
    this.log?.write(chunk);
    const text = this.partial + chunk.toString('utf8');
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.pushLine(line);
  }

  private pushLine(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.tailLines) this.lines.splice(0, this.lines.length - this.tailLines);
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function resolveCommand(command: string, env: NodeJS.ProcessEnv): string | undefined {
  if (command.includes('/')) return isExecutable(command) ? command : undefined;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if (!(err instanceof Error && 'code' in err && err.code === 'ESRCH')) throw err;
  }
}

function unrefStream(stream: NodeJS.ReadableStream): void {
  const handle = stream as unknown as { unref?: () => void };
  handle.unref?.();
}

/**
 * Starts a process and resolves once it has been spawned (a missing binary rejects here, with a
 * TidemarkError, instead of surfacing later as an unhandled 'error' event).
 */
export async function startProcess(options: StartProcessOptions): Promise<ManagedProcess> {
  installExitHooks();
  // Through setpriv a missing binary would only show as setpriv exiting; find it first.
  const resolved = resolveCommand(options.command, options.env ?? process.env);
  if (!resolved) {
    throw new TidemarkError('ProcessStartFailed', `${options.name}: ${options.command} not found or not executable`, {
      kind: 'terminal',
      hint: 'install it (scripts/install-system-deps.sh) or check the path',
    });
  }
  const [command, args] = hasSetpriv ? [SETPRIV, ['--pdeathsig', 'KILL', '--', resolved, ...options.args]] : [resolved, [...options.args]];
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = await new Promise<number>((resolve, reject) => {
    child.once('error', (err) => {
      reject(
        new TidemarkError('ProcessStartFailed', `${options.name}: could not start ${options.command}: ${err.message}`, {
          kind: 'terminal',
          hint: 'check that the binary exists and is executable',
          cause: err,
        }),
      );
    });
    child.once('spawn', () => resolve(child.pid ?? -1));
  });
  const managed = new ManagedProcess(child, pid, options);
  registry.add(managed);
  return managed;
}

export interface WaitOptions {
  /** What we wait for, for messages: "etcd /health". */
  what: string;
  /** Give up after this long. A deadline, not a speed expectation: keep it generous. */
  timeoutMs: number;
  intervalMs?: number;
  /** Processes that must stay up while we wait; the first one's log tail goes into a timeout error. */
  watch?: readonly ManagedProcess[];
}

/**
 * Polls `probe` until it returns true. Fails early when a watched process exits, and on the
 * deadline; both errors carry the last probe error and the tail of the relevant server log.
 */
export async function waitFor(probe: () => Promise<boolean>, options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 250;
  const watch = options.watch ?? [];
  for (;;) {
    const dead = watch.find((p) => !p.running);
    if (dead) {
      const info = dead.exitInfo;
      throw new TidemarkError(
        'ProcessExited',
        `${dead.name} exited (code ${info?.code ?? 'none'}, signal ${info?.signal ?? 'none'}) while waiting for ${options.what}` +
          describeTail(dead),
        { kind: 'terminal', hint: dead.logFile ? `full log: ${dead.logFile}` : undefined },
      );
    }
    let lastError: string;
    try {
      if (await probe()) return;
      lastError = '';
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() >= deadline) {
      const primary = watch[0];
      throw new TidemarkError(
        'WaitTimeout',
        `timed out after ${options.timeoutMs} ms waiting for ${options.what}` +
          (lastError ? ` (last error: ${lastError})` : '') +
          (primary ? describeTail(primary) : ''),
        { kind: 'transient', hint: primary?.logFile ? `full log: ${primary.logFile}` : undefined },
      );
    }
    await sleep(Math.min(interval, Math.max(0, deadline - Date.now())));
  }
}

function describeTail(p: ManagedProcess): string {
  const tail = p.tail(30);
  return tail ? `\n--- last lines of ${p.name} output ---\n${tail}\n---` : `\n(${p.name} printed nothing)`;
}

// ---- process-wide registry --------------------------------------------------------------------

/** Something to undo on shutdown: `async` on signals (bounded), `sync` on exit (must not wait). */
export interface ShutdownHook {
  name: string;
  async: () => Promise<void>;
  sync: () => void;
}

const registry = new Set<ManagedProcess>();
const hooks: ShutdownHook[] = [];
let installed = false;
let shuttingDown = false;

/** Processes started by this module that are still running. */
export function liveProcesses(): readonly ManagedProcess[] {
  return [...registry];
}

/** Registers a cleanup run on exit or signal, newest first. Returns an unregister function. */
export function onShutdown(hook: ShutdownHook): () => void {
  installExitHooks();
  hooks.push(hook);
  return () => {
    const i = hooks.indexOf(hook);
    if (i >= 0) hooks.splice(i, 1);
  };
}

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
const SIGNAL_CLEANUP_MS = 20_000;

function installExitHooks(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAllNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      void shutdownOnSignal(sig);
    });
  }
  process.on('uncaughtExceptionMonitor', () => {
    // Without an 'uncaughtException' handler Node is about to die: kill first in case something
    // in between hangs. With one (node:test installs it to blame the running test) life goes on.
    if (process.listenerCount('uncaughtException') === 0) killAllNow();
  });
}

function killAllNow(): void {
  for (const hook of [...hooks].reverse()) {
    try {
      hook.sync();
    } catch {
      // Exit handlers must run to the end; one failing cleanup cannot stop the others.
    }
  }
  for (const p of registry) p.killNow();
}

async function shutdownOnSignal(sig: NodeJS.Signals): Promise<void> {
  const code = SIGNAL_EXIT[sig] ?? 1;
  if (shuttingDown) {
    // A second Ctrl-C: stop waiting for graceful shutdown.
    process.exit(code);
  }
  shuttingDown = true;
  const graceful = (async () => {
    for (const hook of [...hooks].reverse()) {
      try {
        await hook.async();
      } catch {
        // Keep going: the remaining hooks and the process kill below still matter.
      }
    }
    await Promise.all([...registry].map((p) => p.stop(5_000)));
  })();
  await Promise.race([graceful, sleep(SIGNAL_CLEANUP_MS, undefined, { ref: true })]);
  process.exit(code);
}
