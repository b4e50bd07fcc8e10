import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fetchRevision, removeCacheLeftovers, repositoryCacheDir } from './fetch.ts';

/** Every file under `dir`, relative, sorted. */
async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('removeCacheLeftovers', () => {
  it('removes what a killed git left in a cache repository, and nothing else', async () => {
    const repo = await mkdtemp(join(tmpdir(), 'tidemark-leftovers-'));
    try {
      // What a cache repository holds, plus what git 2.39 leaves when it is killed mid-fetch or
      // mid-checkout (a shallow.lock, a half-written pack, an unrecorded pack's .keep, a worktree
      // still being created).
      const keep = [
        'HEAD',
        'config',
        'shallow',
        'packed-refs',
        'objects/pack/pack-1.pack',
        'objects/pack/pack-1.idx',
        'refs/heads/.gitkeep',
        'worktrees/abc/HEAD',
        'worktrees/abc/gitdir',
      ];
      const leftovers = [
        'shallow.lock',
        'config.lock',
        'refs/heads/main.lock',
        'objects/pack/tmp_pack_fWmfNX',
        'objects/pack/tmp_idx_Xy12ab',
        'objects/pack/pack-2.keep',
        'worktrees/abc/index.lock',
        'worktrees/abc/locked',
      ];
      for (const path of [...keep, ...leftovers]) {
        await mkdir(join(repo, path, '..'), { recursive: true });
        await writeFile(join(repo, path), 'x');
      }
      const removed = await removeCacheLeftovers(repo);
      assert.deepEqual(removed.map((p) => relative(repo, p)).sort(), [...leftovers].sort());
      assert.deepEqual(await files(repo), [...keep].sort());
    } finally {
      await rm(repo, { recursive: true, force: true });
    }
  });

  it('is fine with a repository that has none of the directories yet', async () => {
    const repo = await mkdtemp(join(tmpdir(), 'tidemark-leftovers-'));
    try {
      assert.deepEqual(await removeCacheLeftovers(repo), []);
    } finally {
      await rm(repo, { recursive: true, force: true });
    }
  });
});

describe('fetchRevision after a stopped checkout', () => {
  it('checks the commit out again where an interrupted worktree add left a locked, missing worktree', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'tidemark-locked-worktree-'));
    try {
      const source = join(scratch, 'source');
      const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
      await mkdir(source);
      git(source, 'init', '--quiet', '--initial-branch=main');
      await writeFile(join(source, 'cm.yaml'), 'kind: ConfigMap\n');
      git(source, 'add', 'cm.yaml');
      git(source, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '--quiet', '-m', 'one');
      const sha = git(source, 'rev-parse', 'HEAD');
      const url = `file://${source}`;
      const cache = join(scratch, 'cache');

      const first = await fetchRevision(url, undefined, { branch: 'main' }, sha, cache);
      first.release();
      // What a killed `git worktree add` leaves: the worktree registered and locked, its directory gone.
      const repo = join(repositoryCacheDir(cache, url), 'repo.git');
      git(repo, 'worktree', 'lock', '--reason', 'initializing', first.dir);
      await rm(first.dir, { recursive: true, force: true });

      const again = await fetchRevision(url, undefined, { branch: 'main' }, sha, cache);
      assert.deepEqual(await files(again.dir).then((f) => f.filter((name) => name !== '.git')), ['cm.yaml']);
      again.release();
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });
});
