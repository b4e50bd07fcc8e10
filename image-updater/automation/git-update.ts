import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TidemarkError } from '../../shared/errors/index.ts';
import {
  cloneForUpdate,
  commitAll,
  fetchBranchTip,
  GitErrorCode,
  operationOptions,
  push,
  readCommit,
  validateRefName,
  validateRepositoryUrl,
} from '../../shared/git/index.ts';
import type { GitAuthor, GitCredentials, GitOperationOptions } from '../../shared/git/index.ts';
import type { Logger } from '../../shared/log/index.ts';
import { silentLogger } from '../../shared/log/index.ts';

/** What the rewrite step reports for one checkout: a message when it changed something. */
export interface AppliedUpdate<T> {
  /** The full commit message; null when nothing changed (no commit is made). */
  message: string | null;
  result: T;
}

export interface GitUpdateRequest<T> {
  url: string;
  credentials: GitCredentials | undefined;
  /** Send the credentials over plain http:// too (the source's spec.insecure). */
  allowInsecureHttp?: boolean | undefined;
  checkoutBranch: string;
  /** Equal to checkoutBranch: commit on top of it. Different: the bot's branch, rebuilt from the checkout branch. */
  pushBranch: string;
  author: GitAuthor;
  /** Armored OpenPGP or OpenSSH private key. */
  signingKey?: string | undefined;
  /** Parent directory of the temporary checkouts (one per attempt, removed after it). */
  workRoot: string;
  /**
   * Rewrites a fresh checkout of the checkout branch's current head. Runs again on each attempt,
   * so after someone else's push the markers are evaluated against their content.
   */
  apply(dir: string): Promise<AppliedUpdate<T>>;
  /** Attempts when the branch moves under us (a push is rejected); default 4. */
  maxAttempts?: number | undefined;
  /** Deadline of each git operation. */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  log?: Logger | undefined;
  onCommand?: ((args: readonly string[]) => void) | undefined;
}

export type GitUpdateOutcome<T> =
  | { kind: 'pushed'; commit: string; base: string; branch: string; attempts: number; result: T }
  /** Nothing to commit, or (push branch) the bot's branch already holds exactly this change on this base. */
  | { kind: 'unchanged'; base: string; result: T; reason: 'no-change' | 'branch-current' };

const DEFAULT_ATTEMPTS = 4;

/**
 * Clone → rewrite → commit → push, idempotently. On the user's branch the push is never forced:
 * when someone else pushed first, the whole step runs again on their new head (re-applying the
 * update rather than rebasing text), up to `maxAttempts`, then fails with GitPushRejected
 * (transient) so the next run tries again — their commit is never lost, ours never silently.
 * A separate push branch belongs to the bot: each run rebuilds it from the checkout branch's
 * head and replaces it with a lease on the tip it last saw.
 */
export async function updateBranch<T>(request: GitUpdateRequest<T>): Promise<GitUpdateOutcome<T>> {
  // Checked before any git process starts, not only where each value is first used.
  validateRepositoryUrl(request.url);
  validateRefName('branch', request.checkoutBranch);
  validateRefName('branch', request.pushBranch);
  const maxAttempts = request.maxAttempts ?? DEFAULT_ATTEMPTS;
  const separate = request.pushBranch !== request.checkoutBranch;
  const log = request.log ?? silentLogger;
  const ops = operationOptions(request, log);
  await mkdir(request.workRoot, { recursive: true, mode: 0o700 });
  let lastRejection: TidemarkError | undefined;

  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    request.signal?.throwIfAborted();
    const dir = await mkdtemp(join(request.workRoot, 'checkout-'));
    try {
      const checkout = await cloneForUpdate(request.url, request.credentials, request.checkoutBranch, dir, {
        ...ops,
        depth: 1,
      });
      const applied = await request.apply(checkout.dir);
      if (applied.message === null) return { kind: 'unchanged', base: checkout.head, result: applied.result, reason: 'no-change' };
      const commit = await commitAll(checkout.dir, applied.message, request.author, {
        ...ops,
        signingKey: request.signingKey,
      });
      if (commit === null) return { kind: 'unchanged', base: checkout.head, result: applied.result, reason: 'no-change' };

      let lease: string | undefined;
      if (separate) {
        const tip = await fetchBranchTip(checkout.dir, request.pushBranch, {
          ...ops,
          credentials: request.credentials,
        });
        if (tip !== undefined && (await holdsSameUpdate(checkout.dir, tip, checkout.head, ops))) {
          return { kind: 'unchanged', base: checkout.head, result: applied.result, reason: 'branch-current' };
        }
        lease = tip ?? '';
      }
      const pushed = await push(checkout.dir, request.pushBranch, {
        ...ops,
        credentials: request.credentials,
        ...(lease === undefined ? {} : { forceWithLease: lease }),
      });
      return {
        kind: 'pushed',
        commit: pushed,
        base: checkout.head,
        branch: request.pushBranch,
        attempts: attempt,
        result: applied.result,
      };
    } catch (err) {
      if (!(err instanceof TidemarkError) || err.code !== GitErrorCode.PushRejected) throw err;
      lastRejection = err;
      log.info(
        { branch: request.pushBranch, attempt, maxAttempts },
        'push rejected; the branch moved, applying the update again on its new head',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  throw new TidemarkError(
    GitErrorCode.PushRejected,
    `branch ${request.pushBranch} kept moving: the push was rejected ${maxAttempts} times (${lastRejection?.message ?? 'no detail'})`,
    { kind: 'transient', cause: lastRejection },
  );
}

/** The bot's branch is one commit on the current base with the same tree as ours: pushing would change nothing but timestamps. */
async function holdsSameUpdate(dir: string, tip: string, base: string, ops: GitOperationOptions): Promise<boolean> {
  const [theirs, ours] = await Promise.all([readCommit(dir, tip, ops), readCommit(dir, 'HEAD', ops)]);
  return theirs.tree === ours.tree && theirs.parents.length === 1 && theirs.parents[0] === base;
}
