import { readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TidemarkError } from '../errors/index.ts';
import { prepareAuth } from './credentials.ts';
import { checkTreeSize, FETCH_LIMITS, watchDownload } from './fetch.ts';
import { GitErrorCode, gitError, invalidSpec } from './errors.ts';
import { gitEnvironment, runGit } from './run.ts';
import { prepareSigning } from './signing.ts';
import { privateTempDir } from './temp-dirs.ts';
import type { GitAuthor, GitCredentials, GitOperationOptions } from './types.ts';
import { refuseOptionLike, validateCommitSha, validateRefName, validateRepositoryUrl } from './validate.ts';

const CLONE_TIMEOUT_MS = 5 * 60_000;
const PUSH_TIMEOUT_MS = 2 * 60_000;
const LOCAL_TIMEOUT_MS = 2 * 60_000;

export interface UpdateCheckout {
  dir: string;
  url: string;
  branch: string;
  /** The commit the branch pointed at when cloned. */
  head: string;
}

export interface CloneOptions extends GitOperationOptions {
  /** History depth; default 1 (enough to commit, rebase onto new remote commits and push). */
  depth?: number | undefined;
  /** Pack bytes the clone may download; it is stopped beyond it. Default FETCH_LIMITS.maxFetchBytes. */
  maxFetchBytes?: number | undefined;
  /** Total file bytes of the branch's tree, checked before it is written. Default FETCH_LIMITS.maxCheckoutBytes. */
  maxCheckoutBytes?: number | undefined;
  /** Files in the branch's tree. Default FETCH_LIMITS.maxCheckoutFiles. */
  maxCheckoutFiles?: number | undefined;
}

/**
 * Clones one branch into `dir` (which must not exist or be empty) for the image updater. The
 * clone's remote URL is the plain URL: credentials are supplied again for each network operation.
 */
export async function cloneForUpdate(
  url: string,
  creds: GitCredentials | undefined,
  branch: string,
  dir: string,
  options: CloneOptions = {},
): Promise<UpdateCheckout> {
  const checked = validateRepositoryUrl(url);
  validateRefName('branch', branch);
  refuseOptionLike('checkout directory', dir);
  if (await hasEntries(dir)) throw invalidSpec(`the checkout directory ${dir} is not empty`);
  const depth = options.depth ?? 1;
  if (!Number.isInteger(depth) || depth < 0) throw invalidSpec('clone depth must be a non-negative integer');
  const auth = await prepareAuth(creds, checked, options.allowInsecureHttp);
  // The same bounds as the agent's fetches: the download is watched while it runs, and the tree
  // is sized before a file of it is written (a small pack can inflate to gigabytes).
  const watch = await watchDownload(
    join(dir, '.git', 'objects', 'pack'),
    options.maxFetchBytes ?? FETCH_LIMITS.maxFetchBytes,
    options.signal,
    false,
  );
  try {
    const args = ['clone', '--quiet', '--no-tags', '--single-branch', '--no-checkout', '--branch', branch];
    if (depth > 0) args.push(`--depth=${depth}`);
    args.push('--', checked.url, dir);
    await runGit(args, {
      ...options,
      signal: watch.signal,
      cwd: tmpdir(),
      env: gitEnvironment(auth.env),
      operation: 'clone',
      url: checked.url,
      secrets: auth.secrets,
      defaultTimeoutMs: CLONE_TIMEOUT_MS,
    });
    await watch.check();
    const local = localRunner(dir, options);
    const cloned = (await local(['rev-parse', '--verify', 'HEAD'], 'rev-parse')).trim();
    await checkTreeSize(local, cloned, options);
    await local(['reset', '--quiet', '--hard', cloned], 'checkout');
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    // git says "Remote branch X not found in upstream origin" for a missing branch.
    throw err;
  } finally {
    watch.stop();
    await auth.dispose();
  }
  const head = await headOf(dir, options);
  return { dir, url: checked.url, branch, head };
}

export interface CommitOptions extends GitOperationOptions {
  /** Armored OpenPGP or OpenSSH private key (without passphrase) to sign the commit with. */
  signingKey?: string | undefined;
}

/**
 * Stages every change in the checkout and commits it. Returns the new commit, or null when the
 * tree did not change: an update that changes nothing is an ordinary outcome, never an empty commit.
 */
