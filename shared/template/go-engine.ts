/**
 * Go's own text/template + Sprig as WebAssembly (go/, built by scripts/build-template-wasm.sh),
 * run in a worker thread, for commit messages (image updater) and alert messages (notification).
 * Requests queue for one worker. The module costs ~30–70 MiB while loaded and 0.2–2.7 s of CPU to
 * start (compile, instantiate, Go's runtime), and messages come in bursts (every automation whose
 * policy moved, one after another): the worker is kept for a burst and ended once it has been
 * idle for `idleMs`.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { TemplateError, type TemplateErrorCode } from './errors.ts';

/** One use of the engine: the data model Go decodes the data into, Go's name for the template, the codes. */
export interface TemplateKind {
  /** Go's name for the template: errors read `template: <name>:1: ...`. */
  name: string;
  /**
   * `commit`: Flux's commit message data from a list of changes (go/update); `commit-compact`:
   * the same from the changes with every distinct string once; `event`: Flux's eventv1.Event (go/event).
   */
  model: 'commit' | 'commit-compact' | 'event';
  codes: { parse: TemplateErrorCode; execute: TemplateErrorCode; missing: TemplateErrorCode };
}

export const COMMIT_MESSAGE: TemplateKind = {
  name: 'commit message',
  model: 'commit',
  codes: { parse: 'InvalidCommitTemplate', execute: 'CommitTemplateFailed', missing: 'CommitTemplateEngineMissing' },
};

/** The commit message over the compact form of the changes (update.CompactInput in go/update). */
export const COMPACT_COMMIT_MESSAGE: TemplateKind = { ...COMMIT_MESSAGE, model: 'commit-compact' };

/** An engine that is not installed is the same fault for alerts as for commits: one code, one hint. */
export const ALERT_MESSAGE: TemplateKind = {
  name: 'alert message',
  model: 'event',
  codes: { parse: 'InvalidAlertTemplate', execute: 'AlertTemplateFailed', missing: 'CommitTemplateEngineMissing' },
};

