/**
 * Item 7 (and its scaling points): a fresh `tidemark agent` process managing N objects split over
 * 20 ContinuousDeployments (one repository, twenty paths, twenty target namespaces). Its memory is
 * read from /proc/<pid>/status: VmHWM is the kernel's own peak of the resident set, over the
 * first syncs and then two resync intervals of steady state.
 */
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentProcess } from '../lib/agent-process.ts';
import { createCd, deleteCd, describeCd, isSyncedAt, watchCds } from '../lib/cd.ts';
import type { BenchEnv } from '../lib/env.ts';
import { deleteNamespaceAndWait, gitSecret } from '../lib/env.ts';
import type { Files } from '../lib/manifests.ts';
import { generateManifests, shares } from '../lib/manifests.ts';
import { readProcMemory } from '../lib/proc.ts';

export const MEMORY_CDS = 20;
const PULL_INTERVAL_MS = 5_000;

export interface MemoryResult {
  n: number;
  cds: number;
  /** Resident set before any ContinuousDeployment existed. */
  idleRssKiB: number;
  /** VmHWM once every ContinuousDeployment is Synced. */
  syncedHwmKiB: number;
  /** VmHWM after two more pull intervals: the figure reported. */
  peakRssKiB: number;
  /** Resident set at the end (not the peak). */
  endRssKiB: number;
  /** From the first ContinuousDeployment created to the last one Synced. */
  allSyncedMs: number;
  reconciles: number;
}

export async function runMemoryPoint(env: BenchEnv, n: number): Promise<MemoryResult> {
  const files: Files = {};
  shares(n, MEMORY_CDS).forEach((count, i) =>
    Object.assign(files, generateManifests(count, `part-${String(i).padStart(2, '0')}`, { withCrd: false }).files),
  );
  const repo = `memory-${n}`;
  const sha = await env.git.repos.createRepo(repo, files, { branch: 'main' });
  const revision = `main@sha1:${sha}`;
  const agentNs = await env.cp.createNamespace(`bench-mem-${n}`);
  await gitSecret(env, agentNs, 'git-reader', 'reader');
  const targets: string[] = [];
  for (let i = 0; i < MEMORY_CDS; i++) targets.push(await env.cp.createNamespace(`mem-${n}-${i}`));
  const agent = await AgentProcess.start({
    kubeconfigPath: env.cp.kubeconfigPath,
    namespace: agentNs,
    cacheDir: await mkdtemp(join(env.workDir, 'agent-cache-')),
  });
  const cds = watchCds(env, agentNs);
  const names = targets.map((_, i) => `part-${String(i).padStart(2, '0')}`);
  try {
    await cds.ready();
    await new Promise((r) => setTimeout(r, 3_000));
    const idleRssKiB = readProcMemory(agent.pid)?.rssKiB ?? 0;
    env.log(`memory ${n}: ${MEMORY_CDS} ContinuousDeployments of ${Math.round(n / MEMORY_CDS)} objects`);
    const start = performance.now();
    for (let i = 0; i < MEMORY_CDS; i++) {
      await createCd(env, {
        name: names[i] as string,
        namespace: agentNs,
        url: env.git.http!.url(repo),
        secretRef: 'git-reader',
        path: `./${names[i]}`,
        targetNamespace: targets[i] as string,
        pullInterval: `${PULL_INTERVAL_MS / 1000}s`,
      });
    }
    const done = await cds.until(
      (all) => names.every((name) => isSyncedAt(all.get(name), revision)),
      `${MEMORY_CDS} ContinuousDeployments Synced`,
      180_000 + n * 100,
      () =>
        names
          .filter((name) => !isSyncedAt(cds.objects.get(name), revision))
          .map((name) => `${name}: ${describeCd(cds.objects.get(name))}`)
          .slice(0, 3)
          .join('; '),
    );
    agent.memory.sample();
    const syncedHwmKiB = agent.memory.hwmKiB;
    await new Promise((r) => setTimeout(r, 2 * PULL_INTERVAL_MS + 1_000));
    agent.memory.sample();
    return {
      n,
      cds: MEMORY_CDS,
      idleRssKiB,
      syncedHwmKiB,
      peakRssKiB: Math.max(agent.memory.hwmKiB, agent.memory.peakRssKiB),
      endRssKiB: readProcMemory(agent.pid)?.rssKiB ?? 0,
      allSyncedMs: done - start,
      reconciles: agent.lines.length,
    };
  } finally {
    cds.stop();
    for (const name of names) await deleteCd(env, agentNs, name).catch(() => undefined);
    await agent.stop();
    for (const t of targets) await env.cp.deleteNamespace(t).catch(() => undefined);
    for (const t of targets) await deleteNamespaceAndWait(env, t).catch(() => undefined);
    await deleteNamespaceAndWait(env, agentNs).catch(() => undefined);
  }
}
