/**
 * Item 3: another client edits 100 of 1,000 managed objects (50 ConfigMaps' data, 50 Deployments'
 * replicas) with its own field manager; the time is from the first edit sent until a watch has
 * seen every one of them back at the value in Git. The agent's pull interval is 5 minutes, so
 * only its watch-driven self-heal can be that fast. The peer is Flux-style drift correction: the
 * next interval re-applies everything (its time is half an interval on average plus one
 * re-apply, which is measured with kubectl).
 */
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentProcess } from '../lib/agent-process.ts';
import { createCd, deleteCd, describeCd, isSyncedAt, watchCds } from '../lib/cd.ts';
import type { BenchEnv } from '../lib/env.ts';
import { deleteNamespaceAndWait, gitSecret } from '../lib/env.ts';
import { generateManifests } from '../lib/manifests.ts';
import { waitForQuiet } from '../lib/metrics.ts';
import { mapLimit } from '../../shared/kube/pool.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { CollectionWatch } from '../lib/watch.ts';
import { Resources } from '../../shared/api/resources.ts';

export const DRIFT_INTERVAL = '5m';

export interface DriftResult {
  n: number;
  edited: number;
  /** First edit sent → every edited object seen reverted, per run. */
  healMs: number[];
  /** Last edit acknowledged → every edited object seen reverted, per run. */
  afterLastEditMs: number[];
  /** Reconciles the agent reported per run (from its first edit to the next run's). */
  reconciles: number[];
}

interface Edit {
  kind: 'configmaps' | 'deployments';
  name: string;
  /** resourceVersion our edit produced: a revert is a later version with the Git value back. */
  editedVersion: number;
}

export async function runDrift(env: BenchEnv, options: { n: number; edits: number; reps: number }): Promise<DriftResult> {
  const { files, counts } = generateManifests(options.n, 'deploy');
  const repo = `drift-${options.n}`;
  const sha = await env.git.repos.createRepo(repo, files, { branch: 'main' });
  const agentNs = await env.cp.createNamespace('bench-drift');
  await gitSecret(env, agentNs, 'git-reader', 'reader');
  const target = await env.cp.createNamespace('drift');
  const agent = await AgentProcess.start({
    kubeconfigPath: env.cp.kubeconfigPath,
    namespace: agentNs,
    cacheDir: await mkdtemp(join(env.workDir, 'agent-cache-')),
  });
  const cds = watchCds(env, agentNs);
  const configMaps = new CollectionWatch<KubeObject>(env.kube.port, Resources.ConfigMap, { namespace: target });
  const deployments = new CollectionWatch<KubeObject>(env.kube.port, Resources.Deployment, { namespace: target });
  const result: DriftResult = { n: options.n, edited: options.edits, healMs: [], afterLastEditMs: [], reconciles: [] };
  try {
    await cds.ready();
    await createCd(env, {
      name: 'drift',
      namespace: agentNs,
      url: env.git.http!.url(repo),
      secretRef: 'git-reader',
      path: './deploy',
      targetNamespace: target,
      pullInterval: DRIFT_INTERVAL,
    });
    await cds.until(
      (all) => isSyncedAt(all.get('drift'), `main@sha1:${sha}`),
      'drift Synced',
      300_000,
      () => describeCd(cds.objects.get('drift')),
    );
    await Promise.all([configMaps.ready(), deployments.ready()]);
    const half = Math.floor(options.edits / 2);
    const cmNames = [...configMaps.objects.keys()]
      .filter((k) => k.endsWith('-config'))
      .sort()
      .slice(0, half);
    const deployNames = [...deployments.objects.keys()].sort().slice(0, options.edits - half);
    if (cmNames.length + deployNames.length !== options.edits || counts.deployments < deployNames.length) {
      throw new Error(`not enough objects to edit: ${cmNames.length} ConfigMaps, ${deployNames.length} Deployments`);
    }
    const marks: number[] = [];
    for (let rep = 0; rep <= options.reps; rep++) {
      await waitForQuiet(env.metrics, { quietMs: 3_000, timeoutMs: 60_000 });
      if (rep > 0) marks.push(performance.now());
      const edits: Edit[] = [];
      const start = performance.now();
      const sent = await mapLimit(
        [
          ...cmNames.map((name) => ({ kind: 'configmaps' as const, name })),
          ...deployNames.map((name) => ({ kind: 'deployments' as const, name })),
        ],
        16,
        async (e) => {
          const path =
            e.kind === 'configmaps'
              ? `/api/v1/namespaces/${target}/configmaps/${e.name}`
              : `/apis/apps/v1/namespaces/${target}/deployments/${e.name}`;
          const body = e.kind === 'configmaps' ? { data: { LOG_LEVEL: `debug-${rep}` } } : { spec: { replicas: 3 } };
          const edited = await env.kube.rest.request<KubeObject>({
            method: 'PATCH',
            path,
            query: { fieldManager: 'bench-intruder' },
            contentType: 'application/merge-patch+json',
            body,
          });
          return { kind: e.kind, name: e.name, editedVersion: Number(edited.metadata.resourceVersion) };
        },
      );
      const lastEdit = performance.now();
      edits.push(...sent);
      const reverted = (e: Edit): boolean => {
        const live = (e.kind === 'configmaps' ? configMaps : deployments).objects.get(e.name);
        if (!live || Number(live.metadata.resourceVersion) <= e.editedVersion) return false;
        if (e.kind === 'configmaps') return (live.data as Record<string, string> | undefined)?.LOG_LEVEL === 'info';
        return (live.spec as { replicas?: number } | undefined)?.replicas === 1;
      };
      const check = () => edits.every(reverted);
      const describe = () => `${edits.filter((e) => !reverted(e)).length} of ${edits.length} not reverted`;
      const race = new AbortController();
      const done = await Promise.race([
        configMaps.until(check, 'drift healed', 120_000, describe, race.signal),
        deployments.until(check, 'drift healed', 120_000, describe, race.signal),
      ]).finally(() => race.abort());
      const label = rep === 0 ? 'warm-up' : `run ${rep}/${options.reps}`;
      env.log(`drift: ${label}: ${edits.length} edits healed in ${(done - start).toFixed(0)} ms`);
      if (rep === 0) continue;
      result.healMs.push(done - start);
      result.afterLastEditMs.push(done - lastEdit);
    }
    // A reconcile logs after its status write, later than the revert is visible: count at the end.
    await waitForQuiet(env.metrics, { quietMs: 3_000, timeoutMs: 60_000 });
    marks.push(performance.now());
    for (let i = 0; i + 1 < marks.length; i++) {
      result.reconciles.push(
        agent.lines.filter((l) => l.cd === `${agentNs}/drift` && l.at >= (marks[i] as number) && l.at < (marks[i + 1] as number)).length,
      );
    }
    return result;
  } finally {
    configMaps.stop();
    deployments.stop();
    cds.stop();
    await deleteCd(env, agentNs, 'drift').catch(() => undefined);
    await agent.stop();
    await deleteNamespaceAndWait(env, target).catch(() => undefined);
    await deleteNamespaceAndWait(env, agentNs).catch(() => undefined);
  }
}
