import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { privateTempDir, sweepStaleTempDirs } from './temp-dirs.ts';

/** A pid above Linux's largest pid_max (2^22): no process can have it. */
const DEAD_PID = 4_194_305;

describe('sweepStaleTempDirs', () => {
  it("removes a killed process's credential directories and keeps a live process's", async () => {
    const root = await mkdtemp(join(tmpdir(), 'tidemark-sweep-test-'));
    try {
      const dead = join(root, `tidemark-git-auth-${DEAD_PID}-AbC123`);
      const alive = join(root, `tidemark-git-auth-${process.ppid}-XyZ789`);
      const previousLife = join(root, `tidemark-git-sign-${process.pid}-Qq1234`);
      const unrelated = join(root, `tidemark-cache-${DEAD_PID}-AbC123`);
      for (const dir of [dead, alive, previousLife, unrelated]) {
        await mkdir(dir);
        await writeFile(join(dir, 'password'), 'hunter2\n', { mode: 0o600 });
      }
      const removed = await sweepStaleTempDirs({ root });
      assert.deepEqual(removed.sort(), [dead, previousLife].sort());
      assert.equal(existsSync(dead), false, 'the dead process left its password behind');
      assert.equal(existsSync(previousLife), false, 'a previous process with our pid is gone too');
      assert.equal(existsSync(alive), true, 'a live process still needs its files');
      assert.equal(existsSync(unrelated), true, 'only our own prefix is touched');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('never removes a directory this process is using', async () => {
    const dir = await privateTempDir('auth');
    try {
      assert.match(dir.path, new RegExp(`tidemark-git-auth-${process.pid}-[A-Za-z0-9]{6}$`));
      // Our own pid counts as a previous life's unless the directory is one we made and still use.
      // (Every other pid counts as alive here: other test processes share this temp root.)
      await sweepStaleTempDirs({ isAlive: () => true });
      assert.equal(existsSync(dir.path), true);
    } finally {
      await dir.remove();
    }
    assert.equal(existsSync(dir.path), false);
  });
});
