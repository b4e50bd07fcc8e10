import { join } from 'node:path';
import type { GitAuthor } from './types.ts';
import { repositoryCacheDir } from './fetch.ts';
import { gitEnvironment, runGit } from './run.ts';
import { validateCommitSha, validateRepositoryUrl } from './validate.ts';

/** What a person reads about a commit: its first line and who wrote it. */
export interface CommitSummary {
  sha: string;
  subject: string;
  author: GitAuthor;
  /** RFC 3339, from the author line. */
  authoredAt: string;
}

/** A raw commit object (`git cat-file commit`) → its subject and author. Pure. */
export function parseCommitObject(sha: string, raw: string): CommitSummary {
  const split = raw.indexOf('\n\n');
  const header = split >= 0 ? raw.slice(0, split) : raw;
  const message = split >= 0 ? raw.slice(split + 2) : '';
  let author: GitAuthor = { name: '', email: '' };
  let authoredAt = '';
  for (const line of header.split('\n')) {
    const match = /^author (.*) <([^>]*)> (\d+) [+-]\d{4}$/.exec(line);
    if (!match) continue;
    author = { name: match[1] ?? '', email: match[2] ?? '' };
    authoredAt = new Date(Number(match[3]) * 1000).toISOString();
  }
  // A signed commit's signature sits in the header (gpgsig), so the message starts after the first blank line.
  const subject = message.split('\n').find((line) => line.trim() !== '') ?? '';
  return { sha, subject: subject.trim(), author, authoredAt };
}

/**
 * The summary of a commit already in the Git cache under `cacheDir` (fetchRevision put it
 * there): no network, no credentials. Reads run beside the cache's writers: git allows that.
 */
export async function readCachedCommit(cacheDir: string, url: string, sha: string): Promise<CommitSummary> {
  const commit = validateCommitSha(sha);
  const repo = join(repositoryCacheDir(cacheDir, validateRepositoryUrl(url).url), 'repo.git');
  const raw = await runGit(['--git-dir', repo, 'cat-file', 'commit', commit], {
    cwd: cacheDir,
    env: gitEnvironment(),
    operation: 'cat-file',
    defaultTimeoutMs: 30_000,
  });
  return parseCommitObject(commit, raw);
}
