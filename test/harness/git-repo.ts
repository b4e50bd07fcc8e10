import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { onShutdown } from './process.ts';

/**
 * Bare Git repositories in a private temp dir, and the helpers tests use to shape and inspect
 * them. Everything here runs the real git binary directly (never the library under test), with
 * the user's and the system's git config shut out.
 */

/** Path → content; null deletes the file; `{ symlink }` commits a symbolic link to that target. */
export type RepoFiles = Record<string, string | Buffer | null | { symlink: string }>;

export interface CommitAuthor {
  name: string;
  email: string;
}

export interface LogEntry {
  sha: string;
  /** Full message, trailing whitespace trimmed. */
  message: string;
  authorName: string;
  authorEmail: string;
  /** Paths the commit touched, relative to the repository root. */
  files: string[];
}

export const TEST_AUTHOR: CommitAuthor = { name: 'Test Author', email: 'test@example.test' };

/** Env for harness git calls: no user/system config, English messages, no prompts. */
export function harnessGitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GIT_')) env[k] = v;
  return {
    ...env,
    LC_ALL: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    ...extra,
  };
}

export interface GitResult {
  stdout: string;
  stderr: string;
}

/** Runs git; rejects with stderr in the message when it exits non-zero. */
export function git(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<GitResult> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      'git',
      [...args],
      { cwd: options.cwd, env: options.env ?? harnessGitEnv(), maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`git ${args.join(' ')} failed: ${stderr || err.message}`));
        else resolvePromise({ stdout, stderr });
      },
    );
  });
}

/** A private temp dir removed by `remove()` or, failing that, when the process exits. */
export async function makeTempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  const unregister = onShutdown({
    name: `rm ${path}`,
    async: () => rm(path, { recursive: true, force: true }),
    sync: () => rmSync(path, { recursive: true, force: true }),
  });
  return {
    path,
    remove: async () => {
      unregister();
      await rm(path, { recursive: true, force: true });
    },
  };
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

export class GitRepos {
  /** Holds `<name>.git` bare repositories; the HTTP and SSH servers serve from here. */
  readonly reposDir: string;
  private readonly root: string;
  private readonly removeRoot: () => Promise<void>;
  private scratch = 0;

  private constructor(root: string, removeRoot: () => Promise<void>) {
    this.root = root;
    this.removeRoot = removeRoot;
    this.reposDir = join(root, 'repos');
  }

  static async create(): Promise<GitRepos> {
    const temp = await makeTempDir('tidemark-git-repos-');
    const repos = new GitRepos(temp.path, temp.remove);
    mkdirSync(repos.reposDir, { recursive: true });
    return repos;
  }

  /** Absolute path of the bare repository `<name>.git`. */
  path(name: string): string {
    if (!NAME.test(name) || name.split('/').some((p) => p === '.' || p === '..' || p.endsWith('.git'))) {
      throw new Error(`bad test repository name ${JSON.stringify(name)}`);
    }
    return join(this.reposDir, `${name}.git`);
  }

  fileUrl(name: string): string {
    return `file://${this.path(name)}`;
  }

  /**
   * Maps a name or any URL of one of our servers (file, http, ssh) back to the repository name,
   * so helpers accept whichever the test has at hand.
   */
  nameOf(repo: string): string {
    if (!repo.includes('://')) return repo;
    let path = decodeURIComponent(new URL(repo).pathname);
    if (path.startsWith(this.reposDir + sep)) path = relative(this.reposDir, path);
    path = path.replace(/^\/+/, '');
    if (!path.endsWith('.git')) throw new Error(`not a test repository URL: ${repo}`);
    return path.slice(0, -'.git'.length);
  }

  /** Creates a bare repository whose `branch` holds one commit with `files`. Returns that commit. */
  async createRepo(
    name: string,
    files: RepoFiles,
    options: { branch?: string; author?: CommitAuthor; message?: string } = {},
  ): Promise<string> {
    const branch = options.branch ?? 'main';
    const bare = this.path(name);
    await mkdir(dirname(bare), { recursive: true });
    await git(['init', '--quiet', '--bare', `--initial-branch=${branch}`, '--', bare]);
    // Let clients fetch any reachable commit by id even over protocol v0 (as the big hosts do).
    await git(['--git-dir', bare, 'config', 'uploadpack.allowReachableSHA1InWant', 'true']);
    await git(['--git-dir', bare, 'config', 'uploadpack.allowFilter', 'true']);
    return this.commitFiles(name, branch, files, options.message ?? 'Initial commit', { author: options.author });
  }

