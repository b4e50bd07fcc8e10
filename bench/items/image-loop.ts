/**
 * Item 8: the whole image loop with real servers and both programs as their own processes —
 * a tag pushed to the registry → `tidemark image-updater` scans (every 1 s), its policy picks the
 * tag, the automation rewrites the marker, pushes a bot commit to the Git server and records the push in
 * its status → `tidemark agent` sees the push and applies the new image. The time is
 * from the start of the tag push to the moment a watch sees the Deployment with the new image.
 * The ContinuousDeployment also polls Git every 2 s: whichever comes first, the trigger or the
 * poll, applies the bot commit.
 *
 * Item 8w (`webhook`): the same loop with no polling at all — scan interval and pullInterval an
 * hour — where the registry's notification to a distribution Receiver (`tidemark notification`,
 * its own process) starts the scan.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../test/harness/ports.ts';
import { startRegistry } from '../../test/harness/registry.ts';
import { webhookPath } from '../../notification/index.ts';
import type { TestRegistry } from '../../test/harness/registry.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { AgentProcess } from '../lib/agent-process.ts';
import { createCd, deleteCd, describeCd, watchCds } from '../lib/cd.ts';
import type { BenchEnv } from '../lib/env.ts';
import { deleteNamespaceAndWait, gitSecret } from '../lib/env.ts';
import { CollectionWatch } from '../lib/watch.ts';
import { Resources } from '../../shared/api/resources.ts';

const REPO = 'team/loop';
const BASE_TS = 1_800_000_000;

function loopTag(i: number): string {
  return `master-${createHash('sha1').update(`loop-${i}`).digest('hex').slice(0, 7)}-${BASE_TS + i * 60}`;
}

const manifest = (ns: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: my-app
spec:
  replicas: 1
  selector:
    matchLabels: {app: my-app}
  template:
    metadata:
      labels: {app: my-app}
    spec:
      containers:
        - name: my-app
          image: nginx # {"$imagepolicy": "${ns}:loop"}
`;

export interface ImageLoopResult {
  /** Tag push started → Deployment seen with the new image, per run. */
  endToEndMs: number[];
  /** Of which: push started → bot commit on the branch. */
  toCommitMs: number[];
  /** Bot commit on the branch → Deployment seen with the new image. */
  commitToDeployedMs: number[];
}

