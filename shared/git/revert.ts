import { join } from 'node:path';
import { TidemarkError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { silentLogger } from '../log/index.ts';
import { prepareAuth } from './credentials.ts';
import { GitErrorCode } from './errors.ts';
import { FETCH_LIMITS, watchDownload } from './fetch.ts';
import { gitEnvironment, runGit } from './run.ts';
import { operationOptions } from './job-options.ts';
import { privateTempDir } from './temp-dirs.ts';
import type { GitAuthor, GitCredentials, GitOperationOptions } from './types.ts';
import { cloneForUpdate, commitAll, headOf, push } from './update.ts';
import { validateCommitSha, validateRefName, validateRepositoryUrl } from './validate.ts';

const LOCAL_TIMEOUT_MS = 2 * 60_000;
const FETCH_TIMEOUT_MS = 5 * 60_000;
const DEFAULT_ATTEMPTS = 4;

/**
 * The message of a revert made for someone: git's own first lines, so tools that recognise
 * reverts still do, and a trailer naming who asked (the committer is the tool, not the person).
 */
export function revertMessage(subject: string, sha: string, requestedBy: string): string {
  const commit = validateCommitSha(sha);
  const name = requestedBy.replace(/[\r\n]+/g, ' ').trim();
  return `Revert "${subject.replace(/[\r\n]+/g, ' ')}"\n\nThis reverts commit ${commit}.\n\nReverted-by: ${name}\n`;
}

/**
 * Reverts `sha` onto the checkout's HEAD and commits it as `committer`; returns the new commit.
 * The checkout needs the commit and its parent (clone deep enough). A revert that does not apply
 * cleanly is aborted, leaving HEAD and the tree as they were, and throws GitRevertConflict.
 */
export async function revertCommit(
  dir: string,
  sha: string,
  message: string,
  committer: GitAuthor,
  options: GitOperationOptions = {},
): Promise<string> {
  const commit = validateCommitSha(sha);
  const git = (args: string[], operation: string) =>
    runGit(args, { ...options, cwd: dir, env: gitEnvironment(), operation, defaultTimeoutMs: LOCAL_TIMEOUT_MS });
  try {
    // The sha is validated hex, so it cannot be read as an option.
    await git(['revert', '--no-commit', '--no-edit', commit], 'revert');
  } catch (err) {
    await git(['revert', '--abort'], 'revert').catch(() => undefined);
    if (err instanceof TidemarkError && err.code === GitErrorCode.CommandFailed) {
      throw new TidemarkError('GitRevertConflict', `reverting ${commit.slice(0, 12)} does not apply onto the branch: ${err.message}`, {
        kind: 'terminal',
        hint: 'revert it by hand and resolve the conflict, or revert the newer commits first',
        cause: err,
      });
    }
    throw err;
  }
  const made = await commitAll(dir, message, committer, options);
  // Reverting a commit whose change is already gone changes nothing: say so rather than push nothing.
  if (made === null) {
    throw new TidemarkError('GitRevertConflict', `reverting ${commit.slice(0, 12)} changes nothing: the branch no longer has its change`, {
      kind: 'terminal',
    });
  }
  return headOf(dir, options);
}

export interface RevertRequest {
  url: string;
  credentials: GitCredentials | undefined;
  /** Send the credentials over plain http:// too (the deployment's spec.insecure). */
  allowInsecureHttp?: boolean | undefined;
  branch: string;
  /** The commit to revert. */
  sha: string;
  /** Who asked: the `Reverted-by` trailer of the message (revertMessage(), with the commit's own subject). */
  requestedBy: string;
  committer: GitAuthor;
  /** Attempts when the branch moves under us (the push is rejected); default 4. */
  maxAttempts?: number | undefined;
  /** Deadline of each git operation. */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  log?: Logger | undefined;
  onCommand?: ((args: readonly string[]) => void) | undefined;
}

export interface RevertOutcome {
  /** The revert commit, now the branch's tip. */
  commit: string;
  /** The tip it was made on. */
  base: string;
  attempts: number;
}

/**
 * Clone → revert → push onto a user's branch, never forced. The clone is shallow; the commit and
 * its parent (all a revert reads besides the tip) are fetched by id. When someone pushed first,
 * the whole step runs again on their new tip, up to `maxAttempts`, then fails with GitPushRejected.
 * A branch tip that already reverts `sha` is refused (GitRevertConflict) rather than reverted twice.
 */
export async function revertOntoBranch(request: RevertRequest): Promise<RevertOutcome> {
  const checked = validateRepositoryUrl(request.url);
  validateRefName('branch', request.branch);
  const sha = validateCommitSha(request.sha);
  const maxAttempts = request.maxAttempts ?? DEFAULT_ATTEMPTS;
  const log = request.log ?? silentLogger;
  const ops = operationOptions(request, log);
  let lastRejection: TidemarkError | undefined;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    request.signal?.throwIfAborted();
    const work = await privateTempDir('revert');
    try {
      const dir = join(work.path, 'checkout');
      const checkout = await cloneForUpdate(checked.url, request.credentials, request.branch, dir, { ...ops, depth: 1 });
      await fetchCommitWithParent(dir, checked.url, sha, request.credentials, ops);
      if (await revertsAlready(dir, sha, ops)) {
        throw new TidemarkError('GitRevertConflict', `the tip of ${request.branch} already reverts ${sha.slice(0, 12)}`, {
          kind: 'terminal',
          hint: 'nothing to do: the revert is the newest commit; revert that revert to bring the change back',
        });
      }
      const message = revertMessage(await subjectOf(dir, sha, ops), sha, request.requestedBy);
      await revertCommit(dir, sha, message, request.committer, ops);
      const commit = await push(dir, request.branch, { ...ops, credentials: request.credentials });
      return { commit, base: checkout.head, attempts: attempt };
    } catch (err) {
      if (!(err instanceof TidemarkError) || err.code !== GitErrorCode.PushRejected) throw err;
      lastRejection = err;
      log.info({ branch: request.branch, attempt, maxAttempts }, 'revert push rejected; the branch moved, reverting again on its new tip');
    } finally {
      await work.remove();
    }
  }
  throw new TidemarkError(
    GitErrorCode.PushRejected,
    `branch ${request.branch} kept moving: the push was rejected ${maxAttempts} times (${lastRejection?.message ?? 'no detail'})`,
    { kind: 'transient', cause: lastRejection, hint: 'try again when the branch is quiet' },
  );
}

