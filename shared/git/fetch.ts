import { createHash } from 'node:crypto';
import { mkdir, readdir, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { TidemarkError } from '../errors/index.ts';
import { credentialsFingerprint, prepareAuth } from './credentials.ts';
import { GitErrorCode, gitError } from './errors.ts';
import { KeyedMutex } from './mutex.ts';
import { gitEnvironment, runGit } from './run.ts';
import type { GitCredentials, GitOperationOptions, GitRefSpec } from './types.ts';
import { validateCommitSha, validateRefSpec, validateRepositoryUrl } from './validate.ts';

const FETCH_TIMEOUT_MS = 5 * 60_000;
const LOCAL_TIMEOUT_MS = 2 * 60_000;

/** One lock per cache directory for this whole process. */
const cacheLocks = new KeyedMutex();

/**
 * (repository cache, credentials, commit) triples the remote served in this process. A commit
 * already in the shared cache proves nothing about other credentials, or about the remote still
 * having it: a pinned commit the server does not advertise is only checked out after the remote
 * served it to these credentials. Oldest first; forgetting one costs one more fetch.
 */
const proofs = new Set<string>();
const MAX_PROOFS = 10_000;

/**
 * Checkouts handed out and not released yet, by directory: a render reads them outside the lock,
 * so pruning and re-checkout leave them alone until the last holder lets go.
 */
const leases = new Map<string, number>();

function lease(dir: string): () => void {
  leases.set(dir, (leases.get(dir) ?? 0) + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const left = (leases.get(dir) ?? 1) - 1;
    if (left > 0) leases.set(dir, left);
    else leases.delete(dir);
  };
}

function remember(proof: string): void {
  proofs.delete(proof);
  proofs.add(proof);
  for (const oldest of proofs) {
    if (proofs.size <= MAX_PROOFS) break;
    proofs.delete(oldest);
  }
}

export interface FetchRevisionOptions extends GitOperationOptions {
  /** Checkouts kept per repository, newest first (the returned one included). Default 2. */
  keepCheckouts?: number | undefined;
  /**
   * False for a pinned commit the server did not advertise as a ref tip (ResolvedRevision.verified):
   * it is then fetched from the remote with these credentials even when cached, unless they already
   * fetched it in this process. Default true: the caller's ls-remote with these credentials saw it.
   */
  advertised?: boolean | undefined;
}

export interface FetchedRevision {
  /**
   * A clean checkout of exactly `sha`. It is not pruned, reset or replaced before release() is
   * called (once is enough; more calls do nothing); after that it stays until `keepCheckouts`
   * newer ones exist.
   */
  dir: string;
  sha: string;
  /** False when the commit was already in the cache and no network call was made. */
  fetched: boolean;
  release(): void;
}

/** The cache directory of one repository URL under `cacheDir`. */
export function repositoryCacheDir(cacheDir: string, url: string): string {
  return join(cacheDir, createHash('sha256').update(url).digest('hex').slice(0, 24));
}

/**
 * Materialises a clean checkout of `sha` from a per-repository shallow cache. The network is used
 * only when the commit is not cached yet, and then for that one commit (depth 1). Calls for the
 * same repository are serialised.
 */
export async function fetchRevision(
  url: string,
  creds: GitCredentials | undefined,
  ref: GitRefSpec | undefined,
  sha: string,
  cacheDir: string,
  options: FetchRevisionOptions = {},
): Promise<FetchedRevision> {
  const checked = validateRepositoryUrl(url);
  const want = validateRefSpec(ref);
  const commit = validateCommitSha(sha);
  const root = repositoryCacheDir(cacheDir, checked.url);
  return cacheLocks.run(root, () => fetchLocked(checked.url, checked.kind, creds, want, commit, root, options));
}

async function fetchLocked(
  url: string,
  kind: 'http' | 'ssh' | 'file',
  creds: GitCredentials | undefined,
  want: ReturnType<typeof validateRefSpec>,
  sha: string,
  root: string,
  options: FetchRevisionOptions,
): Promise<FetchedRevision> {
  const repo = join(root, 'repo.git');
  const checkouts = join(root, 'checkouts');
  const dir = join(checkouts, sha);
  const local = (args: string[], operation: string, cwd = root) =>
    runGit(args, { ...options, cwd, env: gitEnvironment(), operation, defaultTimeoutMs: LOCAL_TIMEOUT_MS });
  const bare = (args: string[], operation: string) => local(['--git-dir', repo, ...args], operation);

  await mkdir(checkouts, { recursive: true });
  if (!(await exists(join(repo, 'HEAD')))) await local(['init', '--quiet', '--bare', '--', repo], 'init');

  const proof = `${root}\0${credentialsFingerprint(creds)}\0${sha}`;
  const mustProve = options.advertised === false && !proofs.has(proof);
  // A leased checkout is in use and was checked when it was handed out: it is not touched.
  if (!mustProve && (leases.has(dir) || (await isCheckoutOf(dir, sha, local)))) {
    await utimes(dir, new Date(), new Date());
    return { dir, sha, fetched: false, release: lease(dir) };
  }

  let fetched = false;
  const cached = await hasCommit(bare, sha);
  if (!cached || mustProve) {
    const auth = await prepareAuth(creds, kind);
    const remote = (args: string[]) =>
      runGit(['--git-dir', repo, ...args], {
        ...options,
        cwd: root,
        env: gitEnvironment(auth.env),
        operation: 'fetch',
        url,
        secrets: auth.secrets,
        defaultTimeoutMs: FETCH_TIMEOUT_MS,
      });
    try {
      try {
        // --refetch: a commit already here is asked for again, so the server has to serve it.
        await remote(['fetch', '--quiet', '--no-tags', '--depth=1', ...(cached ? ['--refetch'] : []), '--', url, sha]);
      } catch (err) {
        // Older servers refuse a want for a commit that is not a ref tip: fall back to the
        // branches and tags themselves, in full, and look for the commit among them.
        // A commit that is here already would be found without the server serving it: no proof.
        if (!(err instanceof TidemarkError) || err.code !== GitErrorCode.RefNotFound || cached) throw err;
        await remote(['fetch', '--quiet', '--no-tags', '--', url, ...fallbackRefspecs(want)]);
      }
    } finally {
      await auth.dispose();
    }
    if (!(await hasCommit(bare, sha))) {
      throw gitError(
        GitErrorCode.RefNotFound,
        `commit ${sha} is not in the repository`,
        'check the commit, or the branch it was pinned on',
      );
    }
    fetched = true;
    remember(proof);
  }

  if (!leases.has(dir) && !(await isCheckoutOf(dir, sha, local))) {
    await rm(dir, { recursive: true, force: true });
    await bare(['worktree', 'prune'], 'worktree');
    await bare(['worktree', 'add', '--quiet', '--detach', '--force', '--', dir, sha], 'worktree');
  }
  const release = lease(dir);
  await pruneCheckouts(checkouts, dir, options.keepCheckouts ?? 2);
  await bare(['worktree', 'prune'], 'worktree');
  return { dir, sha, fetched, release };
}

function fallbackRefspecs(want: ReturnType<typeof validateRefSpec>): string[] {
  if (want.kind === 'branch') return [`+refs/heads/${want.branch}:refs/tidemark/heads/${want.branch}`];
  if (want.kind === 'commit' && want.branch) return [`+refs/heads/${want.branch}:refs/tidemark/heads/${want.branch}`];
  if (want.kind === 'tag') return [`+refs/tags/${want.tag}:refs/tidemark/tags/${want.tag}`];
  return ['+refs/heads/*:refs/tidemark/heads/*', '+refs/tags/*:refs/tidemark/tags/*'];
}

async function hasCommit(bare: (args: string[], op: string) => Promise<string>, sha: string): Promise<boolean> {
  try {
    await bare(['cat-file', '-e', `${sha}^{commit}`], 'cat-file');
    return true;
  } catch (err) {
    if (err instanceof TidemarkError && err.code === GitErrorCode.CommandFailed) return false;
    if (err instanceof TidemarkError && err.code === GitErrorCode.RefNotFound) return false;
    throw err;
  }
}

/** A checkout counts only when its HEAD is the commit; local edits are reset, never kept. */
async function isCheckoutOf(
  dir: string,
  sha: string,
  local: (args: string[], op: string, cwd?: string) => Promise<string>,
): Promise<boolean> {
  if (!(await exists(join(dir, '.git')))) return false;
  try {
    const head = (await local(['rev-parse', '--verify', 'HEAD'], 'rev-parse', dir)).trim();
    if (head !== sha) return false;
    const status = await local(['status', '--porcelain', '--ignored', '--untracked-files=all'], 'status', dir);
    if (status.trim() !== '') {
      await local(['reset', '--quiet', '--hard', sha], 'reset', dir);
      await local(['clean', '-ffdxq'], 'clean', dir);
    }
    return true;
  } catch (err) {
    if (err instanceof TidemarkError) return false;
    throw err;
  }
}

/** Removes the oldest checkouts beyond `keep`, never one that is leased (being rendered). */
async function pruneCheckouts(checkouts: string, current: string, keep: number): Promise<void> {
  const entries = await readdir(checkouts, { withFileTypes: true });
  const dirs = await Promise.all(
    entries
      .filter((e) => e.isDirectory())
      .map(async (e) => {
        const path = join(checkouts, e.name);
        return { path, mtime: path === current ? Infinity : (await stat(path)).mtimeMs };
      }),
  );
  dirs.sort((a, b) => b.mtime - a.mtime);
  for (const old of dirs.slice(Math.max(1, keep))) {
    if (!leases.has(old.path)) await rm(old.path, { recursive: true, force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
