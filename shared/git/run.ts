import { spawn } from 'node:child_process';
import { TidemarkError } from '../errors/index.ts';
import { silentLogger } from '../log/index.ts';
import { recordGitOperation } from '../metrics/index.ts';
import { formatDuration } from '../time/duration.ts';
import { classifyGitFailure, GitErrorCode, gitError } from './errors.ts';
import type { GitOperationOptions } from './types.ts';
import { ALLOWED_PROTOCOLS } from './validate.ts';
import { timerDelay } from '../time/timer.ts';

/** Parent variables that would change what git or ssh does behind our back. */
// EDITOR, VISUAL and PAGER too: git could run them (a rebase, a long log).
const INHERITED_DROP = /^(GIT_|SSH_ASKPASS|SSH_AUTH_SOCK$|TIDEMARK_GIT_|LANG$|LANGUAGE$|LC_|EDITOR$|VISUAL$|PAGER$)/;

/**
 * The complete environment of a git child: the parent's minus anything git-related, English
 * messages (the error mapping reads them), no prompts, no system or user config (so no helper
 * stores credentials and no `insteadOf` rewrites URLs), and only the allowed transports.
 */
export function gitEnvironment(
  extra: Readonly<Record<string, string>> = {},
  config: ReadonlyArray<readonly [string, string]> = [],
  parent: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(parent)) if (value !== undefined && !INHERITED_DROP.test(key)) env[key] = value;
  Object.assign(env, {
    LC_ALL: 'C',
    LANGUAGE: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_ALLOW_PROTOCOL: ALLOWED_PROTOCOLS.join(':'),
    GIT_OPTIONAL_LOCKS: '0',
  });
  // An empty helper list: nothing may cache or store what askpass answers.
  const entries: Array<readonly [string, string]> = [['credential.helper', ''], ...config];
  env['GIT_CONFIG_COUNT'] = String(entries.length);
  entries.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return { ...env, ...extra };
}

export interface RunGitOptions extends GitOperationOptions {
  /** Working directory; must exist. */
  cwd: string;
  /** The full child environment, from gitEnvironment(). */
  env: Record<string, string>;
  /** Names the operation in errors (`ls-remote`, `push`). */
  operation: string;
  /** Repository URL for messages; never carries credentials (validated before). */
  url?: string;
  /** Values to scrub from git's output before it reaches an error. */
  secrets?: readonly string[];
  /** Default deadline when the caller gave none. */
  defaultTimeoutMs: number;
}

/** What a git child may print before it is stopped: refs of the largest monorepos fit many times over. */
export const MAX_STDOUT_BYTES = 256 * 1024 * 1024;
/** stderr is only read for the error mapping; its end holds the fatal line. */
const MAX_STDERR_BYTES = 1024 * 1024;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  spawnError: Error | undefined;
  overflow: boolean;
}

/**
 * Runs one git command and returns its stdout. Every failure becomes a TidemarkError with a code
 * from the stderr mapping.
 *
 * git runs in its own process group (`detached`), so a deadline or an abort kills git and every
 * helper it started (git-remote-http, ssh) with one signal to the group; killing git alone leaves
 * its remote helper blocked on a server that may never answer. Daemons that leave the group on
 * purpose (gpg-agent, a detached `gc --auto`) call setsid() and are not touched. No shell: `args` is the
 * argv, validated by the callers (values after `--`), and credentials are only ever in the files
 * the environment points at (askpass, ssh command), never in `args`.
 */
export async function runGit(args: readonly string[], options: RunGitOptions): Promise<string> {
  try {
    const stdout = await execGit(args, options);
    recordGitOperation(options.operation, undefined);
    return stdout;
  } catch (err) {
    // A cancelled operation has no outcome to count.
    if (!options.signal?.aborted) recordGitOperation(options.operation, failureReason(err));
    throw err;
  }
}

/** The Reason of a failed Git operation, for its metric; `Other` when it has none. */
export function failureReason(err: unknown): string {
  return err instanceof TidemarkError ? err.code : 'Other';
}

async function execGit(args: readonly string[], options: RunGitOptions): Promise<string> {
  const timeoutMs = options.timeoutMs ?? options.defaultTimeoutMs;
  const log = options.logger ?? silentLogger;
  if (options.signal?.aborted) throw options.signal.reason;
  options.onCommand?.([...args]);
  log.debug({ args: [...args], cwd: options.cwd }, 'git command');

  let timedOut = false;
  const exit = await new Promise<Exit>((resolve) => {
    const child = spawn('git', [...args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = Buffer.alloc(0);
    let overflow = false;
    let spawnError: Error | undefined;
    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // ESRCH: the group is gone already.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timerDelay(timeoutMs));
    const onAbort = () => killGroup();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > MAX_STDOUT_BYTES) {
        overflow = true;
        killGroup();
        return;
      }
      stdout.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = Buffer.concat([stderr, chunk]);
      if (stderr.length > MAX_STDERR_BYTES) stderr = stderr.subarray(stderr.length - MAX_STDERR_BYTES);
    });
    child.once('error', (err) => {
      spawnError = err;
    });
    // Nothing git started in its group outlives it (and holds our pipes open).
    child.once('exit', killGroup);
    // 'close' comes after the exit and after both pipes are drained.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ code, signal, stdout: Buffer.concat(stdout).toString('utf8'), stderr: stderr.toString('utf8'), spawnError, overflow });
    });
  });

  // The caller's abort first: when its deadline (the agent's spec.timeout budget) ends together
  // with git's own copy of it, the caller's reason says more than "git timed out" would.
  if (options.signal?.aborted) throw options.signal.reason;
  if (timedOut) throw gitError(GitErrorCode.Unreachable, `git ${options.operation} timed out after ${formatDuration(timeoutMs)}`);
  if (exit.overflow)
    throw gitError(GitErrorCode.CommandFailed, `git ${options.operation} printed more than ${MAX_STDOUT_BYTES / 1024 / 1024} MiB`);
  if (exit.spawnError) {
    const missing = (exit.spawnError as NodeJS.ErrnoException).code === 'ENOENT';
    throw gitError(
      GitErrorCode.CommandFailed,
      missing ? 'git is not installed (no git on PATH)' : `cannot run git: ${exit.spawnError.message}`,
      missing ? 'install git' : undefined,
      exit.spawnError,
    );
  }
  if (exit.code === 0) return exit.stdout;
  throw classifyGitFailure(
    {
      operation: options.operation,
      url: options.url,
      stderr: exit.stderr || `git was killed by ${exit.signal ?? 'a signal'}`,
      stdout: exit.stdout,
      exitCode: exit.code ?? -1,
    },
    options.secrets,
  );
}
