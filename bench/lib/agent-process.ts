import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { fileURLToPath } from 'node:url';
import { onShutdown } from '../../test/harness/process.ts';
import { MemorySampler } from './proc.ts';

/**
 * `tidemark agent` as its own process, exactly as an operator runs it, so its memory is its own
 * and its CPU competes with the peers' like any other process. Its JSON log lines are read as
 * they come: 'reconcile finished' carries the agent's own duration of each reconcile.
 */

let defaultNodeFlags: readonly string[] = [];
let defaultArgs: readonly string[] = [];

/** Node flags for every process started after this, e.g. `--cpu-prof --cpu-prof-dir=DIR`. */
export function setAgentNodeFlags(flags: readonly string[]): void {
  defaultNodeFlags = [...flags];
}

/** Program flags for every process started after this, e.g. `--kube-api-qps=0`. */
export function setAgentArgs(args: readonly string[]): void {
  defaultArgs = [...args];
}

/**
 * NODE_OPTIONS the chart gives each program (charts/tidemark/values.yaml `nodeOptions`), so the
 * bench measures the process as it ships; flags on the command line (--node-flags) override it.
 */
export function chartNodeOptions(program: 'agent' | 'image-updater' | 'notification'): string {
  const values = parse(readFileSync(fileURLToPath(new URL('../../charts/tidemark/values.yaml', import.meta.url)), 'utf8')) as Record<
    string,
    { nodeOptions?: unknown } | undefined
  >;
  const key = { agent: 'agent', 'image-updater': 'imageUpdater', notification: 'notification' }[program];
  const options = values[key]?.nodeOptions;
  return typeof options === 'string' ? options : '';
}

/**
 * The glibc malloc settings the image sets (Dockerfile `ENV MALLOC_*`, docs/adr/0002): without
 * them the template engine's freed blocks stay resident, and the bench would measure a process
 * that does not ship.
 */
export function imageMallocEnv(): Record<string, string> {
  const dockerfile = readFileSync(fileURLToPath(new URL('../../Dockerfile', import.meta.url)), 'utf8');
  return Object.fromEntries([...dockerfile.matchAll(/\b(MALLOC_[A-Z_]+_)=([0-9]+)/g)].map((m) => [m[1] as string, m[2] as string]));
}

/**
 * The node flags of the image's ENTRYPOINT (between `node` and the script, e.g. `--liftoff-only`):
 * V8 flags cannot go in NODE_OPTIONS, and without them the bench would measure a process that
 * does not ship.
 */
export function imageNodeFlags(): string[] {
  const dockerfile = readFileSync(fileURLToPath(new URL('../../Dockerfile', import.meta.url)), 'utf8');
  const entrypoint = [...dockerfile.matchAll(/^ENTRYPOINT\s+(\[.*\])\s*$/gm)].pop()?.[1];
  const argv = entrypoint === undefined ? [] : (JSON.parse(entrypoint) as string[]);
  return argv.slice(argv.indexOf('node') + 1, argv.indexOf('bin/tidemark.ts'));
}

let compileCache: string | undefined;

/**
 * A compile cache filled the way the image fills it (bin/warm-compile-cache.ts, Dockerfile), made
 * once per bench run, so the programs run without the TypeScript stripper as they ship.
 */
function warmCompileCache(): string {
  if (compileCache) return compileCache;
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-bench-compile-cache-'));
  onShutdown({
    name: `rm ${dir}`,
    async: () => rm(dir, { recursive: true, force: true }),
    sync: () => rmSync(dir, { recursive: true, force: true }),
  });
  // With the image's node flags, as the image warms it: V8's flags are part of the cache's key.
  const script = fileURLToPath(new URL('../../bin/warm-compile-cache.ts', import.meta.url));
  const warm = spawnSync(process.execPath, [...imageNodeFlags(), script], {
    env: { ...process.env, NODE_COMPILE_CACHE: dir },
    encoding: 'utf8',
  });
  if (warm.status !== 0) throw new Error(`bin/warm-compile-cache.ts exited with ${warm.status}: ${warm.stderr}`);
  compileCache = dir;
  return dir;
}

const BIN = fileURLToPath(new URL('../../bin/tidemark.ts', import.meta.url));
const SETPRIV = '/usr/bin/setpriv';

export interface ReconcileLine {
  /** performance.now() in this process when the line arrived. */
  at: number;
  cd: string;
  msg: string;
  durationMs: number | undefined;
  synced: boolean | undefined;
  sync: string | undefined;
  reason: string | undefined;
  err: string | undefined;
}

