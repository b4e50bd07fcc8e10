/**
 * Item 7b: the image updater's peak resident set while it scans 20 image repositories and commits
 * to Git. Twenty ContinuousDeployments at twenty paths of one repository, each with its own image
 * repository (TAGS tags each) and a marker for it; a fresh `tidemark image-updater` process scans
 * every 2 s, commits the first update of all twenty, and then one more after a new tag is pushed
 * to every image repository. Memory is VmHWM from /proc/<pid>/status over the whole run.
 */
import { createHash } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { startRegistry } from '../../test/harness/registry.ts';
import type { TestRegistry } from '../../test/harness/registry.ts';
import { AgentProcess } from '../lib/agent-process.ts';
import { createCd, deleteCd, watchCds } from '../lib/cd.ts';
import type { BenchEnv } from '../lib/env.ts';
import { deleteNamespaceAndWait, gitSecret } from '../lib/env.ts';
import type { Files } from '../lib/manifests.ts';
import { readProcMemory } from '../lib/proc.ts';

export const UPDATER_REPOSITORIES = 20;
const TAGS = 200;
const BASE_TS = 1_800_000_000;

export interface UpdaterMemoryResult {
  repositories: number;
  tagsPerRepository: number;
  idleRssKiB: number;
  /** Start of the run → every file carries the newest tag of its repository, twice (two rounds). */
  firstRoundMs: number;
  secondRoundMs: number;
  commits: number;
  peakRssKiB: number;
  endRssKiB: number;
}

function tag(repo: number, i: number): string {
  return `main-${createHash('sha1').update(`${repo}-${i}`).digest('hex').slice(0, 7)}-${BASE_TS + i * 60}`;
}

const name = (i: number) => `img-${String(i).padStart(2, '0')}`;

export async function runUpdaterMemory(env: BenchEnv): Promise<UpdaterMemoryResult> {
  let registry: TestRegistry | undefined;
  let updater: AgentProcess | undefined;
  const ns = await env.cp.createNamespace('bench-updater-mem');
  const cds = watchCds(env, ns);
  const names = Array.from({ length: UPDATER_REPOSITORIES }, (_, i) => name(i));
  try {
    registry = await startRegistry({ auth: 'none' });
    const reg = registry;
    for (let r = 0; r < UPDATER_REPOSITORIES; r++) {
      await reg.pushImage(
        `team/${name(r)}`,
        Array.from({ length: TAGS }, (_, i) => tag(r, i)),
      );
    }
    const files: Files = {};
    for (const n of names) {
      files[`apps/${n}/deployment.yaml`] = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${n}
spec:
  replicas: 1
  selector:
    matchLabels: {app: ${n}}
  template:
    metadata:
      labels: {app: ${n}}
    spec:
      containers:
        - name: main
          image: nginx # {"$imagepolicy": "${ns}:${n}"}
`;
    }
    const repo = 'updater-memory';
    await env.git.repos.createRepo(repo, files, { branch: 'main' });
    const startCommits = (await env.git.repos.readLog(repo, 'main')).length;
    await gitSecret(env, ns, 'git-writer', 'writer');
    updater = await AgentProcess.start({
      program: 'image-updater',
      kubeconfigPath: env.cp.kubeconfigPath,
      namespace: ns,
      cacheDir: await mkdtemp(join(env.workDir, 'updater-cache-')),
    });
    await cds.ready();
    await new Promise((r) => setTimeout(r, 3_000));
    const idleRssKiB = readProcMemory(updater.pid)?.rssKiB ?? 0;
    env.log(`image updater memory: ${UPDATER_REPOSITORIES} image repositories × ${TAGS} tags`);
    const start = performance.now();
    for (const n of names) {
      await createCd(env, {
        name: n,
        namespace: ns,
        url: env.git.http!.url(repo),
        secretRef: 'git-writer',
        path: `./apps/${n}`,
        targetNamespace: ns,
        pullInterval: '10m',
        extra: {
          imageRepository: {
            image: `${reg.host}/team/${n}`,
            insecure: true,
            interval: '2s',
            filterTags: { pattern: '^main-[a-f0-9]+-(?P<ts>[0-9]+)', extract: '$ts' },
            policy: { numerical: { order: 'asc' } },
            commitMessage: 'Image: {{range .Updated.Images}}{{println .}}{{end}}',
          },
        },
      });
    }
    const until = async (newest: number, what: string) => {
      const deadline = performance.now() + 300_000;
      const left = new Set(names);
      while (left.size > 0) {
        if (!updater?.running) throw new Error(`the image updater exited while waiting for ${what}:\n${updater?.tail()}`);
        if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}: ${[...left].slice(0, 3).join(', ')} not updated`);
        for (const n of [...left]) {
          const text = await env.git.repos.readFile(repo, 'main', `apps/${n}/deployment.yaml`);
          if (text?.includes(`:${tag(names.indexOf(n), newest)} `)) left.delete(n);
        }
        if (left.size > 0) await new Promise((r) => setTimeout(r, 500));
      }
      return performance.now();
    };
    const first = await until(TAGS - 1, 'the first round of commits');
    for (let r = 0; r < UPDATER_REPOSITORIES; r++) await reg.pushImage(`team/${name(r)}`, [tag(r, TAGS)]);
    const secondStart = performance.now();
    const second = await until(TAGS, 'the second round of commits');
    updater.memory.sample();
    const commits = (await env.git.repos.readLog(repo, 'main')).length - startCommits;
    return {
      repositories: UPDATER_REPOSITORIES,
      tagsPerRepository: TAGS,
      idleRssKiB,
      firstRoundMs: first - start,
      secondRoundMs: second - secondStart,
      commits,
      peakRssKiB: Math.max(updater.memory.hwmKiB, updater.memory.peakRssKiB),
      endRssKiB: readProcMemory(updater.pid)?.rssKiB ?? 0,
    };
  } finally {
    cds.stop();
    for (const n of names) await deleteCd(env, ns, n).catch(() => undefined);
    await updater?.stop();
    await registry?.stop();
    await deleteNamespaceAndWait(env, ns).catch(() => undefined);
  }
}
