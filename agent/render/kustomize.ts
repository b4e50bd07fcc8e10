import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { terminal, transient, type Reason, type TidemarkError } from '../../shared/errors/index.ts';
import { checkKustomizationReferences } from './kustomization-refs.ts';
import type { RenderBudget } from './limits.ts';
import { parseManifests } from './manifests.ts';
import { label } from './paths.ts';
import { manifestTooLarge, MAX_KUSTOMIZE_OUTPUT_BYTES } from './size-limits.ts';
import type { RenderedObject } from './types.ts';
import { timerDelay } from '../../shared/time/timer.ts';

export { KUSTOMIZATION_FILES } from './kustomization-refs.ts';

export interface KustomizeOptions {
  /**
   * argv prefix of the build command; the directory is appended. Default `kubectl kustomize`
   * (kubectl 1.35 bundles kustomize 5.7); `['/usr/local/bin/kustomize', 'build']` works too. It
   * runs with an empty PATH, so it must be a binary, not a script that looks things up on PATH.
   */
  command?: string[] | undefined;
  /** Where to look for a command given without a path. Default: this process's PATH. */
  searchPath?: string | undefined;
  /** A bound of the build alone; the render's deadline (RenderLimits.timeoutMs) applies anyway. */
  timeoutMs?: number | undefined;
  /** A bound of the build's output alone; the render's maxBytes applies anyway. */
  maxOutputBytes?: number | undefined;
  /** Default: the render's signal. */
  signal?: AbortSignal | undefined;
}

const MAX_STDERR = 64 * 1024;

/**
 * Runs the real kustomize (as Argo CD and Flux do), so users get exactly `kustomize build`
 * output. Hardening: every referenced path is checked first (kustomization-refs.ts); the load
 * restrictor is pinned to root-only; no Helm, no exec or alpha plugins (never enabled); the
 * child gets an empty PATH (no git, so no remote clones), an HTTP proxy that goes nowhere (for
 * anything but loopback, which Go never proxies: the reference check is what refuses remote
 * files), a throw-away HOME, and none of our environment (no credential of ours can reach a
 * generator). Bounded by the render's budget (its deadline, bytes and objects) and by the
 * build's own timeout and output size; a failure is KustomizeBuildFailed with kustomize's last
 * words.
 */
export async function renderKustomization(
  root: string,
  dir: string,
  budget: RenderBudget,
  options: KustomizeOptions = {},
): Promise<RenderedObject[]> {
  const where = label(root, dir);
  await checkKustomizationReferences(root, dir, budget);
  budget.check();
  const [name, ...prefix] = options.command ?? ['kubectl', 'kustomize'];
  if (!name) throw terminal('KustomizeUnavailable', 'the kustomize command is empty', 'configure the kustomize command');
  const executable = await findExecutable(name, options.searchPath ?? process.env.PATH ?? '', () =>
    transient('KustomizeUnavailable', `cannot find the kustomize command ${JSON.stringify(name)}`),
  );
  const remainingMs = budget.remainingMs();
  const ownTimeout = options.timeoutMs !== undefined && options.timeoutMs <= remainingMs;
  const timeoutMs = ownTimeout ? options.timeoutMs! : remainingMs;
  const cap = options.maxOutputBytes ?? MAX_KUSTOMIZE_OUTPUT_BYTES;
  const bytesLeft = budget.bytesLeft();
  const ownMaxBytes = cap <= bytesLeft;
  const maxBytes = ownMaxBytes ? cap : bytesLeft;
  const signal = options.signal ?? budget.signal;

  const home = await mkdtemp(join(tmpdir(), 'tidemark-kustomize-'));
  try {
    const run = await runBounded(executable, [...prefix, '--load-restrictor', 'LoadRestrictionsRootOnly', '--', dir], {
      cwd: home,
      env: {
        PATH: '',
        HOME: home,
        KUBECONFIG: '/dev/null',
        HTTP_PROXY: 'http://127.0.0.1:9',
        HTTPS_PROXY: 'http://127.0.0.1:9',
        NO_PROXY: '',
        KUSTOMIZE_PLUGIN_HOME: join(home, 'plugins'),
      },
      timeoutMs,
      maxBytes,
      signal,
    });
    if (run.aborted) throw signal?.reason ?? new Error('aborted');
    if (run.timedOut) {
      if (!ownTimeout) throw budget.timeExceeded();
      throw terminal(
        'KustomizeBuildFailed',
        `kustomize build of ${where} took longer than ${timeoutMs / 1000}s`,
        'simplify the kustomization or raise the timeout',
      );
    }
    if (run.overflow) {
      if (!ownMaxBytes) throw budget.bytesExceeded();
      throw manifestTooLarge(`the output of kustomize build of ${where}`, maxBytes, 'split the kustomization into smaller ones');
    }
    if (run.code !== 0) {
      const said = shorten(run.stderr.split(root).join('.'));
      throw terminal(
        'KustomizeBuildFailed',
        `kustomize build of ${where} failed: ${said || `exit code ${run.code ?? run.signal}`}`,
        'fix the kustomization in Git',
      );
    }
    budget.bytes(Buffer.byteLength(run.stdout));
    const objects = parseManifests(run.stdout, `${where} (kustomize build)`);
    budget.objects(objects.length);
    return objects;
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/**
 * The program `name` as exec would find it: a path as given, else the first executable of that
 * name in an absolute directory of `searchPath` (relative entries would resolve in the checkout).
 */
export async function findExecutable(name: string, searchPath: string, missing: () => TidemarkError): Promise<string> {
  const candidates = name.includes('/')
    ? [name]
    : searchPath
        .split(delimiter)
        .filter((d) => isAbsolute(d))
        .map((d) => join(d, name));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  throw missing();
}

/** The last lines kustomize printed, on one line, short enough for a condition message. */
function shorten(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const text = lines.slice(-3).join('; ');
  return text.length > 1024 ? `${text.slice(0, 1021)}...` : text;
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  overflow: boolean;
  aborted: boolean;
}

/** Runs a render tool (kustomize, helm) with a deadline, an output cap and the render's abort signal. */
export function runBounded(
  command: string,
  args: string[],
  opts: {
    cwd: string;
    env: Record<string, string>;
    timeoutMs: number;
    maxBytes: number;
    signal?: AbortSignal | undefined;
    /** The reason when the command cannot be started; default KustomizeUnavailable. */
    unavailable?: Reason | undefined;
  },
): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    if (opts.signal?.aborted) {
      resolvePromise({
        code: null,
        signal: null,
        stdout: '',
        stderr: '',
        timedOut: false,
        overflow: false,
        aborted: true,
      });
      return;
    }
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let timedOut = false;
    let overflow = false;
    let aborted = false;
    const kill = () => child.kill('SIGKILL');
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timerDelay(opts.timeoutMs));
    const onAbort = () => {
      aborted = true;
      kill();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > opts.maxBytes) {
        overflow = true;
        kill();
      } else out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (errBytes < MAX_STDERR) err.push(chunk);
      errBytes += chunk.length;
    });
    const done = () => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    child.on('error', (e) => {
      done();
      reject(transient(opts.unavailable ?? 'KustomizeUnavailable', `cannot run ${command}: ${e.message}`, e));
    });
    child.on('close', (code, signal) => {
      done();
      resolvePromise({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
        overflow,
        aborted,
      });
    });
  });
}
