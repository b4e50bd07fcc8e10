import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { useAgentWorld } from '../harness/agent-world.ts';
import { applyCd, cdPath, condition, getCd, getObject, waitForCd } from '../harness/tidemark.ts';
import { waitFor } from '../harness/process.ts';

/*
 * Issue 18, Argo CD sync waves and hooks on a real node: the Argo CD example apps `sync-waves`
 * and `pre-post-sync` as their authors wrote them — only each image swapped for the node's local
 * test image, since no Pod may pull from the internet — so the hook Jobs really run, and a
 * failing PreSync hook really fails.
 */

const APPS = join(import.meta.dirname, '..', 'fixtures', 'argocd-example-apps');

/** The app's files under `app/`, with every `image:` pointing at the node's local image. */
async function filesOf(app: string, image: string): Promise<Record<string, string>> {
  const root = join(APPS, app);
  const out: Record<string, string> = {};
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out[`${app}/${relative(root, path)}`] = (await readFile(path, 'utf8')).replace(/image: \S+/g, `image: ${image}`);
  }
  return out;
}

/** A hook Job of the node's image that runs `command` once; `meta` is its metadata block, indented. */
const hookJob = (image: string, meta: string, command: string) => `apiVersion: batch/v1
kind: Job
metadata:
${meta}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
        - name: main
          image: ${image}
          command: ["sh", "-c", "${command}"]
`;

const created = (obj: KubeObject | undefined): number => Date.parse(obj?.metadata.creationTimestamp ?? 'invalid');
const completed = (job: KubeObject | undefined): number =>
  Date.parse((job?.status as { completionTime?: string } | undefined)?.completionTime ?? 'invalid');

