import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { onShutdown } from '../../test/harness/process.ts';

/** Memory figures of a live process from /proc/<pid>/status, in KiB; undefined once it is gone. */
export interface ProcMemory {
  rssKiB: number;
  /** Peak resident set size over the process's life so far (VmHWM). */
  hwmKiB: number;
}

/** Parses the VmRSS and VmHWM lines of /proc/<pid>/status. Pure. */
export function parseProcStatus(text: string): ProcMemory | undefined {
  const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  const hwm = /^VmHWM:\s+(\d+)\s+kB/m.exec(text);
  if (!rss || !hwm) return undefined;
  return { rssKiB: Number(rss[1]), hwmKiB: Number(hwm[1]) };
}

export function readProcMemory(pid: number): ProcMemory | undefined {
  try {
    return parseProcStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Samples a process's memory until stopped; the kernel's own peak (VmHWM) is kept too. */
export class MemorySampler {
  readonly pid: number;
  peakRssKiB = 0;
  hwmKiB = 0;
  samples = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(pid: number, intervalMs = 100) {
    this.pid = pid;
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
    this.sample();
  }

  sample(): void {
    const m = readProcMemory(this.pid);
    if (!m) return;
    this.samples++;
    this.peakRssKiB = Math.max(this.peakRssKiB, m.rssKiB);
    this.hwmKiB = Math.max(this.hwmKiB, m.hwmKiB);
  }

  stop(): void {
    this.sample();
    clearInterval(this.timer);
  }
}

export interface TimedRun {
  ms: number;
  code: number | null;
  stdoutLines: number;
  stdoutBytes: number;
  stderrTail: string;
  /** Highest VmHWM seen while sampling every 20 ms (a short process may end between samples). */
  peakRssKiB: number;
}

const SETPRIV = '/usr/bin/setpriv';

/**
 * Runs a peer tool and times it from spawn to exit, as a user's shell would. Output is counted,
 * not kept (kubectl prints a line per object). The child dies with us (parent-death signal).
 */
export function timedRun(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<TimedRun> {
  return new Promise((resolve, reject) => {
    const [cmd, argv] = existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'KILL', '--', command, ...args]] : [command, [...args]];
    const start = performance.now();
    const child = spawn(cmd, argv, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdoutLines = 0;
    let stdoutBytes = 0;
    let stderr = '';
    let peak = 0;
    const kill = () => void child.kill('SIGKILL');
    const unregister = onShutdown({ name: `peer ${command}`, async: () => Promise.resolve(kill()), sync: kill });
    const sampler = setInterval(() => {
      if (child.pid !== undefined) peak = Math.max(peak, readProcMemory(child.pid)?.hwmKiB ?? 0);
    }, 20);
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      for (const byte of chunk) if (byte === 10) stdoutLines++;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000);
    });
    child.once('error', (err) => {
      clearInterval(sampler);
      if (timer) clearTimeout(timer);
      unregister();
      reject(err);
    });
    child.once('close', (code) => {
      const ms = performance.now() - start;
      clearInterval(sampler);
      if (timer) clearTimeout(timer);
      unregister();
      resolve({
        ms,
        code,
        stdoutLines,
        stdoutBytes,
        stderrTail: stderr.trim().split('\n').slice(-5).join('\n'),
        peakRssKiB: peak,
      });
    });
  });
}

/** Like timedRun, but a non-zero exit is an error naming the command and its last words. */
export async function mustRun(command: string, args: readonly string[], options: Parameters<typeof timedRun>[2] = {}): Promise<TimedRun> {
  const run = await timedRun(command, args, options);
  if (run.code !== 0) throw new Error(`${command} ${args.slice(0, 3).join(' ')} … exited with ${run.code}: ${run.stderrTail}`);
  return run;
}
