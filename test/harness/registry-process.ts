import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * Small process and port helpers private to the registry harness (no shared harness module
 * existed when it was written). Every child and temp dir is also removed on process exit, so a
 * test that throws before `stop()` leaves nothing behind.
 */

const exitCleanups = new Set<() => void>();
let exitHookInstalled = false;

/** Runs `fn` synchronously when the test process exits; returns a function that unregisters it. */
export function onProcessExit(fn: () => void): () => void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const cleanup of exitCleanups) {
        try {
          cleanup();
        } catch {
          // Best effort: the process is going away.
        }
      }
    });
  }
  exitCleanups.add(fn);
  return () => exitCleanups.delete(fn);
}

const handedOut = new Set<number>();

/**
 * A free TCP port on 127.0.0.1, bound and released; never the same one twice in this process,
 * since the kernel readily hands a just-closed port out again.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await probePort();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error('no free loopback port found');
}

function probePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('no port assigned'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

export interface ManagedProcess {
  child: ChildProcess;
  /** Last lines of stderr/stdout, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** Spawns a long-running server process that is killed on `stop()` or at process exit. */
export function startProcess(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ManagedProcess {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-8192);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const unregister = onProcessExit(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    child,
    output: () => tail,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      unregister();
    },
  };
}

/** Removes a temp dir now and, should the caller never get there, at process exit. */
export function registerTempDir(dir: string): () => void {
  const unregister = onProcessExit(() => rmSync(dir, { recursive: true, force: true }));
  return () => {
    unregister();
    rmSync(dir, { recursive: true, force: true });
  };
}

/** Runs a short command to completion, feeding `input` on stdin (so secrets stay off argv). */
export function runCommand(command: string, args: string[], input = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new Error(`${command} exited with ${code}: ${Buffer.concat(err).toString('utf8').slice(0, 500)}`));
    });
    child.stdin.end(input);
  });
}

/** Polls `probe` until it returns true, the process dies, or the deadline passes. */
export async function waitUntil(probe: () => Promise<boolean>, what: string, proc?: ManagedProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc && (proc.child.exitCode !== null || proc.child.signalCode !== null)) {
      throw new Error(`${what} exited early: ${proc.output()}`);
    }
    try {
      if (await probe()) return;
    } catch {
      // Not up yet.
    }
    if (Date.now() > deadline) throw new Error(`${what} did not become ready in ${timeoutMs} ms: ${proc?.output() ?? ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
