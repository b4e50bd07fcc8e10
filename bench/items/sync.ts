/**
 * Items 1 and 2 (and their scaling points, item 9): the whole agent, run as `tidemark agent`,
 * syncing N objects from the Git server into an empty namespace, against `kubectl apply
 * --server-side` (v1.35) of the same files into another empty namespace. Runs alternate sides and
 * each side gets a fresh namespace; every namespace is deleted (and gone) before the next run.
 */
import { join } from 'node:path';
import { mkdtemp } from 'node:fs/promises';
import type { BenchEnv } from '../lib/env.ts';
import { deleteNamespaceAndWait, gitSecret, kubectlArgs, writeFiles } from '../lib/env.ts';
import { AgentProcess } from '../lib/agent-process.ts';
import { createCd, deleteCd, describeCd, isSyncedAt, watchCds } from '../lib/cd.ts';
import { generateManifests } from '../lib/manifests.ts';
import type { ObjectCounts } from '../lib/manifests.ts';
import { diffSnapshots, scrapeMetrics, summarize, waitForQuiet } from '../lib/metrics.ts';
import type { RequestSample, RequestSummary } from '../lib/metrics.ts';
import { mustRun } from '../lib/proc.ts';
import { median } from '../lib/stats.ts';

export interface SyncPointPlan {
  n: number;
  /** Measured runs per side (a warm-up run comes first when `warmup`). */
  reps: number;
  warmup: boolean;
  /** Timer-driven no-op reconciles sampled per run (after one discarded). */
  oursNoops: number;
  /** kubectl re-applies per run. */
  peerNoops: number;
}

export interface SideRun {
  firstMs: number;
  /** Requests the API server saw during the first sync, for the applied kinds. */
  firstRequests: RequestSummary;
  noopMs: number[];
  /** Every request the API server saw during the no-op window (after it had gone quiet). */
  noopRequests: RequestSummary;
  noopWindowMs: number;
  quietWaitMs: number;
  quiet: boolean;
}

export interface SyncPointResult {
  n: number;
  counts: ObjectCounts;
  ours: SideRun[];
  peer: SideRun[];
  agentPeakRssKiB: number;
  notes: string[];
}

/** The kinds both sides write, plus discovery and our own CRD; not what the controller manager does in reaction. */
const APPLIED = new Set([
  'configmaps',
  'deployments',
  'services',
  'widgets',
  'customresourcedefinitions',
  'continuousdeployments',
  'namespaces',
  'secrets',
  '',
]);
function appliedKinds(s: RequestSample): boolean {
  if (!APPLIED.has(s.resource)) return false;
  // The controller manager writes Deployment status; our status subresource is the CD's.
  return s.subresource === '' || s.resource === 'continuousdeployments';
}

const PULL_INTERVAL = '2s';

export async function runSyncPoint(env: BenchEnv, plan: SyncPointPlan): Promise<SyncPointResult> {
  const { n } = plan;
  const { files, counts } = generateManifests(n, 'deploy');
  const repo = `sync-${n}`;
  const sha = await env.git.repos.createRepo(repo, files, { branch: 'main' });
  const revision = `main@sha1:${sha}`;
  const localDir = await mkdtemp(join(env.workDir, `peer-${n}-`));
  await writeFiles(localDir, files);
  const peerPath = join(localDir, 'deploy');

  const agentNs = await env.cp.createNamespace(`bench-agent-${n}`);
  await gitSecret(env, agentNs, 'git-reader', 'reader');
  const agent = await AgentProcess.start({
    kubeconfigPath: env.cp.kubeconfigPath,
    namespace: agentNs,
    cacheDir: await mkdtemp(join(env.workDir, 'agent-cache-')),
  });
  const cds = watchCds(env, agentNs);
  const result: SyncPointResult = { n, counts, ours: [], peer: [], agentPeakRssKiB: 0, notes: [] };
  try {
    await cds.ready();
    const total = plan.reps + (plan.warmup ? 1 : 0);
    for (let rep = 0; rep < total; rep++) {
      const warm = plan.warmup && rep === 0;
      const label = warm ? 'warm-up' : `run ${rep + (plan.warmup ? 0 : 1)}/${plan.reps}`;
      const sides = rep % 2 === 0 ? (['ours', 'peer'] as const) : (['peer', 'ours'] as const);
      for (const side of sides) {
        env.log(`sync ${n}: ${label}, ${side === 'ours' ? 'tidemark agent' : 'kubectl apply --server-side'}`);
        const run =
          side === 'ours'
            ? await oursRun(env, { agent, cds, agentNs, repo, revision, n, rep, noops: warm ? 0 : plan.oursNoops })
            : await peerRun(env, { path: peerPath, n, noops: warm ? 0 : plan.peerNoops });
        if (!warm) result[side].push(run);
      }
    }
  } finally {
    result.agentPeakRssKiB = agent.memory.hwmKiB;
    cds.stop();
    await agent.stop();
    await deleteNamespaceAndWait(env, agentNs).catch(() => undefined);
  }
  return result;
}

