import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { simpleGit } from 'simple-git';
import { TidemarkError } from '../errors/index.ts';
import { silentLogger } from '../log/index.ts';
import { formatDuration } from '../time/duration.ts';
import { classifyGitFailure, GitErrorCode, gitError } from './errors.ts';
import type { GitOperationOptions } from './types.ts';
import { ALLOWED_PROTOCOLS } from './validate.ts';

/** Parent variables that would change what git or ssh does behind our back. */
// EDITOR, VISUAL and PAGER too: git could run them (a rebase, a long log), and simple-git refuses them.
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

class GitExit extends Error {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  constructor(exitCode: number, stdout: string, stderr: string) {
    super(`git exited with ${exitCode}`);
    this.exitCode = exitCode;
    this.stdout = stdout;
    this.stderr = stderr;
  }
}

/**
 * Runs one git command through simple-git and returns its stdout. Every failure becomes a
 * TidemarkError with a code from the stderr mapping; a deadline kills the process.
 */
export async function runGit(args: readonly string[], options: RunGitOptions): Promise<string> {
  const timeoutMs = options.timeoutMs ?? options.defaultTimeoutMs;
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;
  const log = options.logger ?? silentLogger;
  const marker = randomUUID();
  options.onCommand?.([...args]);
  log.debug({ args: [...args], cwd: options.cwd }, 'git command');

  const git = simpleGit({
    baseDir: options.cwd,
    binary: 'git',
    maxConcurrentProcesses: 1,
    abort: signal,
    trimmed: false,
    // Our own environment sets these on purpose; simple-git refuses them unless told.
    unsafe: {
      allowUnsafeAskPass: true,
      allowUnsafeSshCommand: true,
      allowUnsafeConfigEnvCount: true,
      allowUnsafeConfigPaths: true,
      allowUnsafeCredentialHelper: true,
    },
    errors: (error, result) => {
      if (error) return error;
      if (result.exitCode === 0) return undefined;
      return new GitExit(result.exitCode, Buffer.concat(result.stdOut).toString('utf8'), Buffer.concat(result.stdErr).toString('utf8'));
    },
  }).env({ ...options.env, [OPERATION_MARKER]: marker });

  try {
    return await git.raw([...args]);
  } catch (err) {
    if (signal.aborted) await killMarked(marker);
    if (err instanceof TidemarkError) throw err;
    if (deadline.aborted) {
      throw gitError(GitErrorCode.Unreachable, `git ${options.operation} timed out after ${formatDuration(timeoutMs)}`, undefined);
    }
    if (options.signal?.aborted) throw options.signal.reason;
    const exit = findGitExit(err);
    if (exit) {
      throw classifyGitFailure(
        {
          operation: options.operation,
          url: options.url,
          stderr: exit.stderr,
          stdout: exit.stdout,
          exitCode: exit.exitCode,
        },
        options.secrets,
      );
    }
    const message = err instanceof Error ? err.message : String(err);
    throw classifyGitFailure({ operation: options.operation, url: options.url, stderr: message }, options.secrets);
  }
}

/** Every process of one git invocation inherits this variable, so an abort can find them all. */
const OPERATION_MARKER = 'TIDEMARK_GIT_OPERATION';

/**
 * simple-git stops only the git process it started; git leaves its remote helper
 * (git-remote-http, ssh) running, blocked on a server that may never answer. Kill everything
 * that carries this invocation's marker (Linux /proc; elsewhere nothing to do).
 */
async function killMarked(marker: string): Promise<void> {
  const needle = `${OPERATION_MARKER}=${marker}\0`;
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid);
  } catch {
    return;
  }
  await Promise.all(
    pids.map(async (pid) => {
      try {
        if ((await readFile(`/proc/${pid}/environ`, 'latin1')).includes(needle)) process.kill(Number(pid), 'SIGKILL');
      } catch {
        // Gone, or not ours to read.
      }
    }),
  );
}

function findGitExit(err: unknown): GitExit | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 4; depth++) {
    if (e instanceof GitExit) return e;
    e = (e as { task?: unknown; cause?: unknown }).cause;
  }
  return undefined;
}