/** Reads one pino JSON line; undefined for anything that is not a reconcile report. Pure. */
export function parseReconcileLine(line: string, at: number): ReconcileLine | undefined {
  if (!line.startsWith('{')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const rec = parsed as Record<string, unknown>;
  if (rec.msg !== 'reconcile finished' && rec.msg !== 'reconcile failed') return undefined;
  if (typeof rec.cd !== 'string') return undefined;
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    at,
    cd: rec.cd,
    msg: rec.msg,
    durationMs: typeof rec.durationMs === 'number' ? rec.durationMs : undefined,
    synced: typeof rec.synced === 'boolean' ? rec.synced : undefined,
    sync: str(rec.sync),
    reason: str(rec.reason),
    err: str(rec.err),
  };
}

export interface AgentProcessOptions {
  /** Which program of the `tidemark` binary; default the agent. */
  program?: 'agent' | 'image-updater' | 'notification';
  /** More flags, e.g. `--receiver-addr 127.0.0.1:9292`. */
  args?: readonly string[];
  kubeconfigPath: string;
  namespace: string;
  cacheDir: string;
  workers?: number;
  /** Extra node flags, e.g. `--cpu-prof --cpu-prof-dir=DIR`. */
  nodeFlags?: readonly string[];
  /** `--health-addr`: /metrics is served there. */
  healthAddress?: string;
}

export class AgentProcess {
  readonly pid: number;
  readonly memory: MemorySampler;
  readonly lines: ReconcileLine[] = [];
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly exited: Promise<number | null>;
  private readonly unregister: () => void;
  private readonly waiters = new Set<() => void>();
  private tailLines: string[] = [];

  private constructor(child: ChildProcessWithoutNullStreams) {
    this.child = child;
    this.pid = child.pid ?? -1;
    this.memory = new MemorySampler(this.pid, 100);
    this.unregister = onShutdown({
      name: `tidemark ${this.pid}`,
      async: () => this.stop(),
      sync: () => void child.kill('SIGKILL'),
    });
    let partial = '';
    const take = (chunk: Buffer) => {
      const text = partial + chunk.toString('utf8');
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      const at = performance.now();
      for (const line of parts) {
        this.tailLines.push(line);
        if (this.tailLines.length > 40) this.tailLines.shift();
        const parsed = parseReconcileLine(line, at);
        if (parsed) this.lines.push(parsed);
      }
      for (const wake of [...this.waiters]) wake();
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        this.memory.stop();
        for (const wake of [...this.waiters]) wake();
        resolve(code);
      }),
    );
  }

  static async start(options: AgentProcessOptions): Promise<AgentProcess> {
    const args = [
      ...imageNodeFlags(),
      ...(options.nodeFlags ?? defaultNodeFlags),
      BIN,
      options.program ?? 'agent',
      '--kubeconfig',
      options.kubeconfigPath,
      '--namespace',
      options.namespace,
      '--cache-dir',
      options.cacheDir,
      '--workers',
      String(options.workers ?? 4),
      '--log-level',
      'info',
      ...(options.healthAddress ? ['--health-addr', options.healthAddress] : []),
      ...(options.args ?? defaultArgs),
    ];
    const [cmd, argv] = existsSync(SETPRIV)
      ? [SETPRIV, ['--pdeathsig', 'KILL', '--', process.execPath, ...args]]
      : [process.execPath, args];
    const child = spawn(cmd, argv, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...imageMallocEnv(),
        NODE_ENV: 'production',
        NODE_OPTIONS: chartNodeOptions(options.program ?? 'agent'),
        NODE_COMPILE_CACHE: warmCompileCache(),
      },
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', reject);
    });
    return new AgentProcess(child);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  tail(): string {
    return this.tailLines.join('\n');
  }

  /** Reconcile reports for one ContinuousDeployment (`ns/name`) that arrived after `since`. */
  reportsFor(cd: string, since = 0): ReconcileLine[] {
    return this.lines.filter((l) => l.cd === cd && l.at >= since);
  }

  /** Resolves once `check` holds over the reports so far; rejects on timeout or exit. */
  async waitForReports(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!check()) {
      if (!this.running) throw new Error(`agent exited while waiting for ${what}:\n${this.tail()}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; agent output:\n${this.tail()}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(left, 1000));
        this.waiters.add(wake);
      });
    }
  }

  /** SIGTERM (the agent shuts down cleanly, flushing a CPU profile if asked), SIGKILL after 15 s. */
  async stop(): Promise<void> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
      await this.exited;
      clearTimeout(timer);
    }
    this.memory.stop();
    this.unregister();
  }
}