/** Fetches `sha` and its parent into a shallow checkout (a revert merges their difference onto the tip). */
async function fetchCommitWithParent(
  dir: string,
  url: string,
  sha: string,
  creds: GitCredentials | undefined,
  options: GitOperationOptions,
): Promise<void> {
  const auth = await prepareAuth(creds, validateRepositoryUrl(url), options.allowInsecureHttp);
  const watch = await watchDownload(join(dir, '.git', 'objects', 'pack'), FETCH_LIMITS.maxFetchBytes, options.signal);
  try {
    // The sha is validated hex after `--`, so it cannot be read as an option.
    await runGit(['fetch', '--quiet', '--no-tags', '--depth=2', '--', url, sha], {
      ...options,
      signal: watch.signal,
      cwd: dir,
      env: gitEnvironment(auth.env),
      operation: 'fetch',
      url,
      secrets: auth.secrets,
      defaultTimeoutMs: FETCH_TIMEOUT_MS,
    });
    await watch.check();
  } finally {
    watch.stop();
    await auth.dispose();
  }
}

async function subjectOf(dir: string, sha: string, options: GitOperationOptions): Promise<string> {
  const subject = await runGit(['log', '-1', '--format=%s', sha], {
    ...options,
    cwd: dir,
    env: gitEnvironment(),
    operation: 'log',
    defaultTimeoutMs: LOCAL_TIMEOUT_MS,
  });
  return subject.trim();
}

/** The tip's message says it reverts `sha` (git's own line, which revertMessage() keeps). */
async function revertsAlready(dir: string, sha: string, options: GitOperationOptions): Promise<boolean> {
  const body = await runGit(['log', '-1', '--format=%B', 'HEAD'], {
    ...options,
    cwd: dir,
    env: gitEnvironment(),
    operation: 'log',
    defaultTimeoutMs: LOCAL_TIMEOUT_MS,
  });
  return body.includes(`This reverts commit ${sha}.`);
}
