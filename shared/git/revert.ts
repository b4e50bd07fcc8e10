import { TidemarkError } from '../errors/index.ts';
import { GitErrorCode } from './errors.ts';
import { gitEnvironment, runGit } from './run.ts';
import type { GitAuthor, GitOperationOptions } from './types.ts';
import { commitAll, headOf } from './update.ts';
import { validateCommitSha } from './validate.ts';

const LOCAL_TIMEOUT_MS = 2 * 60_000;

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
