/**
 * The agent's Git cache under pressure: its filesystem full (a tmpfs of a few MiB, filled up), and
 * the agent killed in the middle of a download. While the disk is full the last good commit stays
 * applied, nothing is pruned, and Ready says `DiskFull`; once space returns the agent syncs the new
 * commit by itself. After a kill, the restarted agent removes what the dead one left (git's
 * temporary pack, lock files, its private temp directories) and converges.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import type { AgentProcess } from '../harness/agent-process.ts';
import { startAgentProcess } from '../harness/agent-process.ts';
import { kubeconfigYaml } from '../harness/control-plane.ts';
import type { GitFaultProxy } from '../harness/git-fault-proxy.ts';
import { startGitFaultProxy } from '../harness/git-fault-proxy.ts';
import { waitFor } from '../harness/process.ts';
import { applyCd, condition, waitForCd } from '../harness/tidemark.ts';
import { releaseDeployment, type FaultEnv, liveConfigMaps, diff } from './case-env.ts';
import type { FaultRow } from './report.ts';

const configMap = (i: number, v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\ndata:\n  v: ${v}\n`;
/** Commit A: cm-0…cm-4 at "a". */
const filesA = (): Record<string, string> => Object.fromEntries([0, 1, 2, 3, 4].map((i) => [`d/cm-${i}.yaml`, configMap(i, 'a')]));
/** Commit B: cm-0 changed, cm-4 gone, cm-5 new, and `bytes` of incompressible data beside them. */
const filesB = (bytes: number): Record<string, string | Buffer | null> => ({
  'd/cm-0.yaml': configMap(0, 'b'),
  'd/cm-4.yaml': null,
  'd/cm-5.yaml': configMap(5, 'b'),
  'assets/blob.bin': randomBytes(bytes),
});
const wantA = () => new Map([0, 1, 2, 3, 4].map((i) => [`cm-${i}`, 'a']));
const wantB = () =>
  new Map([
    ['cm-0', 'b'],
    ['cm-1', 'a'],
    ['cm-2', 'a'],
    ['cm-3', 'a'],
    ['cm-5', 'b'],
  ]);

/** What a git or an agent killed mid-work leaves in a cache directory. */
const LEFTOVER = /^tmp_|\.lock$|\.keep$|^locked$/;

interface Scene {
  ns: string;
  repo: string;
  work: string;
  cacheDir: string;
  agent: AgentProcess | undefined;
  proxy: GitFaultProxy | undefined;
}

/** The agent's cache on a tmpfs of 4 MiB, filled while a new commit waits; then space returns. */
export async function runDiskFull(env: FaultEnv): Promise<FaultRow> {
  return withScene(env, 'diskfull', '4m', async (scene, sync) => {
    const a = await sync();
    // Fill what is left, to the last byte the filesystem will take.
    const filler = join(scene.cacheDir, 'filler');
    fill(filler);
    const b = await env.git.repos.commitFiles(scene.repo, 'main', filesB(256 * 1024), 'change cm-0, drop cm-4, add cm-5, 256 KiB asset');

    const failed = await waitForCd(
      env.admin,
      scene.ns,
      'app',
      (cd) => condition(cd, 'Ready')?.status === 'False',
      'Ready=False while the disk is full',
      90_000,
    );
    const ready = condition(failed, 'Ready');
    assert.equal(ready?.reason, 'DiskFull', `the condition's reason: ${ready?.message}`);
    assert.match(ready?.message ?? '', /no space left on device/i, 'the message says what is full');
    assert.equal(failed.status?.lastAppliedRevision, `main@sha1:${a}`, 'the last good commit is still the applied one');
    // It keeps retrying against the full disk meanwhile: give it a few polls to do harm.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const during = diff(wantA(), await liveConfigMaps(env.admin, scene.ns));
    assert.deepEqual(during, [], 'the last good state stays applied: nothing pruned, nothing of the new commit');

    await rm(filler, { force: true });
    const cd = await waitForCd(env.admin, scene.ns, 'app', synced(b), 'synced once space returned', 120_000);
    assert.equal(condition(cd, 'Ready')?.status, 'True');
    const live = await liveConfigMaps(env.admin, scene.ns);
    const missing = diff(wantB(), live).filter((n) => wantB().has(n));
    const orphans = [...live.keys()].filter((n) => !wantB().has(n));
    assert.deepEqual(missing, [], 'every object of the new commit is live');
    assert.deepEqual(orphans, [], 'nothing the new commit dropped is left');
    assert.deepEqual(await leftovers(scene.cacheDir), [], 'the failed fetches left no temporary files in the cache');
    return {
      fault: 'checkout disk full (a 4 MiB tmpfs filled up), then space returns',
      converged: true,
      lostObjects: during.length + missing.length,
      orphans: orphans.length,
    };
  });
}