interface OursInput {
  agent: AgentProcess;
  cds: ReturnType<typeof watchCds>;
  agentNs: string;
  repo: string;
  revision: string;
  n: number;
  rep: number;
  noops: number;
}

async function oursRun(env: BenchEnv, input: OursInput): Promise<SideRun> {
  const target = await env.cp.createNamespace(`ours-${input.n}`);
  const name = `sync-${input.n}-${input.rep}`;
  const key = `${input.agentNs}/${name}`;
  const timeoutMs = 120_000 + input.n * 200;
  try {
    const before = await scrapeMetrics(env.metrics);
    const start = performance.now();
    await createCd(env, {
      name,
      namespace: input.agentNs,
      url: env.git.http!.url(input.repo),
      secretRef: 'git-reader',
      path: './deploy',
      targetNamespace: target,
      pullInterval: PULL_INTERVAL,
    });
    const synced = await input.cds.until(
      (all) => isSyncedAt(all.get(name), input.revision),
      `${name} Synced`,
      timeoutMs,
      () => describeCd(input.cds.objects.get(name)),
    );
    const firstMs = synced - start;
    const firstRequests = summarize(diffSnapshots(before, await scrapeMetrics(env.metrics)), appliedKinds);

    let noopMs: number[] = [];
    let noopRequests = summarize([]);
    let noopWindowMs = 0;
    let quiet = { waitedMs: 0, quiet: true };
    if (input.noops > 0) {
      quiet = await waitForQuiet(env.metrics, { quietMs: 3_000, timeoutMs: 60_000 });
      const mark = performance.now();
      const windowBefore = await scrapeMetrics(env.metrics);
      // The first report may belong to a reconcile that began before the window: skip it.
      const finished = () => input.agent.reportsFor(key, mark).filter((l) => l.msg === 'reconcile finished');
      await input.agent.waitForReports(
        () => finished().length >= input.noops + 1,
        `${input.noops + 1} no-op reconciles of ${key}`,
        60_000 + input.n * 20,
      );
      noopRequests = summarize(diffSnapshots(windowBefore, await scrapeMetrics(env.metrics)));
      noopWindowMs = performance.now() - mark;
      noopMs = finished()
        .slice(1, input.noops + 1)
        .map((l) => l.durationMs ?? Number.NaN);
    }
    return {
      firstMs,
      firstRequests,
      noopMs,
      noopRequests,
      noopWindowMs,
      quietWaitMs: quiet.waitedMs,
      quiet: quiet.quiet,
    };
  } finally {
    await deleteCd(env, input.agentNs, name);
    await deleteNamespaceAndWait(env, target);
  }
}

async function peerRun(env: BenchEnv, input: { path: string; n: number; noops: number }): Promise<SideRun> {
  const target = await env.cp.createNamespace(`peer-${input.n}`);
  const args = kubectlArgs(env, ['apply', '--server-side', '--force-conflicts', '-R', '-f', input.path, '-n', target]);
  const timeoutMs = 120_000 + input.n * 200;
  try {
    const before = await scrapeMetrics(env.metrics);
    const first = await mustRun(env.tools.kubectl, args, { timeoutMs });
    const firstRequests = summarize(diffSnapshots(before, await scrapeMetrics(env.metrics)), appliedKinds);
    if (first.stdoutLines !== input.n) throw new Error(`kubectl applied ${first.stdoutLines} objects, expected ${input.n}`);

    const noopMs: number[] = [];
    let noopRequests = summarize([]);
    let noopWindowMs = 0;
    let quiet = { waitedMs: 0, quiet: true };
    if (input.noops > 0) {
      quiet = await waitForQuiet(env.metrics, { quietMs: 3_000, timeoutMs: 60_000 });
      const mark = performance.now();
      const windowBefore = await scrapeMetrics(env.metrics);
      for (let i = 0; i < input.noops; i++) noopMs.push((await mustRun(env.tools.kubectl, args, { timeoutMs })).ms);
      noopRequests = summarize(diffSnapshots(windowBefore, await scrapeMetrics(env.metrics)));
      noopWindowMs = performance.now() - mark;
    }
    return {
      firstMs: first.ms,
      firstRequests,
      noopMs,
      noopRequests,
      noopWindowMs,
      quietWaitMs: quiet.waitedMs,
      quiet: quiet.quiet,
    };
  } finally {
    await deleteNamespaceAndWait(env, target);
  }
}

/** Per run: the median of its no-op samples (a run is one pair). */
export function noopPerRun(runs: readonly SideRun[]): number[] {
  return runs.map((r) => median(r.noopMs)).filter((v) => Number.isFinite(v));
}