  /**
   * Clones the repository to scratch space, writes `files` (null deletes a file), commits and
   * pushes to `branch` (created from the default branch when missing). This is "another user
   * pushing" from the point of view of the code under test. Returns the new commit.
   */
  async commitFiles(
    repo: string,
    branch: string,
    files: RepoFiles,
    message: string,
    options: { author?: CommitAuthor | undefined } = {},
  ): Promise<string> {
    const bare = this.path(this.nameOf(repo));
    const work = join(this.root, 'scratch', String(++this.scratch));
    const author = options.author ?? TEST_AUTHOR;
    const env = harnessGitEnv({
      GIT_AUTHOR_NAME: author.name,
      GIT_AUTHOR_EMAIL: author.email,
      GIT_COMMITTER_NAME: author.name,
      GIT_COMMITTER_EMAIL: author.email,
    });
    try {
      await git(['clone', '--quiet', '--no-local', '--', bare, work], { env });
      const exists = (await git(['ls-remote', '--heads', '--', bare, `refs/heads/${branch}`])).stdout.trim() !== '';
      const empty = (await git(['rev-parse', '--verify', '--quiet', 'HEAD'], { cwd: work, env }).catch(() => undefined)) === undefined;
      if (exists) await git(['checkout', '--quiet', branch], { cwd: work, env });
      else if (empty) await git(['checkout', '--quiet', '--orphan', branch], { cwd: work, env });
      else await git(['checkout', '--quiet', '-b', branch], { cwd: work, env });
      for (const [path, content] of Object.entries(files)) {
        const target = resolve(work, path);
        if (!target.startsWith(work + sep)) throw new Error(`file path escapes the repository: ${path}`);
        if (content === null) {
          await rm(target, { force: true });
        } else if (typeof content === 'object' && !Buffer.isBuffer(content)) {
          await mkdir(dirname(target), { recursive: true });
          await rm(target, { force: true });
          await symlink(content.symlink, target);
        } else {
          await mkdir(dirname(target), { recursive: true });
          await writeFile(target, content);
        }
      }
      await git(['add', '--all'], { cwd: work, env });
      await git(['commit', '--quiet', '--allow-empty', '--no-gpg-sign', '-m', message], { cwd: work, env });
      await git(['push', '--quiet', 'origin', `HEAD:refs/heads/${branch}`], { cwd: work, env });
      return (await git(['rev-parse', 'HEAD'], { cwd: work, env })).stdout.trim();
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  /** Commits on `branch`, newest first. */
  async readLog(repo: string, branch: string): Promise<LogEntry[]> {
    const bare = this.path(this.nameOf(repo));
    const shas = (await git(['--git-dir', bare, 'rev-list', `refs/heads/${branch}`, '--'])).stdout.split('\n').filter(Boolean);
    const entries: LogEntry[] = [];
    for (const sha of shas) {
      const info = (await git(['--git-dir', bare, 'show', '--no-patch', '--format=%an%x00%ae%x00%B', sha])).stdout;
      const [authorName = '', authorEmail = '', ...rest] = info.split('\0');
      const files = (await git(['--git-dir', bare, 'diff-tree', '--no-commit-id', '--name-only', '-r', '--root', sha])).stdout
        .split('\n')
        .filter(Boolean);
      entries.push({ sha, message: rest.join('\0').trimEnd(), authorName, authorEmail, files });
    }
    return entries;
  }

  /** The file's content on `branch`, or undefined when it does not exist there. */
  async readFile(repo: string, branch: string, path: string): Promise<string | undefined> {
    const bare = this.path(this.nameOf(repo));
    try {
      return (await git(['--git-dir', bare, 'show', `refs/heads/${branch}:${path}`])).stdout;
    } catch {
      return undefined;
    }
  }

  /** The commit `branch` points at, or undefined. */
  async head(repo: string, branch: string): Promise<string | undefined> {
    const bare = this.path(this.nameOf(repo));
    try {
      return (
        (await git(['--git-dir', bare, 'rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`])).stdout.trim() || undefined
      );
    } catch {
      return undefined;
    }
  }

  /** Tags `target` (a branch name or commit); annotated when a message is given. */
  async createTag(repo: string, tag: string, target: string, options: { message?: string } = {}): Promise<void> {
    const bare = this.path(this.nameOf(repo));
    const env = harnessGitEnv({ GIT_COMMITTER_NAME: TEST_AUTHOR.name, GIT_COMMITTER_EMAIL: TEST_AUTHOR.email });
    const args =
      options.message === undefined
        ? ['tag', '--', tag, target]
        : ['tag', '--annotate', '--no-sign', '-m', options.message, '--', tag, target];
    await git(['--git-dir', bare, ...args], { env });
  }

  async deleteBranch(repo: string, branch: string): Promise<void> {
    const bare = this.path(this.nameOf(repo));
    await git(['--git-dir', bare, 'update-ref', '-d', `refs/heads/${branch}`]);
  }

  /** Removes every repository and scratch file. */
  async stop(): Promise<void> {
    await this.removeRoot();
  }
}
