import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Private temp directories for what git needs beside it: askpass answers, SSH keys, signing
 * keys, commit messages. Their names say who made them, `tidemark-git-<purpose>-<pid>-XXXXXX`, so
 * the ones a killed process could not remove (SIGKILL, OOM) are found and removed at the next
 * start instead of leaving credentials in /tmp for good.
 */
const PREFIX = 'tidemark-git-';
const NAME = /^tidemark-git-([a-z]+)-(\d+)-[A-Za-z0-9]{6}$/;

/** Directories this process made and has not removed yet: never swept. */
const mine = new Set<string>();
let firstSweep: Promise<unknown> | undefined;

export interface PrivateTempDir {
  path: string;
  remove(): Promise<void>;
}

/**
 * Creates a private (0700) directory under the temp root. The first call in a process sweeps the
 * leftovers of dead processes first, so a program start cleans up before it writes anything new.
 */
export async function privateTempDir(purpose: 'auth' | 'sign' | 'msg' | 'ls' | 'probe' | 'revert'): Promise<PrivateTempDir> {
  firstSweep ??= sweepStaleTempDirs().catch(() => undefined);
  await firstSweep;
  const path = await mkdtemp(join(tmpdir(), `${PREFIX}${purpose}-${process.pid}-`));
  mine.add(path);
  return {
    path,
    remove: async () => {
      await rm(path, { recursive: true, force: true });
      mine.delete(path);
    },
  };
}

export interface SweepOptions {
  /** Default: the process's temp root (os.tmpdir(), $TMPDIR). */
  root?: string | undefined;
  /** Default: signal 0 answers (EPERM counts as alive: another user's process). */
  isAlive?: ((pid: number) => boolean) | undefined;
}

/**
 * Removes the temp directories of processes that are gone. A directory with this process's own
 * pid that it did not make is a previous life's (a restarted container is often pid 1 again, on
 * the same emptyDir), and goes too. Returns the paths removed.
 */
export async function sweepStaleTempDirs(options: SweepOptions = {}): Promise<string[]> {
  const root = options.root ?? tmpdir();
  const isAlive = options.isAlive ?? processAlive;
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return removed;
  }
  for (const name of names) {
    const match = NAME.exec(name);
    if (!match) continue;
    const path = join(root, name);
    const pid = Number(match[2]);
    if (mine.has(path)) continue;
    if (pid !== process.pid && isAlive(pid)) continue;
    await rm(path, { recursive: true, force: true });
    removed.push(path);
  }
  return removed;
}

/** Signal 0 asks whether a process is there without touching it; EPERM means it is, under another user. */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