export async function commitAll(dir: string, message: string, author: GitAuthor, options: CommitOptions = {}): Promise<string | null> {
  checkAuthor(author);
  if (typeof message !== 'string' || message.trim() === '') throw invalidSpec('the commit message is empty');
  const local = localRunner(dir, options);
  await local(['add', '--all', '--', '.'], 'add');
  const status = await local(['status', '--porcelain', '--untracked-files=no'], 'status');
  if (status.trim() === '') return null;

  const temp = await privateTempDir('msg');
  const signing = options.signingKey ? await prepareSigning(options.signingKey) : undefined;
  try {
    const messageFile = join(temp.path, 'message');
    await writeFile(messageFile, message, { mode: 0o600 });
    const args = ['commit', '--quiet', '--no-verify', '--cleanup=whitespace', `--file=${messageFile}`];
    args.push(signing ? `--gpg-sign=${signing.keyId}` : '--no-gpg-sign');
    await runGit(args, {
      ...options,
      cwd: dir,
      env: gitEnvironment({ ...identityEnv(author), ...(signing?.env ?? {}) }, signing?.config ?? []),
      operation: 'commit',
      defaultTimeoutMs: LOCAL_TIMEOUT_MS,
    });
  } finally {
    await Promise.all([temp.remove(), signing?.dispose()]);
  }
  return headOf(dir, options);
}

export interface PushOptions extends GitOperationOptions {
  credentials?: GitCredentials | undefined;
  /**
   * Overwrite the remote branch only if it still points at this commit ('' = only if it does not
   * exist). For the bot's own push branch; a user's branch is never forced, so leave it unset there.
   */
  forceWithLease?: string | undefined;
}

/**
 * Pushes HEAD to `branch` on the checkout's origin. A non-fast-forward rejection (someone pushed
 * first) throws GitPushRejected (transient): fetchAndRebase() and push again.
 */
export async function push(dir: string, branch: string, options: PushOptions = {}): Promise<string> {
  validateRefName('branch', branch);
  const url = await originUrl(dir, options);
  const args = ['push', '--porcelain', '--no-verify'];
  if (options.forceWithLease !== undefined) {
    const expected = options.forceWithLease === '' ? '' : validateCommitSha(options.forceWithLease);
    args.push(`--force-with-lease=refs/heads/${branch}:${expected}`);
  }
  args.push('--', url.url, `HEAD:refs/heads/${branch}`);
  const auth = await prepareAuth(options.credentials, url, options.allowInsecureHttp);
  try {
    await runGit(args, {
      ...options,
      cwd: dir,
      env: gitEnvironment(auth.env),
      operation: 'push',
      url: url.url,
      secrets: auth.secrets,
      defaultTimeoutMs: PUSH_TIMEOUT_MS,
    });
  } finally {
    await auth.dispose();
  }
  return headOf(dir, options);
}

export interface RebaseOptions extends GitOperationOptions {
  credentials?: GitCredentials | undefined;
  /** Committer of the rebased commits (authors are kept). */
  committer: GitAuthor;
  signingKey?: string | undefined;
}

/**
 * Fetches the remote branch and replays the local commits on top of it, after a push was
 * rejected. A conflict aborts the rebase and throws GitRebaseConflict (transient): start over
 * from a fresh clone.
 */
export async function fetchAndRebase(dir: string, branch: string, options: RebaseOptions): Promise<string> {
  validateRefName('branch', branch);
  checkAuthor(options.committer);
  const url = await originUrl(dir, options);
  const tracking = `refs/remotes/origin/${branch}`;
  const auth = await prepareAuth(options.credentials, url, options.allowInsecureHttp);
  try {
    await runGit(['fetch', '--quiet', '--no-tags', '--', url.url, `+refs/heads/${branch}:${tracking}`], {
      ...options,
      cwd: dir,
      env: gitEnvironment(auth.env),
      operation: 'fetch',
      url: url.url,
      secrets: auth.secrets,
      defaultTimeoutMs: CLONE_TIMEOUT_MS,
    });
  } finally {
    await auth.dispose();
  }

  const signing = options.signingKey ? await prepareSigning(options.signingKey) : undefined;
  const env = gitEnvironment({ ...identityEnv(options.committer), ...(signing?.env ?? {}) }, signing?.config ?? []);
  const rebase = (args: string[]) => runGit(args, { ...options, cwd: dir, env, operation: 'rebase', defaultTimeoutMs: LOCAL_TIMEOUT_MS });
  try {
    await rebase(['rebase', '--quiet', '--no-autostash', signing ? `--gpg-sign=${signing.keyId}` : '--no-gpg-sign', tracking]);
  } catch (err) {
    await rebase(['rebase', '--abort']).catch(() => undefined);
    if (err instanceof TidemarkError && err.code === GitErrorCode.CommandFailed) {
      throw gitError(GitErrorCode.RebaseConflict, `rebasing onto ${branch} failed: ${err.message}`, undefined, err);
    }
    throw err;
  } finally {
    await signing?.dispose();
  }
  return headOf(dir, options);
}

