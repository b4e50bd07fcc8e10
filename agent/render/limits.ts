import { open } from 'node:fs/promises';
import type { TidemarkError } from '../../shared/errors/index.ts';
import { terminal } from '../../shared/errors/index.ts';
import type { Clock } from '../../shared/time/clock.ts';
import { abortReason } from '../../shared/time/clock.ts';
import { manifestTooLarge, MAX_MANIFEST_FILE_BYTES } from './size-limits.ts';
import { decodeUtf8 } from './utf8.ts';

/**
 * The bounds of one render. A repository is written by whoever controls it, so what it costs to
 * render must not depend on its good will: past any of these the render stops with a terminal
 * RenderTooLarge that names the limit and what to change.
 */
export interface RenderLimits {
  /**
   * Directory entries a plain render reads (files, directories and links; entries whose names
   * start with a dot count too, as they are read before they are skipped); for a kustomization,
   * the kustomizations its build instantiates, a base counted each time it is included.
   */
  maxFiles: number;
  /** Bytes read: manifests of a plain render, kustomization files, and kustomize's output. */
  maxBytes: number;
  /** Objects rendered. */
  maxObjects: number;
  /** Wall-clock time for the whole render, kustomize included: the deployment's spec.timeout. */
  timeoutMs: number;
}

/** Limits as options take them: any left out (or undefined) keeps its default. */
export type RenderLimitOptions = { [K in keyof RenderLimits]?: number | undefined };

export const DEFAULT_RENDER_LIMITS: Readonly<RenderLimits> = {
  maxFiles: 10_000,
  maxBytes: 64 * 1024 * 1024,
  maxObjects: 20_000,
  timeoutMs: 60_000,
};

/** What a render did so far; for tests and logs (it is filled in as the render goes). */
export interface RenderStats {
  /** Directory entries read (plain render). */
  entries: number;
  /** Directories walked (plain render); each real directory once. */
  directories: number;
  /** Files read (manifests, kustomization files); each real file once. */
  files: number;
  bytes: number;
  objects: number;
  /** Kustomizations a build instantiates, a base counted each time it is included. */
  kustomizations: number;
}

export function emptyStats(): RenderStats {
  return { entries: 0, directories: 0, files: 0, bytes: 0, objects: 0, kustomizations: 0 };
}

/** Where the agent's own limits are set; named in the hints. */
const FLAG = {
  maxFiles: '--render-max-files',
  maxBytes: '--render-max-bytes',
  maxObjects: '--render-max-objects',
} as const;

/** The limits of one render, its clock and its abort signal, and what it has spent of them. */
export class RenderBudget {
  /** The rendered path as users see it, for messages. */
  readonly where: string;
  readonly limits: Readonly<RenderLimits>;
  readonly stats: RenderStats;
  private readonly now: () => number;
  private readonly deadline: number;
  readonly signal: AbortSignal | undefined;

  constructor(
    where: string,
    options: {
      limits?: RenderLimitOptions | undefined;
      clock?: Pick<Clock, 'now'> | undefined;
      signal?: AbortSignal | undefined;
      stats?: RenderStats | undefined;
    } = {},
  ) {
    this.where = where;
    this.limits = { ...DEFAULT_RENDER_LIMITS, ...definedOnly(options.limits ?? {}) };
    this.stats = options.stats ?? emptyStats();
    const clock = options.clock;
    this.now = clock ? () => clock.now() : Date.now;
    this.deadline = this.now() + this.limits.timeoutMs;
    this.signal = options.signal;
  }

  /** Milliseconds left before the deadline (at least 1, so a child process still gets a timer). */
  remainingMs(): number {
    return Math.max(1, this.deadline - this.now());
  }

  /** Throws the abort reason, or RenderTooLarge once the deadline has passed. */
  check(): void {
    if (this.signal?.aborted) throw abortReason(this.signal);
    if (this.now() > this.deadline) throw this.timeExceeded();
  }

  timeExceeded(): TidemarkError {
    return tooLarge(
      `rendering ${this.where} took longer than ${this.limits.timeoutMs / 1000}s`,
      'raise spec.timeout, or point spec.path at a smaller directory',
    );
  }

  entry(): void {
    if (++this.stats.entries > this.limits.maxFiles) {
      throw tooLarge(
        `${this.where} holds more than ${this.limits.maxFiles} files and directories`,
        `point spec.path at a smaller directory, or raise the agent's ${FLAG.maxFiles}`,
      );
    }
  }

  directory(): void {
    this.stats.directories++;
    this.check();
  }

  /** Bytes still allowed; a file larger than this is refused before it is read. */
  bytesLeft(): number {
    return this.limits.maxBytes - this.stats.bytes;
  }

  file(bytes: number): void {
    this.stats.files++;
    this.bytes(bytes);
  }

  bytes(bytes: number): void {
    this.stats.bytes += bytes;
    if (this.stats.bytes > this.limits.maxBytes) throw this.bytesExceeded();
  }

  bytesExceeded(): TidemarkError {
    return tooLarge(
      `the files rendered for ${this.where} add up to more than ${this.limits.maxBytes} bytes`,
      `split the manifests across ContinuousDeployments, or raise the agent's ${FLAG.maxBytes}`,
    );
  }

  objects(count: number): void {
    this.stats.objects += count;
    if (this.stats.objects > this.limits.maxObjects) {
      throw tooLarge(
        `${this.where} renders more than ${this.limits.maxObjects} objects`,
        `split the objects across ContinuousDeployments, or raise the agent's ${FLAG.maxObjects}`,
      );
    }
  }

  /** `count` more kustomization instantiations, found under `at` (a checkout-relative label). */
  kustomizations(count: number, at: string): void {
    this.stats.kustomizations = Math.max(this.stats.kustomizations, count);
    if (count > this.limits.maxFiles) {
      throw tooLarge(
        `the kustomization ${at} builds more than ${this.limits.maxFiles} kustomizations (a base counts each time it is included)`,
        `include each base once, or raise the agent's ${FLAG.maxFiles}`,
      );
    }
  }
}

function tooLarge(message: string, hint: string): TidemarkError {
  return terminal('RenderTooLarge', message, hint);
}

function definedOnly(limits: RenderLimitOptions): Partial<RenderLimits> {
  const out: Partial<RenderLimits> = {};
  for (const key of Object.keys(limits) as Array<keyof RenderLimits>) {
    const value = limits[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/**
 * The text of a regular file, counted against the budget's bytes and held to the per-file cap: a
 * file larger than either is refused before it is read, and one that grows while it is read is
 * cut off at the limit. The per-file cap is ManifestTooLarge (split the file); the budget's is
 * RenderTooLarge (the whole path is too big). Text that is not UTF-8 is ManifestParseFailed.
 */
export async function readFileWithin(
  path: string,
  budget: RenderBudget,
  label: string,
  maxFileBytes = MAX_MANIFEST_FILE_BYTES,
): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const left = budget.bytesLeft();
    const max = Math.min(left, maxFileBytes);
    const tooLarge = () =>
      maxFileBytes < left ? manifestTooLarge(label, maxFileBytes, 'split the file into smaller ones in Git') : budget.bytesExceeded();
    if ((await handle.stat()).size > max) throw tooLarge();
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(64 * 1024);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > max) throw tooLarge();
      chunks.push(chunk.subarray(0, bytesRead));
    }
    budget.file(length);
    return decodeUtf8(Buffer.concat(chunks, length), label);
  } finally {
    await handle.close();
  }
}