export interface EngineOptions {
  /** Holds commit-template.wasm and wasm_exec.js; default: defaultModuleDir(). */
  moduleDir?: string;
  /** Per request, the module's start-up (~0.2 s) included. */
  timeoutMs?: number;
  maxOutputBytes?: number;
  /** Memory the Go program may use; more makes it exit. */
  maxMemoryBytes?: number;
  /** How long the worker is kept after the queue empties, for the next message of a burst; 0 ends it at once. */
  idleMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_OUTPUT_BYTES = 1 << 20;
export const DEFAULT_MAX_MEMORY_BYTES = 256 << 20;
/** Long enough for a burst of automations (each clones, rewrites and pushes between messages). */
export const DEFAULT_IDLE_MS = 30_000;

/** $TIDEMARK_TEMPLATE_MODULE (the image sets it), else where scripts/setup.sh builds it. */
export function defaultModuleDir(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.TIDEMARK_CACHE || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tidemark');
  return env.TIDEMARK_TEMPLATE_MODULE || join(cache, 'commit-template');
}

let live: { dir: string; maxMemoryBytes: number; worker: Worker } | undefined;
let queued = 0;
let tail: Promise<unknown> = Promise.resolve();
let idleTimer: NodeJS.Timeout | undefined;
let starts = 0;

/** A request or a hold came: the worker is in use, not idle. */
function busy(): void {
  queued++;
  clearTimeout(idleTimer);
  idleTimer = undefined;
}

/** A request was answered or a hold let go: once nothing is queued, the worker is ended now or after idleMs. */
async function done(idleMs: number): Promise<void> {
  if (--queued > 0) return;
  if (idleMs <= 0) return stop();
  clearTimeout(idleTimer);
  // Unreferenced: an idle engine never keeps the process alive.
  idleTimer = setTimeout(() => {
    idleTimer = undefined;
    if (queued === 0) void stop();
  }, idleMs).unref();
}

/** Renders the template over data, or only parses it without. Throws TemplateError with the kind's codes. */
export function runTemplate(
  kind: TemplateKind,
  request: { template: string; data?: unknown },
  options: EngineOptions = {},
): Promise<string> {
  busy();
  const result = tail.then(() => runOne(kind, request, options)).finally(() => done(options.idleMs ?? DEFAULT_IDLE_MS));
  tail = result.catch(() => undefined);
  return result;
}

/**
 * Starts the engine for a request the caller is about to make, so that the module's start-up
 * (~0.2 s in its own thread) overlaps the caller's work; the engine is then held until the
 * returned function lets it go, and ends as after a request once nothing is queued. Never
 * throws: a missing engine is the request's error.
 */
export function prepareEngine(kind: TemplateKind, options: EngineOptions = {}): () => Promise<void> {
  let held = true;
  busy();
  tail = tail.then(() => (held ? ensureLive(kind, options) : undefined)).catch(() => undefined);
  return async () => {
    if (!held) return;
    held = false;
    await done(options.idleMs ?? DEFAULT_IDLE_MS);
  };
}

/** Whether a worker holds the module now (while requests are answered, the engine is held, or idle within idleMs). */
export const engineLoaded = (): boolean => live !== undefined;

/** Workers started in this process so far: a burst of messages should start one. */
export const engineStarts = (): number => starts;

/**
 * Ends an idle worker now (a program shutting down, a test). One in use is left to the usual
 * course: it ends idleMs after its last request (at once with idleMs 0), and while it idles
 * neither it nor its timer keeps the process alive.
 */
export async function releaseEngine(): Promise<void> {
  clearTimeout(idleTimer);
  idleTimer = undefined;
  if (queued === 0) await stop();
}

/** The worker answers for one module and one memory cap (alerts ask less than commit messages); another starts a new one. */
async function ensureLive(kind: TemplateKind, options: EngineOptions): Promise<Worker> {
  const dir = options.moduleDir ?? defaultModuleDir();
  const maxMemoryBytes = options.maxMemoryBytes ?? DEFAULT_MAX_MEMORY_BYTES;
  if (live?.dir !== dir || live.maxMemoryBytes !== maxMemoryBytes) {
    await stop();
    live = { dir, maxMemoryBytes, worker: start(kind, dir, maxMemoryBytes) };
  }
  return live.worker;
}

async function runOne(kind: TemplateKind, request: { template: string; data?: unknown }, options: EngineOptions): Promise<string> {
  const worker = await ensureLive(kind, options);
  const maxOutput = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  const message = JSON.stringify({ ...request, maxOutput, name: kind.name, model: kind.model });
  const raw = await call(kind, worker, message, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const response = JSON.parse(raw) as { output: string; stage?: string; error?: string };
  if (response.error === undefined) return response.output;
  throw new TemplateError(response.stage === 'parse' ? kind.codes.parse : kind.codes.execute, response.error);
}

function start(kind: TemplateKind, dir: string, maxMemoryBytes: number): Worker {
  const missing = ['commit-template.wasm', 'wasm_exec.js'].map((file) => join(dir, file)).filter((path) => !existsSync(path));
  if (missing.length > 0) {
    throw new TemplateError(kind.codes.missing, `the ${kind.name} template engine is not installed: no ${missing.join(', ')}`);
  }
  // The worker silences Go's prints itself (render-worker.ts): piped stdio read here would hold
  // the process open while the worker idles.
  const worker = new Worker(new URL('./render-worker.ts', import.meta.url), { workerData: { dir, maxMemoryBytes } });
  starts++;
  // A request in flight keeps the process alive by its own timer; an idle worker must not.
  worker.unref();
  // A prepared worker may fail before any request listens (call() reports failures during one):
  // its error must not end the process, and the next request starts another.
  worker.on('error', () => undefined);
  worker.once('exit', () => {
    if (live?.worker === worker) live = undefined;
  });
  return worker;
}

async function stop(): Promise<void> {
  const worker = live?.worker;
  live = undefined;
  await worker?.terminate();
}

/** One request; a worker that times out or dies is ended, and the next request starts another. */
async function call(kind: TemplateKind, worker: Worker, request: string, timeoutMs: number): Promise<string> {
  const { promise, resolve, reject } = Promise.withResolvers<string>();
  const onError = (err: Error) => reject(new Error(`failed: ${err.message}`));
  const onExit = (code: number) => reject(new Error(`stopped (exit code ${code})`));
  const timer = setTimeout(() => reject(new Error(`took longer than ${timeoutMs} ms`)), timeoutMs);
  worker.on('message', resolve).on('error', onError).on('exit', onExit).postMessage(request);
  try {
    return await promise;
  } catch (err) {
    await stop();
    throw new TemplateError(kind.codes.execute, `template: ${kind.name}: the template engine ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
    worker.off('message', resolve).off('error', onError).off('exit', onExit);
  }
}