export async function runImageLoop(env: BenchEnv, options: { reps: number; webhook?: boolean }): Promise<ImageLoopResult> {
  let registry: TestRegistry | undefined;
  let agent: AgentProcess | undefined;
  let updater: AgentProcess | undefined;
  let notification: AgentProcess | undefined;
  const ns = await env.cp.createNamespace('bench-loop');
  const apps = await env.cp.createNamespace('loop-apps');
  const cds = watchCds(env, ns);
  const deployments = new CollectionWatch<KubeObject>(env.kube.port, Resources.Deployment, { namespace: apps });
  const result: ImageLoopResult = { endToEndMs: [], toCommitMs: [], commitToDeployedMs: [] };
  try {
    const receiverAddress = `127.0.0.1:${await freePort()}`;
    const token = randomBytes(16).toString('hex');
    registry = await startRegistry({
      auth: 'none',
      ...(options.webhook ? { notifications: { url: `http://${receiverAddress}${webhookPath(token, 'registry', ns)}` } } : {}),
    });
    const image = `${registry.host}/${REPO}`;
    await registry.pushImage(REPO, [loopTag(0)]);
    await env.git.repos.createRepo('loop', { 'deploy/app.yaml': manifest(ns) }, { branch: 'main' });
    await gitSecret(env, ns, 'git-writer', 'writer');
    const cacheDir = await mkdtemp(join(env.workDir, 'loop-cache-'));
    agent = await AgentProcess.start({ kubeconfigPath: env.cp.kubeconfigPath, namespace: ns, cacheDir });
    updater = await AgentProcess.start({
      program: 'image-updater',
      kubeconfigPath: env.cp.kubeconfigPath,
      namespace: ns,
      cacheDir,
    });
    if (options.webhook) {
      await env.kube.rest.request({
        method: 'POST',
        path: `/api/v1/namespaces/${ns}/secrets`,
        body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'registry-webhook' }, stringData: { token } },
      });
      await env.kube.rest.request({
        method: 'POST',
        path: `/apis/tidemark.dev/v1alpha1/namespaces/${ns}/receivers`,
        body: {
          apiVersion: 'tidemark.dev/v1alpha1',
          kind: 'Receiver',
          metadata: { name: 'registry' },
          spec: { type: 'distribution', secretRef: { name: 'registry-webhook' }, resources: [{ kind: 'ImageRepository', name: '*' }] },
        },
      });
      notification = await AgentProcess.start({
        program: 'notification',
        kubeconfigPath: env.cp.kubeconfigPath,
        namespace: ns,
        cacheDir,
        args: ['--receiver-addr', receiverAddress],
      });
    }
    await cds.ready();
    await createCd(env, {
      name: 'loop',
      namespace: ns,
      url: env.git.http!.url('loop'),
      secretRef: 'git-writer',
      path: './deploy',
      targetNamespace: apps,
      pullInterval: options.webhook ? '1h' : '2s',
      extra: {
        imageRepository: {
          image,
          insecure: true,
          interval: options.webhook ? '1h' : '1s',
          filterTags: { pattern: '^master-[a-f0-9]+-(?P<ts>[0-9]+)', extract: '$ts' },
          policy: { numerical: { order: 'asc' } },
          commitMessage: 'Image: {{range .Updated.Images}}{{println .}}{{end}}',
        },
      },
    });
    const imageOf = (all: Map<string, KubeObject>) =>
      (all.get('my-app')?.spec as { template?: { spec?: { containers?: Array<{ image?: string }> } } } | undefined)?.template?.spec
        ?.containers?.[0]?.image;
    await deployments.until(
      (all) => imageOf(all) === `${image}:${loopTag(0)}`,
      'the first tag deployed',
      180_000,
      () => `${imageOf(deployments.objects)}; ${describeCd(cds.objects.get('loop'))}`,
    );
    for (let rep = 0; rep <= options.reps; rep++) {
      const tag = loopTag(rep + 1);
      const head = await env.git.repos.head('loop', 'main');
      const start = performance.now();
      await registry.pushImage(REPO, [tag]);
      let committedAt: number | undefined;
      const watchCommit = (async () => {
        while (committedAt === undefined && performance.now() - start < 120_000) {
          if ((await env.git.repos.head('loop', 'main')) !== head) committedAt = performance.now();
          else await new Promise((r) => setTimeout(r, 50));
        }
      })();
      const done = await deployments.until(
        (all) => imageOf(all) === `${image}:${tag}`,
        `${tag} deployed`,
        120_000,
        () => `${imageOf(deployments.objects)}; ${describeCd(cds.objects.get('loop'))}`,
      );
      await watchCommit;
      const label = rep === 0 ? 'warm-up' : `run ${rep}/${options.reps}`;
      env.log(`image loop${options.webhook ? ' (webhook)' : ''}: ${label}: ${tag} deployed ${(done - start).toFixed(0)} ms after the push`);
      if (rep === 0) continue;
      result.endToEndMs.push(done - start);
      if (committedAt !== undefined) {
        result.toCommitMs.push(committedAt - start);
        result.commitToDeployedMs.push(done - committedAt);
      }
    }
    return result;
  } finally {
    deployments.stop();
    cds.stop();
    await deleteCd(env, ns, 'loop').catch(() => undefined);
    await notification?.stop();
    await updater?.stop();
    await agent?.stop();
    await registry?.stop();
    await deleteNamespaceAndWait(env, apps).catch(() => undefined);
    await deleteNamespaceAndWait(env, ns).catch(() => undefined);
  }
}
