import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { removeCacheLeftovers } from './fetch.ts';

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
