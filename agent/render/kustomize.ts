import { spawn } from 'node:child_process';
import { terminal, transient } from '../../shared/errors/index.ts';
import { parseManifests } from './plain.ts';
import type { RenderedObject } from './types.ts';

export const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

export interface KustomizeOptions {
  /** argv prefix of the build command; the directory is appended. Default `kubectl kustomize`. */
  command?: string[];
  timeoutMs?: number;
  maxOutputBytes?: number;
  signal?: AbortSignal;
}

/**
 * Runs the real kustomize (as Argo CD does) so users get exactly `kustomize build` output. The
 * default load restrictor keeps it inside the directory; no Helm, no exec plugins; a scrubbed
 * environment so no credential of ours can reach a generator.
 */
export async function renderKustomization(dir: string, label: string, options: KustomizeOptions = {}): Promise<RenderedObject[]> {
  const [command, ...prefix] = options.command ?? ['kubectl', 'kustomize'];
  const args = [...prefix, '--', dir];
  const timeoutMs = options.timeoutMs ?? 60_000;
  const maxBytes = options.maxOutputBytes ?? 64 * 1024 * 1024;
  const { code, stdout, stderr, timedOut, size } = await new Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean; size: number }>((resolve, reject) => {
    const child = spawn(command as string, args, {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOME: dir, KUBECONFIG: '/dev/null' },
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: options.signal,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) child.kill('SIGKILL');
      else out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), timedOut, size });
    });
  }).catch((err: unknown) => {
    throw transient('KustomizeUnavailable', `cannot run ${command}: ${(err as Error).message}`, err);
  });
  if (timedOut) throw terminal('KustomizeBuildFailed', `kustomize build of ${label} took longer than ${timeoutMs / 1000}s`);
  if (size > maxBytes) throw terminal('KustomizeBuildFailed', `kustomize build of ${label} produced more than ${maxBytes} bytes`);
  if (code !== 0) {
    const message = stderr.trim().split('\n').filter(Boolean).slice(-3).join('; ').replaceAll(dir, label);
    throw terminal('KustomizeBuildFailed', `kustomize build of ${label} failed: ${message || `exit code ${code}`}`, 'fix the kustomization in Git');
  }
  return parseManifests(stdout, `${label} (kustomize build)`);
}