/**
 * The agent and its git killed (SIGKILL, as a container dies) while a 4 MiB pack is half
 * downloaded; the agent started again on the same cache must remove what they left and converge.
 */
export async function runKilledMidFetch(env: FaultEnv, report: (left: readonly string[]) => void = () => {}): Promise<FaultRow> {
  return withScene(env, 'midfetch', '32m', async (scene, sync) => {
    await sync();
    const proxy = scene.proxy as GitFaultProxy;
    const agent = scene.agent as AgentProcess;
    proxy.setRule((call) => (call.kind === 'fetch' ? { stallAfter: 1024 * 1024 } : 'forward'));
    const b = await env.git.repos.commitFiles(scene.repo, 'main', filesB(4 * 1024 * 1024), 'change cm-0, drop cm-4, add cm-5, 4 MiB asset');

    // git has written part of the pack and waits for the rest: kill it there.
    await waitFor(async () => (await leftovers(scene.cacheDir)).some((p) => /tmp_pack_/.test(p)), {
      timeoutMs: 90_000,
      what: 'a pack half downloaded into the cache',
    });
    const oldPid = agent.pid() as number;
    const oldTemp = await tempDirsOf(oldPid);
    assert.ok(oldTemp.length > 0, 'the agent holds a private temp directory for the credentials while it fetches');
    agent.kill('SIGKILL');
    await agent.exited();
    // In a Pod the whole container dies; here git was started in a group of its own and lives on.
    await killProcessesIn(scene.cacheDir);
    const left = await leftovers(scene.cacheDir);
    assert.ok(left.length > 0, 'the kill left temporary files behind (else this case proves nothing)');
    report(left);

    proxy.setRule(undefined);
    await agent.restart();
    const cd = await waitForCd(env.admin, scene.ns, 'app', synced(b), 'synced after the restart', 120_000);
    assert.equal(condition(cd, 'Ready')?.status, 'True');
    const live = await liveConfigMaps(env.admin, scene.ns);
    const missing = diff(wantB(), live).filter((n) => wantB().has(n));
    const orphans = [...live.keys()].filter((n) => !wantB().has(n));
    assert.deepEqual(missing, [], 'every object of the new commit is live');
    assert.deepEqual(orphans, [], 'nothing the new commit dropped is left');
    assert.deepEqual(await leftovers(scene.cacheDir), [], `the restarted agent removed what the killed one left: ${left.join(', ')}`);
    assert.deepEqual(await tempDirsOf(oldPid), [], 'and the killed one’s private temp directories');
    return {
      fault: 'agent and git SIGKILL mid-fetch (1 MiB of a 4 MiB pack), restarted',
      converged: true,
      lostObjects: missing.length,
      orphans: orphans.length,
    };
  });
}

const synced = (sha: string) => (cd: ContinuousDeployment) =>
  cd.status?.lastAppliedRevision === `main@sha1:${sha}` && cd.status?.sync?.status === 'Synced';

/**
 * A namespace, a repository with commit A, the agent (with the reader's credentials, through a Git
 * fault proxy) on a cache that is a fresh tmpfs of `size`; `sync()` deploys A and waits for it.
 * Everything is undone afterwards, the mount included.
 */