export interface FetchBranchOptions extends GitOperationOptions {
  credentials?: GitCredentials | undefined;
}

/**
 * Fetches the tip of `branch` from the checkout's origin (one commit, no history) into
 * `refs/remotes/origin/<branch>` and returns it; undefined when the remote has no such branch.
 * The image updater compares its bot branch with what it would push, to skip a pointless force-push.
 */
export async function fetchBranchTip(dir: string, branch: string, options: FetchBranchOptions = {}): Promise<string | undefined> {
  validateRefName('branch', branch);
  const url = await originUrl(dir, options);
  const tracking = `refs/remotes/origin/${branch}`;
  const auth = await prepareAuth(options.credentials, url, options.allowInsecureHttp);
  try {
    await runGit(['fetch', '--quiet', '--no-tags', '--depth=1', '--', url.url, `+refs/heads/${branch}:${tracking}`], {
      ...options,
      cwd: dir,
      env: gitEnvironment(auth.env),
      operation: 'fetch',
      url: url.url,
      secrets: auth.secrets,
      defaultTimeoutMs: CLONE_TIMEOUT_MS,
    });
  } catch (err) {
    if (err instanceof TidemarkError && err.code === GitErrorCode.RefNotFound) return undefined;
    throw err;
  } finally {
    await auth.dispose();
  }
  return (await localRunner(dir, options)(['rev-parse', '--verify', `${tracking}^{commit}`], 'rev-parse')).trim();
}

export interface CommitInfo {
  sha: string;
  tree: string;
  /** Parent commits as recorded in the commit, even when a shallow checkout does not hold them. */
  parents: string[];
}

/** Reads one commit of the checkout (`HEAD`, a sha or a ref that is not option-like). */
export async function readCommit(dir: string, rev: string, options: GitOperationOptions = {}): Promise<CommitInfo> {
  refuseOptionLike('revision', rev);
  const local = localRunner(dir, options);
  const sha = (await local(['rev-parse', '--verify', '--end-of-options', `${rev}^{commit}`], 'rev-parse')).trim();
  const raw = await local(['cat-file', 'commit', sha], 'cat-file');
  const header = raw.slice(0, raw.indexOf('\n\n') >= 0 ? raw.indexOf('\n\n') : raw.length);
  let tree = '';
  const parents: string[] = [];
  for (const line of header.split('\n')) {
    if (line.startsWith('tree ')) tree = line.slice(5).trim();
    else if (line.startsWith('parent ')) parents.push(line.slice(7).trim());
  }
  return { sha, tree, parents };
}

export async function headOf(dir: string, options: GitOperationOptions = {}): Promise<string> {
  return (await localRunner(dir, options)(['rev-parse', '--verify', 'HEAD'], 'rev-parse')).trim();
}

async function originUrl(dir: string, options: GitOperationOptions) {
  const url = (await localRunner(dir, options)(['remote', 'get-url', 'origin'], 'remote')).trim();
  return validateRepositoryUrl(url);
}

function localRunner(dir: string, options: GitOperationOptions) {
  return (args: string[], operation: string) =>
    runGit(args, { ...options, cwd: dir, env: gitEnvironment(), operation, defaultTimeoutMs: LOCAL_TIMEOUT_MS });
}

function identityEnv(author: GitAuthor): Record<string, string> {
  return {
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_COMMITTER_NAME: author.name,
    GIT_COMMITTER_EMAIL: author.email,
  };
}

function checkAuthor(author: GitAuthor): void {
  for (const [field, value] of [
    ['name', author?.name],
    ['email', author?.email],
  ] as const) {
    if (typeof value !== 'string' || value.trim() === '' || /[<>\r\n\0]/.test(value)) {
      throw invalidSpec(`the commit author ${field} is empty or contains <, > or a line break`);
    }
  }
}

async function hasEntries(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length > 0;
  } catch {
    return false;
  }
}