describe('Argo CD sync waves and hooks on a real node', () => {
  const world = useAgentWorld('argo-hooks', { node: true, workers: 3 });

  async function deploy(name: string, files: Record<string, string>, path: string): Promise<void> {
    const { kube, git, ns } = world();
    await git.repos.createRepo(name, files, { branch: 'main' });
    await applyCd(kube, {
      metadata: { name, namespace: ns },
      spec: { repoType: 'git', url: git.repos.fileUrl(name), pullInterval: '1h', timeout: '5m', git: { branch: 'main' }, path },
    });
  }

  const settled = (cd: ContinuousDeployment) => {
    const ready = condition(cd, 'Ready');
    return ready?.status === 'True' || (ready?.status === 'False' && ready.reason !== 'Progressing');
  };
  const job = (name: string) => getObject(world().kube, `/apis/batch/v1/namespaces/${world().ns}/jobs/${name}`);
  const replicaSet = (name: string) => getObject(world().kube, `/apis/apps/v1/namespaces/${world().ns}/replicasets/${name}`);

  it('sync-waves: the PreSync Job (generateName) first, each wave healthy before the next, Sync hook Jobs in their waves', async (t) => {
    const { node, kube, ns } = world();
    if (!node.ok) return t.skip(node.reason);
    await deploy('waves', await filesOf('sync-waves', node.node.appImage), './sync-waves');
    const cd = await waitForCd(kube, ns, 'waves', settled, 'waves synced', 300_000);
    const ready = condition(cd, 'Ready');
    assert.equal(ready?.status, 'True', `${ready?.reason}: ${ready?.message}`);
    const hooks = cd.status?.hooks ?? [];
    assert.deepEqual(
      hooks.map((h) => [h.phase, h.name.replace(/[0-9a-f]{7}-presync-\d+$/, '*'), h.status]),
      [
        ['PreSync', 'upgrade-sql-schema*', 'Succeeded'],
        ['Sync', 'maint-page-up', 'Succeeded'],
        ['Sync', 'maint-page-down', 'Succeeded'],
      ],
    );
    assert.deepEqual(cd.status?.resources?.map((r) => `${r.kind}/${r.name}`).sort(), [
      'ReplicaSet/backend',
      'ReplicaSet/frontend',
      'Service/backend',
      'Service/frontend',
    ]);
    // The order as the cluster recorded it: each step created after the one before had finished.
    const preSync = await job(hooks[0]?.name ?? '');
    const backend = await replicaSet('backend');
    const up = await job('maint-page-up');
    const frontend = await replicaSet('frontend');
    const down = await job('maint-page-down');
    assert.ok(created(backend) >= completed(preSync), 'wave 0 after the PreSync Job completed');
    assert.ok(created(up) >= created(backend), 'the wave-1 Sync hook after wave 0');
    assert.ok(created(frontend) >= completed(up), 'wave 2 after the wave-1 hook completed');
    assert.ok(created(down) >= created(frontend), 'the wave-3 Sync hook after wave 2');
    assert.ok(Number.isFinite(completed(down)));
  });

  it('pre-post-sync: the PreSync and PostSync Jobs run around the kustomize app and HookSucceeded deletes them', async (t) => {
    const { node, kube, ns } = world();
    if (!node.ok) return t.skip(node.reason);
    const files = {
      ...(await filesOf('kustomize-guestbook', node.node.appImage)),
      ...(await filesOf('pre-post-sync', node.node.appImage)),
    };
    await deploy('prepost', files, './pre-post-sync');
    const cd = await waitForCd(kube, ns, 'prepost', settled, 'prepost synced', 300_000);
    const ready = condition(cd, 'Ready');
    assert.equal(ready?.status, 'True', `${ready?.reason}: ${ready?.message}`);
    assert.deepEqual(
      cd.status?.hooks?.map((h) => [h.phase, h.kind, h.name, h.status]),
      [
        ['PreSync', 'Job', 'pre-post-sync-before', 'Succeeded'],
        ['PostSync', 'Job', 'pre-post-sync-after', 'Succeeded'],
      ],
    );
    assert.equal(await job('pre-post-sync-before'), undefined, 'HookSucceeded deleted it');
    assert.equal(await job('pre-post-sync-after'), undefined, 'HookSucceeded deleted it');
    assert.ok(await getObject(kube, `/apis/apps/v1/namespaces/${ns}/deployments/pre-post-sync-kustomize-guestbook-ui`));
    assert.ok(!cd.status?.resources?.some((r) => r.kind === 'Job'), 'hooks are not in the inventory');
  });

  it('a later wave that fails validation: dry-run before any hook, the PreSync hook never runs, the condition names it', async () => {
    const { kube, ns } = world();
    // No node needed: a hook that wrongly ran would leave its Job (and a Pod waiting for a node).
    await deploy(
      'invalid',
      {
        'app/migrate.yaml': `apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations:
    argocd.argoproj.io/hook: PreSync
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: migrate:1
`,
        'app/first.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: first\ndata:\n  a: "1"\n',
        'app/later.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: later
  annotations:
    argocd.argoproj.io/sync-wave: "2"
data:
  "not a key!": "x"
`,
      },
      './app',
    );
    const cd = await waitForCd(kube, ns, 'invalid', settled, 'invalid sync settled', 120_000);
    const ready = condition(cd, 'Ready');
    assert.equal(ready?.status, 'False');
    assert.equal(ready?.reason, 'ObjectInvalid', ready?.message);
    assert.match(ready?.message ?? '', /dry-run failed, nothing was applied: ConfigMap\/[^/]+\/later: .*not a key!/);
    assert.equal(await job('migrate'), undefined, 'the PreSync hook was not created');
    assert.equal(await getObject(kube, `/api/v1/namespaces/${ns}/configmaps/first`), undefined, 'wave 0 not applied either');
    assert.equal(cd.status?.hooks, undefined);
  });

  it('PostDelete: deleting the deployment deletes its objects, then runs the hook; a failing hook keeps it until orphaned', async (t) => {
    const { node, kube, ns } = world();
    if (!node.ok) return t.skip(node.reason);
    const image = node.node.appImage;
    // HookFailed: a Job that succeeded stays as evidence (without a policy it is deleted once it ran).
    const postDelete = (name: string, command: string) =>
      hookJob(
        image,
        `  name: ${name}\n  annotations:\n    argocd.argoproj.io/hook: PostDelete\n    argocd.argoproj.io/hook-delete-policy: HookFailed`,
        command,
      );
    const config = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  a: "1"\n`;
    await deploy('farewell', { 'app/job.yaml': postDelete('farewell', 'sleep 1'), 'app/config.yaml': config('farewell-config') }, './app');
    await deploy('goodbye', { 'app/job.yaml': postDelete('goodbye', 'exit 3'), 'app/config.yaml': config('goodbye-config') }, './app');
    for (const name of ['farewell', 'goodbye']) {
      const cd = await waitForCd(kube, ns, name, settled, `${name} synced`, 120_000);
      assert.equal(condition(cd, 'Ready')?.status, 'True', condition(cd, 'Ready')?.message);
      assert.equal(cd.status?.postDeleteHooks, 1);
      assert.equal(await job(name), undefined, 'a sync does not run a PostDelete hook');
    }

    await kube.rest.request({ method: 'DELETE', path: cdPath(ns, 'farewell') });
    await waitFor(async () => (await getCd(kube, ns, 'farewell')) === undefined, { timeoutMs: 180_000, what: 'farewell deleted' });
    assert.equal(await getObject(kube, `/api/v1/namespaces/${ns}/configmaps/farewell-config`), undefined, 'its objects deleted');
    const done = await job('farewell');
    assert.ok(Number.isFinite(completed(done)), 'the PostDelete Job ran to completion before the finalizer went');

    await kube.rest.request({ method: 'DELETE', path: cdPath(ns, 'goodbye') });
    const stuck = await waitForCd(
      kube,
      ns,
      'goodbye',
      (c) => condition(c, 'Ready')?.reason === 'HookFailed',
      'hook failure reported',
      180_000,
    );
    assert.match(condition(stuck, 'Ready')?.message ?? '', /PostDelete hook failed: Job .*goodbye/);
    assert.match(condition(stuck, 'Ready')?.message ?? '', /tidemark\.dev\/deletion-policy: orphan/);
    assert.deepEqual(stuck.metadata.finalizers, ['tidemark.dev/finalizer'], 'the finalizer stays');
    assert.equal(await getObject(kube, `/api/v1/namespaces/${ns}/configmaps/goodbye-config`), undefined, 'the objects went first');
    await kube.rest.request({
      method: 'PATCH',
      path: cdPath(ns, 'goodbye'),
      contentType: 'application/merge-patch+json',
      body: { metadata: { annotations: { 'tidemark.dev/deletion-policy': 'orphan' } } },
    });
    await waitFor(async () => (await getCd(kube, ns, 'goodbye')) === undefined, { timeoutMs: 60_000, what: 'goodbye let go' });
  });

  it('a failing PreSync hook stops the sync (nothing applied) and runs the SyncFail hook', async (t) => {
    const { node, kube, ns } = world();
    if (!node.ok) return t.skip(node.reason);
    const image = node.node.appImage;
    await deploy(
      'failing',
      {
        'app/check.yaml': hookJob(image, '  name: check\n  annotations:\n    argocd.argoproj.io/hook: PreSync', 'echo no database; exit 1'),
        'app/on-fail.yaml': hookJob(image, '  generateName: on-fail-\n  annotations:\n    argocd.argoproj.io/hook: SyncFail', 'sleep 1'),
        'app/config.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\ndata:\n  a: "1"\n',
      },
      './app',
    );
    const cd = await waitForCd(kube, ns, 'failing', settled, 'failing sync settled', 300_000);
    const ready = condition(cd, 'Ready');
    assert.equal(ready?.status, 'False');
    assert.equal(ready?.reason, 'HookFailed', ready?.message);
    assert.match(ready?.message ?? '', /PreSync hook failed: Job .*check/);
    assert.equal(await getObject(kube, `/api/v1/namespaces/${ns}/configmaps/app-config`), undefined, 'nothing applied');
    assert.deepEqual(
      cd.status?.hooks?.map((h) => [h.phase, h.name.replace(/[0-9a-f]{7}-syncfail-\d+$/, '*'), h.status]),
      [
        ['PreSync', 'check', 'Failed'],
        ['SyncFail', 'on-fail-*', 'Succeeded'],
      ],
    );
  });
});