async function withScene(
  env: FaultEnv,
  prefix: string,
  size: string,
  body: (scene: Scene, sync: () => Promise<string>) => Promise<FaultRow>,
): Promise<FaultRow> {
  const { cluster, admin, git } = env;
  const ns = await cluster.createNamespace(prefix);
  const work = await mkdtemp(join(tmpdir(), `tidemark-${prefix}-`));
  const scene: Scene = { ns, repo: `${prefix}-${ns.slice(-6)}`, work, cacheDir: join(work, 'cache'), agent: undefined, proxy: undefined };
  let mounted = false;
  try {
    await mkdir(scene.cacheDir);
    await run('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', scene.cacheDir]);
    mounted = true;
    scene.proxy = await startGitFaultProxy(git.http!.baseUrl);
    const a = await git.repos.createRepo(scene.repo, filesA(), { branch: 'main' });
    await admin.rest.request({
      method: 'POST',
      path: `/api/v1/namespaces/${ns}/secrets`,
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'git' },
        stringData: { username: git.http!.reader.username, password: git.http!.reader.password },
      },
    });
    const kubeconfig = join(work, 'kubeconfig');
    await writeFile(kubeconfig, kubeconfigYaml(cluster.info, 'admin', cluster.adminToken), { mode: 0o600 });
    scene.agent = await startAgentProcess({ kubeconfig, namespace: ns, cacheDir: scene.cacheDir });
    const sync = async () => {
      const spec = {
        url: scene.proxy!.url(git.http!.url(scene.repo)),
        path: 'd',
        pullInterval: '2s',
        timeout: '20s',
        secretRef: 'git',
        insecure: true,
      };
      await applyCd(admin, { metadata: { name: 'app', namespace: ns }, spec });
      await waitForCd(admin, ns, 'app', synced(a), 'first sync', 120_000);
      return a;
    };
    return await body(scene, sync);
  } catch (err) {
    throw new Error(`${prefix}: ${(err as Error).message}\nagent output (tail): ${scene.agent?.output().slice(-3000) ?? ''}`, {
      cause: err,
    });
  } finally {
    scene.proxy?.setRule(undefined);
    await releaseDeployment(admin, ns, 'app', 30_000);
    await scene.agent?.stop();
    await killProcessesIn(scene.cacheDir).catch(() => undefined);
    await scene.proxy?.close();
    await cluster.deleteNamespace(ns).catch(() => undefined);
    if (mounted) await run('umount', [scene.cacheDir]).catch(() => run('umount', ['-l', scene.cacheDir]));
    await rm(work, { recursive: true, force: true });
  }
}

/** Writes zeros into `path` until the filesystem refuses (ENOSPC). */
function fill(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) {
      try {
        writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw err;
      }
    }
    // The last partial chunk: byte by byte is too slow, halving is enough.
    for (let size = 32 * 1024; size >= 1; size = Math.floor(size / 2)) {
      try {
        writeSync(fd, chunk.subarray(0, size));
      } catch {
        // full at this size; try smaller
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** Paths under `dir` (relative) that look like what a killed git or agent leaves. */
async function leftovers(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (rel: string) => {
    const entries = await readdir(join(dir, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (LEFTOVER.test(e.name)) found.push(path);
      if (e.isDirectory()) await walk(path);
    }
  };
  await walk('');
  return found.sort();
}

/** The agent's private temp directories (tidemark-git-<purpose>-<pid>-XXXXXX) of process `pid`. */
async function tempDirsOf(pid: number): Promise<string[]> {
  return (await readdir(tmpdir())).filter((name) => new RegExp(`^tidemark-git-[a-z]+-${pid}-`).test(name));
}

/** SIGKILLs every process whose working directory is inside `dir`: the git processes of this case's agent. */
async function killProcessesIn(dir: string): Promise<void> {
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
    if (cwd === dir || cwd.startsWith(`${dir}/`)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
}

function run(command: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, [...args], { timeout: 30_000 }, (err, _stdout, stderr) =>
      err ? reject(new Error(`${command} ${args.join(' ')}: ${stderr || err.message}`)) : resolve(),
    );
  });
}
