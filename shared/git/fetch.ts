import { createHash } from 'node:crypto';
import { mkdir, readdir, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { TidemarkError } from '../errors/index.ts';
import { credentialsFingerprint, prepareAuth } from './credentials.ts';
import { DISK_FULL_HINT, GitErrorCode, gitError } from './errors.ts';
import { KeyedMutex } from './mutex.ts';
import { gitEnvironment, runGit } from './run.ts';
import type { GitCredentials, GitOperationOptions, GitRefSpec } from './types.ts';
import { validateCommitSha, validateRefSpec, validateRepositoryUrl } from './validate.ts';

const FETCH_TIMEOUT_MS = 5 * 60_000;
const LOCAL_TIMEOUT_MS = 2 * 60_000;

/** Default bounds of one fetch and one checkout (options override them; see FetchRevisionOptions). */
export const FETCH_LIMITS = {
  /** Pack data one fetch may download: 512 MiB. */
  maxFetchBytes: 512 * 1024 * 1024,
  /** Bytes of all files of a checkout, counted from the tree before anything is written: 512 MiB. */
  maxCheckoutBytes: 512 * 1024 * 1024,
  /** Files (and symlinks) in a checkout: 100,000. */
  maxCheckoutFiles: 100_000,
} as const;
/** How often a running fetch's download is measured against maxFetchBytes. */
const FETCH_WATCH_INTERVAL_MS = 250;

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
  /** Pack bytes one fetch may download; the fetch is stopped beyond it. Default FETCH_LIMITS.maxFetchBytes. */
  maxFetchBytes?: number | undefined;
  /** Total file bytes of the commit's tree, checked before the checkout is written. Default FETCH_LIMITS.maxCheckoutBytes. */
  maxCheckoutBytes?: number | undefined;
  /** Files in the commit's tree. Default FETCH_LIMITS.maxCheckoutFiles. */
  maxCheckoutFiles?: number | undefined;
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
 * only when the commit is not cached yet, and then for that one commit (depth 1, no tags; never
 * every branch and tag). The download and the checkout are bounded (GitRepositoryTooLarge), the
 * git process by its deadline. Calls for the same repository are serialised.
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
  return cacheLocks.run(root, () =>
    fetchLocked(checked.url, checked.kind, creds, want, commit, root, options).catch((err: unknown) => {
      throw diskFull(err, root) ?? err;
    }),
  );
}

/** The cache's own writes (a directory, a checkout) failing for want of space: the reason git's failures get. */
function diskFull(err: unknown, root: string): TidemarkError | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return undefined;
  const what = code === 'ENOSPC' ? 'no space left on device' : 'disk quota exceeded';
  return gitError(GitErrorCode.DiskFull, `writing the Git cache at ${root} failed: ${what}`, DISK_FULL_HINT, err);
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
  if (!cleaned.has(root)) {
    await removeCacheLeftovers(repo);
    cleaned.add(root);
  }

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
    const limit = options.maxFetchBytes ?? FETCH_LIMITS.maxFetchBytes;
    const watch = await watchDownload(join(repo, 'objects', 'pack'), limit, options.signal);
    let auth: Awaited<ReturnType<typeof prepareAuth>> | undefined;
    try {
      auth = await prepareAuth(creds, { url, kind }, options.allowInsecureHttp);
      // Only this commit, depth 1, no tags. A server that will not serve it (an old one refusing a
      // commit that is no ref tip) fails the fetch: falling back to every branch and tag, in
      // full, would let one repository fill the disk. --refetch: a commit already here is asked
      // for again, so the server has to serve it. unpackLimit=1 keeps every download in a pack
      // file, where the watch sees it grow.
      await runGit(['--git-dir', repo, 'fetch', '--quiet', '--no-tags', '--depth=1', ...(cached ? ['--refetch'] : []), '--', url, sha], {
        ...options,
        signal: watch.signal,
        cwd: root,
        env: gitEnvironment(auth.env, [['fetch.unpackLimit', '1']]),
        operation: 'fetch',
        url,
        secrets: auth.secrets,
        defaultTimeoutMs: FETCH_TIMEOUT_MS,
      });
      await watch.check();
    } catch (err) {
      await watch.discard();
      // A fetch we stopped (too large, past its deadline) was SIGKILLed and has exited: its
      // shallow.lock would fail the next fetch with "File exists". We hold the cache's lock, so
      // what is left is that git's.
      await removeCacheLeftovers(repo);
      if (err instanceof TidemarkError && err.code === GitErrorCode.RefNotFound && want.kind === 'commit') {
        throw gitError(
          GitErrorCode.RefNotFound,
          `the server does not serve commit ${sha}: it is not in the repository, or the server serves only branch and tag tips`,
          'check the commit; on a server that serves only tips, pin a commit a branch or tag points at',
          err,
        );
      }
      throw err;
    } finally {
      watch.stop();
      await auth?.dispose();
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
    await checkTreeSize(bare, sha, options);
    await rm(dir, { recursive: true, force: true });
    // A git worktree add that was stopped (spec.timeout, a superseded or moved run) leaves its
    // worktree locked with the directory missing; prune keeps such entries, and add refuses to
    // reuse the path unless forced twice. We hold the cache lock and never lock worktrees ourselves.
    await removeStaleWorktreeLocks(repo);
    await bare(['worktree', 'prune'], 'worktree');
    await bare(['worktree', 'add', '--quiet', '--detach', '--force', '--force', '--', dir, sha], 'worktree');
  }
  const release = lease(dir);
  await pruneCheckouts(checkouts, dir, options.keepCheckouts ?? 2);
  await bare(['worktree', 'prune'], 'worktree');
  return { dir, sha, fetched, release };
}

