import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { KubeClient } from '../shared/kube/client.ts';
import { silentLogger } from '../shared/log/index.ts';
import type { CdComparison } from '../console/index.ts';
import { sessionPlanner, sweepSessionCaches } from './console-planner.ts';

const roots: string[] = [];
after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

function cacheRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'tidemark-console-planner-test-'));
  roots.push(root);
  return root;
}

/** The host part of a session cache's name, as the planner writes it. */
const host =
  hostname()
    .replace(/[^A-Za-z0-9.]/g, '_')
    .slice(0, 63) || 'host';
const noKube = {} as KubeClient;
const comparison: CdComparison = { revision: 'main@sha1:x', commit: undefined, changes: [], notes: [], problem: undefined };
const cd = { metadata: { namespace: 'apps', name: 'web' }, spec: {} } as Parameters<ReturnType<typeof sessionPlanner>['plan']>[0];

/** The pid of a process that has exited (its number is not reused this soon). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  assert.ok(child.pid);
  return child.pid;
}

describe('sweeping stale session caches at console start', () => {
  it("removes this host's caches whose console is gone or was an earlier life of this pid; keeps the rest", () => {
    const root = cacheRoot();
    const outside = mkdtempSync(join(tmpdir(), 'tidemark-console-planner-outside-'));
    roots.push(outside);
    writeFileSync(join(outside, 'keep'), 'x');
    const dead = deadPid();
    const made = (name: string) => {
      mkdirSync(join(root, name));
      writeFileSync(join(root, name, 'objects'), 'x');
    };
    made(`session-${host}-${dead}-AbC123`); // a crashed console's
    made(`session-${host}-${process.pid}-dEf456`); // an earlier life of this pid (a restarted container is pid 1 again)
    made(`session-${host}-${process.ppid}-GhI789`); // a console running beside this one
    made(`session-other.host-${dead}-JkL012`); // another Pod on a shared volume
    made('session-AbC123'); // not a name this module makes
    made('repos');
    writeFileSync(join(root, `session-${host}-${dead}-MnO345`), 'a file, not a cache');
    symlinkSync(outside, join(root, `session-${host}-${dead}-PqR678`));

    const removed = sweepSessionCaches(root, { log: silentLogger });

    assert.deepEqual(removed.sort(), [`session-${host}-${dead}-AbC123`, `session-${host}-${process.pid}-dEf456`].sort());
    assert.deepEqual(
      readdirSync(root).sort(),
      [
        `session-${host}-${process.ppid}-GhI789`,
        `session-other.host-${dead}-JkL012`,
        'session-AbC123',
        'repos',
        `session-${host}-${dead}-MnO345`,
        `session-${host}-${dead}-PqR678`,
      ].sort(),
    );
    assert.deepEqual(readdirSync(outside), ['keep'], 'a link is never followed');
  });

  it("finds the caches the session planner makes: a crash's are swept, a live console's are kept", async () => {
    const root = cacheRoot();
    const planner = sessionPlanner(noKube, { cacheRoot: root, log: silentLogger, plannerIn: () => () => Promise.resolve(comparison) });
    assert.deepEqual(await planner.plan(cd), comparison);
    const [made, ...more] = readdirSync(root);
    assert.ok(made !== undefined && more.length === 0, String(readdirSync(root)));
    // This process is alive: a console starting beside it leaves its cache alone.
    assert.deepEqual(sweepSessionCaches(root, { log: silentLogger, pid: deadPid() }), []);
    // Seen as a dead console's (the process is gone): swept.
    assert.deepEqual(sweepSessionCaches(root, { log: silentLogger, pid: deadPid(), alive: () => false }), [made]);
    assert.deepEqual(readdirSync(root), []);
  });

  it('warns about a cache it cannot remove and sweeps the rest', () => {
    const root = cacheRoot();
    const dead = deadPid();
    const stuck = `session-${host}-${dead}-StU901`;
    const gone = `session-${host}-${dead}-VwX234`;
    for (const name of [stuck, gone]) mkdirSync(join(root, name));
    const warned: { fields: Record<string, unknown>; message: string }[] = [];
    const log = { ...silentLogger, warn: (fields: Record<string, unknown>, message: string) => void warned.push({ fields, message }) };
    const remove = (path: string) => {
      if (path.endsWith(stuck)) throw Object.assign(new Error(`EACCES: permission denied, rmdir '${path}'`), { code: 'EACCES' });
      rmSync(path, { recursive: true });
    };

    assert.deepEqual(sweepSessionCaches(root, { log, remove }), [gone]);
    assert.deepEqual(readdirSync(root), [stuck]);
    assert.deepEqual(
      warned.map((w) => [w.message, w.fields.dir]),
      [['console: stale session cache not removed', stuck]],
    );
  });
});

describe('a session planner closed during a comparison', () => {
  it('removes its cache again once the comparison ends, so what the fetch wrote late is not left behind', async () => {
    const root = cacheRoot();
    let finish: () => void = () => undefined;
    const planner = sessionPlanner(noKube, {
      cacheRoot: root,
      log: silentLogger,
      plannerIn: (cacheDir) => () =>
        new Promise<CdComparison>((resolve) => {
          finish = () => {
            // The fetch goes on writing after the session closed.
            mkdirSync(join(cacheDir, 'repo.git'), { recursive: true });
            writeFileSync(join(cacheDir, 'repo.git', 'HEAD'), 'ref: refs/heads/main\n');
            resolve(comparison);
          };
        }),
    });
    const running = planner.plan(cd);
    await planner.close();
    assert.deepEqual(readdirSync(root), [], 'closing removes the cache at once');
    finish();
    await running;
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(readdirSync(root), []);
  });
});
