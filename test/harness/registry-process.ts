import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { onShutdown } from './process.ts';

/**
 * What the registry harness needs beyond the shared process and port helpers: a temp dir that
 * is removed even when a test never reaches its cleanup, and short commands fed through stdin.
 */

/** Removes a temp dir when the returned function is called or, should the caller never get there, at shutdown. */
export function registerTempDir(dir: string): () => Promise<void> {
  const unregister = onShutdown({
    name: `rm ${dir}`,
    async: () => rm(dir, { recursive: true, force: true }),
    sync: () => rmSync(dir, { recursive: true, force: true }),
  });
  return async () => {
    unregister();
    await rm(dir, { recursive: true, force: true });
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