/** Removes the lock of every registered worktree of `repo`; the caller holds the cache lock. */
async function removeStaleWorktreeLocks(repo: string): Promise<void> {
  const entries = await readdir(join(repo, 'worktrees'), { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isDirectory()) await rm(join(repo, 'worktrees', e.name, 'locked'), { force: true });
}

/** Repository caches this process has cleaned of an earlier process's leftovers. */
const cleaned = new Set<string>();

/**
 * Removes what a git killed in the middle of its work leaves in a cache repository: lock files
 * (a `shallow.lock` from a killed fetch fails every later fetch with "File exists", for good), the
 * temporary pack it was downloading, the .keep of a pack it had not yet recorded, and the lock
 * of a worktree it was still creating (which `worktree prune` would never remove). Called on a
 * repository's first use in a process: every git here runs under the cache's lock, so whatever
 * such files exist then belong to a process that is gone (an agent killed with its container).
 */
export async function removeCacheLeftovers(repo: string): Promise<string[]> {
  const removed: string[] = [];
  const removeMatching = async (dir: string, test: (name: string) => boolean, recurse = false) => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        if (recurse) await removeMatching(path, test, true);
      } else if (test(e.name)) {
        await rm(path, { force: true });
        removed.push(path);
      }
    }
  };
  const lock = (name: string) => name.endsWith('.lock');
  await removeMatching(repo, lock);
  await removeMatching(join(repo, 'refs'), lock, true);
  await removeMatching(join(repo, 'objects', 'pack'), (name) => name.startsWith('tmp_') || name.endsWith('.keep'));
  await removeMatching(join(repo, 'worktrees'), (name) => lock(name) || name === 'locked', true);
  return removed;
}

function tooLarge(message: string): TidemarkError {
  return gitError(
    GitErrorCode.RepositoryTooLarge,
    message,
    'keep large files out of the deployment repository, or point spec.url at a smaller one',
  );
}

/**
 * Measures what a running fetch has downloaded (the pack files that appear or grow beside the
 * ones there before) and stops it beyond `limit`. check() measures once more after git exits;
 * discard() removes what the failed fetch left behind.
 */
export async function watchDownload(packDir: string, limit: number, outer: AbortSignal | undefined, create = true) {
  // A clone creates its own directory: the watch then starts from nothing and must not make it.
  if (create) await mkdir(packDir, { recursive: true });
  const before = new Map((await packFiles(packDir)).map((f) => [f.name, f.size]));
  const stopper = new AbortController();
  const signal = outer ? AbortSignal.any([outer, stopper.signal]) : stopper.signal;
  const grown = async () => {
    let bytes = 0;
    for (const f of await packFiles(packDir)) bytes += Math.max(0, f.size - (before.get(f.name) ?? 0));
    return bytes;
  };
  const over = (bytes: number) =>
    tooLarge(`the fetch downloaded more than ${formatBytes(limit)} (${formatBytes(bytes)} so far) and was stopped`);
  let measuring = false;
  const timer = setInterval(() => {
    if (measuring || stopper.signal.aborted) return;
    measuring = true;
    void grown()
      .then((bytes) => {
        if (bytes > limit) stopper.abort(over(bytes));
      })
      .catch(() => undefined)
      .finally(() => {
        measuring = false;
      });
  }, FETCH_WATCH_INTERVAL_MS);
  timer.unref();
  return {
    signal,
    stop: () => clearInterval(timer),
    async check() {
      const bytes = await grown();
      if (bytes > limit) throw over(bytes);
    },
    async discard() {
      for (const f of await packFiles(packDir)) {
        if (!before.has(f.name)) await rm(join(packDir, f.name), { force: true });
      }
    },
  };
}

async function packFiles(dir: string): Promise<Array<{ name: string; size: number }>> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const files = await Promise.all(
    names.map(async (name) => {
      const info = await stat(join(dir, name)).catch(() => undefined);
      return info?.isFile() ? { name, size: info.size } : undefined;
    }),
  );
  return files.filter((f) => f !== undefined);
}

/**
 * Adds up the commit's files from its tree (`ls-tree -r -l`) before one is written: a small pack
 * can hold files that inflate to gigabytes. Submodules are not checked out and count for nothing.
 */
export async function checkTreeSize(
  bare: (args: string[], op: string) => Promise<string>,
  sha: string,
  options: Pick<FetchRevisionOptions, 'maxCheckoutBytes' | 'maxCheckoutFiles'>,
) {
  const maxBytes = options.maxCheckoutBytes ?? FETCH_LIMITS.maxCheckoutBytes;
  const maxFiles = options.maxCheckoutFiles ?? FETCH_LIMITS.maxCheckoutFiles;
  const listing = await bare(['ls-tree', '-r', '-l', '-z', '--full-tree', sha], 'ls-tree');
  let bytes = 0;
  let files = 0;
  for (const entry of listing.split('\0')) {
    // <mode> SP <type> SP <object> SP+ <size> TAB <path>
    const meta = entry.slice(0, entry.indexOf('\t')).split(/ +/);
    if (meta[1] !== 'blob') continue;
    files++;
    bytes += Number(meta[3]) || 0;
  }
  if (files > maxFiles) throw tooLarge(`commit ${sha} has ${files} files; the limit is ${maxFiles}`);
  if (bytes > maxBytes)
    throw tooLarge(`the checkout of commit ${sha} would be ${formatBytes(bytes)}; the limit is ${formatBytes(maxBytes)}`);
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${bytes} bytes`;
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
