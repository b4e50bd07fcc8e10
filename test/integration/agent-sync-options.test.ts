import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { Agent } from 'undici';
import { useAgentWorld } from '../harness/agent-world.ts';
import { serverWrites } from '../harness/metrics.ts';
import { installProbeCrd, probeCrd } from '../harness/probe-crd.ts';
import { waitFor } from '../harness/process.ts';
import { applyCd, cdPath, condition, getCd, getObject, requestSync, waitForCd, waitForFailedAttempt } from '../harness/tidemark.ts';
import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { systemClock } from '../../shared/time/clock.ts';
import { configMapYaml, deploymentYaml } from '../harness/manifests.ts';

/*
 * spec.syncPolicy options and spec.force against the real API server and controller manager:
 * createNamespace, applyOutOfSyncOnly, replace, force, pruneLast, prunePropagationPolicy,
 * skipSchemaValidation and sync windows.
 */

// A kind only this file writes, so the API server's request counter (no namespace label) counts
// exactly our applies even when other test files share the cluster.
const PROBE_GROUP = 'options.test.tidemark.dev';
const PROBE_PLURAL = 'optionprobes';
const PROBE_CRD = probeCrd(PROBE_GROUP, PROBE_PLURAL, 'OptionProbe');

const configMap = (name: string, data: Record<string, string>, extra = '') => configMapYaml(name, data, { extra });
/** The tests here play the kubelet, so their Pods stay off the harness's real node. */
const deployment = (name: string) => deploymentYaml(name, undefined, { offNode: true });

const job = (name: string, message: string) => `apiVersion: batch/v1
kind: Job
metadata:
  name: ${name}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: busybox:1.36
          command: [echo, "${message}"]
`;

const probe = (name: string, value: string) =>
  `apiVersion: ${PROBE_GROUP}/v1\nkind: OptionProbe\nmetadata:\n  name: ${name}\nspec:\n  value: "${value}"\n`;

describe('agent: sync options', () => {
  let metrics: Agent;
  const createdNamespaces: string[] = [];
  const world = useAgentWorld('options', {
    workers: 4,
    setup: async ({ cluster, kube }) => {
      metrics = new Agent({ connect: { ca: cluster.info.caPem } });
      await installProbeCrd(kube, PROBE_CRD);
    },
    cleanup: async ({ cluster, kube }) => {
      for (const name of createdNamespaces) await cluster.deleteNamespace(name).catch(() => undefined);
      await kube.rest
        .request({
          method: 'DELETE',
          path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${PROBE_CRD.metadata.name}`,
        })
        .catch(() => undefined);
      await metrics.close();
    },
  });

  const cmPath = (name: string, namespace = world().apps) => `/api/v1/namespaces/${namespace}/configmaps/${name}`;
  const deployPath = (name: string) => `/apis/apps/v1/namespaces/${world().apps}/deployments/${name}`;
  const synced = (cd: ContinuousDeployment) => cd.status?.sync?.status === 'Synced';
  const appliedAt = (sha: string) => (cd: ContinuousDeployment) => cd.status?.lastAppliedRevision === `main@sha1:${sha}`;
  /** Waits until an object is gone; on timeout the error shows what still holds it (finalizers, deletion time). */
  const waitGone = async (path: string, what: string, timeoutMs = 60_000) => {
    let last: KubeObject | undefined;
    try {
      await waitFor(async () => (last = await getObject(world().kube, path)) === undefined, { timeoutMs, what });
    } catch (err) {
      const meta = last?.metadata;
      throw new Error(
        `${(err as Error).message}; still there: finalizers ${JSON.stringify(meta?.finalizers ?? [])}, ` +
          `deletionTimestamp ${meta?.deletionTimestamp ?? 'none'}, ownerReferences ${JSON.stringify(meta?.ownerReferences ?? [])}`,
        { cause: err },
      );
    }
  };
  const deleteCd = async (name: string) => {
    const { kube, ns } = world();
    await kube.rest.request({ method: 'DELETE', path: cdPath(ns, name) });
    await waitFor(async () => (await getCd(kube, ns, name)) === undefined, {
      timeoutMs: 60_000,
      what: `${name} finalized`,
    });
  };
  const cd = (name: string, spec: Record<string, unknown>) => {
    const { kube, git, ns, apps } = world();
    return applyCd(kube, {
      metadata: { name, namespace: ns },
      spec: { url: git.repos.fileUrl(name), path: 'deploy', pullInterval: '1h', targetNamespace: apps, ...spec },
    });
  };

  it('createNamespace creates a missing targetNamespace and never deletes it', async () => {
    const { kube, git, ns } = world();
    const target = `created-${randomBytes(3).toString('hex')}`;
    createdNamespaces.push(target);
    assert.equal(await getObject(kube, `/api/v1/namespaces/${target}`), undefined);
    await git.repos.createRepo('mkns', { 'deploy/cm.yaml': configMap('in-new-ns', { a: '1' }) }, { branch: 'main' });
    await cd('mkns', { targetNamespace: target, syncPolicy: { createNamespace: true } });
    const status = await waitForCd(kube, ns, 'mkns', synced, 'mkns synced');
    assert.deepEqual(
      status.status?.resources?.map((r) => `${r.kind}/${r.namespace}/${r.name}`),
      [`ConfigMap/${target}/in-new-ns`],
      'the namespace is not in the inventory',
    );
    assert.equal(phaseOf(await getObject(kube, `/api/v1/namespaces/${target}`)), 'Active');
    assert.ok(await getObject(kube, cmPath('in-new-ns', target)));

    await deleteCd('mkns');
    assert.equal(
      await getObject(kube, cmPath('in-new-ns', target)),
      undefined,
      'the managed object is deleted with the ContinuousDeployment',
    );
    const nsAfter = await getObject(kube, `/api/v1/namespaces/${target}`);
    assert.equal(phaseOf(nsAfter), 'Active', 'the created namespace stays');
    assert.equal(nsAfter?.metadata.deletionTimestamp, undefined);
  });

  // The count is taken right after a sync, while the watch cache may not have delivered that sync's
  // own writes: a run then compared with the cache's older copy, called it drift and re-sent it. The
  // dry-run's resourceVersion now exposes such a copy (agent/reconcile/stale-cache.test.ts). Full
  // runs also counted the namespace controller's collection deletes of this kind while other files'
  // namespaces went (3 for 1): serverWrites leaves deletes out.
  it('applyOutOfSyncOnly sends only the changed object on a new commit; without it every object is re-sent', async () => {
    const { cluster, kube, git, ns, apps } = world();
    const files = (changed: string) => ({
      'deploy/a.yaml': probe('a', changed),
      'deploy/b.yaml': probe('b', 'same'),
      'deploy/c.yaml': probe('c', 'same'),
    });
    // The two sets differ by name only; they are measured one after the other.
    const named = (prefix: string, f: Record<string, string>) =>
      Object.fromEntries(Object.entries(f).map(([path, text]) => [path, text.replace(/name: (\w)/, `name: ${prefix}-$1`)]));
    const measure = async (name: string, applyOutOfSyncOnly: boolean): Promise<number> => {
      await git.repos.createRepo(name, named(name, files('1')), { branch: 'main' });
      await cd(name, { syncPolicy: { applyOutOfSyncOnly } });
      await waitForCd(kube, ns, name, synced, `${name}: first sync`);
      const probeA = `/apis/${PROBE_GROUP}/v1/namespaces/${apps}/${PROBE_PLURAL}/${name}-a`;
      const probeB = `/apis/${PROBE_GROUP}/v1/namespaces/${apps}/${PROBE_PLURAL}/${name}-b`;
      const rvB = (await getObject(kube, probeB))?.metadata.resourceVersion;
      const before = await serverWrites(cluster, metrics, PROBE_GROUP, PROBE_PLURAL);
      const sha = await git.repos.commitFiles(name, 'main', named(name, files('2')), 'change a');
      await requestSync(kube, ns, name);
      const status = await waitForCd(kube, ns, name, appliedAt(sha), `${name}: new commit applied`);
      assert.equal(status.status?.sync?.status, 'Synced');
      assert.equal(((await getObject(kube, probeA))?.spec as { value: string }).value, '2');
      // A re-sent object that did not change keeps its resourceVersion either way.
      assert.equal((await getObject(kube, probeB))?.metadata.resourceVersion, rvB);
      return (await serverWrites(cluster, metrics, PROBE_GROUP, PROBE_PLURAL)) - before;
    };
    assert.equal(await measure('oos-only', true), 1, 'applyOutOfSyncOnly: only the changed object is sent');
    assert.equal(await measure('oos-all', false), 3, 'default: all three objects are sent');
  });

  it('replace writes with update/create instead of server-side apply', async () => {
    const { kube, git, ns } = world();
    const managers = async (path: string) =>
      ((await getObject(kube, path))?.metadata.managedFields as Array<{ manager: string; operation: string }>).map(
        (m) => `${m.manager}:${m.operation}`,
      );
    await git.repos.createRepo(
      'replacer',
      { 'deploy/cm.yaml': configMap('replaced', { a: '1' }), 'deploy/web.yaml': deployment('replaced-web') },
      { branch: 'main' },
    );
    await cd('replacer', { syncPolicy: { replace: true } });
    await waitForCd(kube, ns, 'replacer', synced, 'replacer synced');
    assert.ok((await managers(cmPath('replaced'))).includes('tidemark:Update'), 'created with POST');
    assert.ok(!(await managers(cmPath('replaced'))).includes('tidemark:Apply'));
    assert.ok((await managers(deployPath('replaced-web'))).includes('tidemark:Update'));
    assert.ok(!(await managers(deployPath('replaced-web'))).includes('tidemark:Apply'));

    // A key someone else added is gone after a replace: the whole object is Git's.
    await kube.rest.request({
      method: 'PATCH',
      path: cmPath('replaced'),
      query: { fieldManager: 'kubectl-edit' },
      contentType: 'application/merge-patch+json',
      body: { data: { foreign: 'x' } },
    });
    const sha = await git.repos.commitFiles('replacer', 'main', { 'deploy/cm.yaml': configMap('replaced', { a: '2' }) }, 'a=2');
    await requestSync(kube, ns, 'replacer');
    await waitForCd(kube, ns, 'replacer', appliedAt(sha), 'replacer: new commit');
    const cm = await getObject(kube, cmPath('replaced'));
    assert.deepEqual(cm?.data, { a: '2' });
    assert.ok(!(await managers(cmPath('replaced'))).includes('tidemark:Apply'));

    // Absent again (deleted by someone): created, still not applied.
    await kube.rest.request({ method: 'DELETE', path: cmPath('replaced') });
    await waitFor(
      async () => {
        const again = await getObject(kube, cmPath('replaced'));
        return again !== undefined && again.metadata.uid !== cm?.metadata.uid;
      },
      { timeoutMs: 30_000, what: 'replaced ConfigMap recreated' },
    );
    assert.deepEqual(await managers(cmPath('replaced')), ['tidemark:Update']);
  });

  it('Argo CD sync-options per object: Replace=true updates, Prune=false keeps, SkipDryRunOnMissingResource=true skips', async () => {
    const { kube, git, ns } = world();
    const annotated = (name: string, annotations: Record<string, string>, data: Record<string, string> = { a: '1' }) => {
      const lines = Object.entries(annotations)
        .map(([k, v]) => `    ${k}: "${v}"`)
        .join('\n');
      return configMapYaml(name, data).replace(`  name: ${name}\n`, `  name: ${name}\n  annotations:\n${lines}\n`);
    };
    const missing = [
      'apiVersion: missing.test.tidemark.dev/v1',
      'kind: NotYet',
      'metadata:',
      '  name: later',
      '  annotations:',
      '    argocd.argoproj.io/sync-options: SkipDryRunOnMissingResource=true',
      '',
    ].join('\n');
    await git.repos.createRepo(
      'argo-options',
      {
        'deploy/replaced.yaml': annotated('argo-replaced', { 'argocd.argoproj.io/sync-options': 'Replace=true' }),
        'deploy/kept.yaml': annotated('argo-kept', { 'argocd.argoproj.io/sync-options': 'Prune=false' }),
        'deploy/early.yaml': annotated('argo-early', { 'argocd.argoproj.io/sync-wave': '-1' }),
        'deploy/late.yaml': annotated('argo-late', { 'argocd.argoproj.io/sync-wave': '3' }),
        'deploy/later.yaml': missing,
      },
      { branch: 'main' },
    );
    await cd('argo-options', { prune: true });
    const first = await waitForCd(kube, ns, 'argo-options', (c) => c.status?.lastAppliedRevision !== undefined, 'argo-options applied');
    const managers = (
      (await getObject(kube, cmPath('argo-replaced')))?.metadata.managedFields as Array<{ manager: string; operation: string }>
    ).map((m) => `${m.manager}:${m.operation}`);
    assert.deepEqual(managers, ['tidemark:Update'], 'Replace=true: created with POST, never server-side applied');
    assert.ok(await getObject(kube, cmPath('argo-early')));
    assert.ok(await getObject(kube, cmPath('argo-late')));
    assert.equal(first.status?.resources?.find((r) => r.name === 'later')?.status, 'OutOfSync', 'skipped, still to do');

    const sha = await git.repos.commitFiles(
      'argo-options',
      'main',
      { 'deploy/kept.yaml': null, 'deploy/early.yaml': null, 'deploy/late.yaml': null, 'deploy/later.yaml': null },
      'keep only the replaced one',
    );
    await requestSync(kube, ns, 'argo-options');
    await waitForCd(kube, ns, 'argo-options', appliedAt(sha), 'argo-options: new commit');
    await waitGone(cmPath('argo-early'), 'argo-early pruned');
    await waitGone(cmPath('argo-late'), 'argo-late pruned');
    assert.ok(await getObject(kube, cmPath('argo-kept')), 'Prune=false kept it');
    await deleteCd('argo-options');
  });

  it('force: an immutable-field change fails clearly without it and recreates the object with it', async () => {
    const { kube, git, ns, apps } = world();
    const jobPath = `/apis/batch/v1/namespaces/${apps}/jobs/migrate`;
    await git.repos.createRepo('forcer', { 'deploy/job.yaml': job('migrate', 'v1') }, { branch: 'main' });
    await cd('forcer', {});
    await waitForCd(kube, ns, 'forcer', synced, 'forcer synced');
    const uid = (await getObject(kube, jobPath))?.metadata.uid;
    assert.ok(uid);

    const sha = await git.repos.commitFiles('forcer', 'main', { 'deploy/job.yaml': job('migrate', 'v2') }, 'v2');
    await requestSync(kube, ns, 'forcer');
    const failed = await waitForFailedAttempt(kube, ns, 'forcer', `main@sha1:${sha}`, 'immutable change reported');
    const ready = condition(failed, 'Ready');
    assert.equal(ready?.reason, 'ObjectInvalid', ready?.message);
    assert.match(ready?.message ?? '', /Job\/.*migrate/);
    assert.match(ready?.message ?? '', /spec\.template/);
    assert.match(ready?.message ?? '', /immutable/);
    assert.equal((await getObject(kube, jobPath))?.metadata.uid, uid, 'untouched without force');

    await cd('forcer', { force: true });
    const done = await waitForCd(kube, ns, 'forcer', appliedAt(sha), 'forcer: recreated');
    assert.equal(done.status?.sync?.status, 'Synced');
    assert.equal(condition(done, 'Ready')?.status, 'True', condition(done, 'Ready')?.message);
    const recreated = await getObject(kube, jobPath);
    assert.notEqual(recreated?.metadata.uid, uid, 'a new object');
    const containers = (recreated?.spec as { template: { spec: { containers: Array<{ command: string[] }> } } }).template.spec.containers;
    assert.deepEqual(containers[0]?.command, ['echo', 'v2']);
  });

  describe('pruneLast', () => {
    it('prunes only after the applied objects are healthy', async () => {
      const { kube, git, ns, apps } = world();
      await git.repos.createRepo(
        'lastly',
        {
          'deploy/app.yaml': deployment('lastly-app'),
          'deploy/marker.yaml': configMap('lastly-marker', { v: '1' }),
          'deploy/stale.yaml': configMap('lastly-stale', { v: '1' }),
        },
        { branch: 'main' },
      );
      await cd('lastly', { timeout: '2m', syncPolicy: { pruneLast: true } });
      const first = await waitForCd(kube, ns, 'lastly', synced, 'lastly synced');
      assert.equal(first.status?.health?.status, 'Progressing', 'no kubelet: the Deployment never becomes available on its own');

      const sha = await git.repos.commitFiles(
        'lastly',
        'main',
        { 'deploy/marker.yaml': configMap('lastly-marker', { v: '2' }), 'deploy/stale.yaml': null },
        'drop stale',
      );
      await requestSync(kube, ns, 'lastly');
      await waitFor(async () => ((await getObject(kube, cmPath('lastly-marker')))?.data as Record<string, string>).v === '2', {
        timeoutMs: 60_000,
        what: 'new commit applied',
      });
      // Applied, but the Deployment is not healthy: the stale object stays for as long as that lasts.
      for (let i = 0; i < 10; i++) {
        assert.ok(await getObject(kube, cmPath('lastly-stale')), 'stale object kept while the rollout is unfinished');
        await systemClock.sleep(200);
      }
      assert.notEqual(
        (await getCd(kube, ns, 'lastly'))?.status?.lastAttemptedRevision,
        `main@sha1:${sha}`,
        'the reconcile is still waiting',
      );

      // Be the kubelet: report the Deployment's pod running and ready.
      await markPodsReady(kube, apps, 'lastly-app');
      await waitGone(cmPath('lastly-stale'), 'stale object pruned once healthy');
      const done = await waitForCd(kube, ns, 'lastly', appliedAt(sha), 'lastly: applied');
      assert.equal(done.status?.health?.status, 'Healthy', JSON.stringify(done.status?.resources));
      assert.equal(done.status?.sync?.status, 'Synced');
    });

    it('prunes when the health wait times out', async () => {
      const { kube, git, ns } = world();
      await git.repos.createRepo(
        'lastly-timeout',
        {
          'deploy/app.yaml': deployment('never-ready'),
          'deploy/stale.yaml': configMap('timeout-stale', { v: '1' }),
        },
        { branch: 'main' },
      );
      await cd('lastly-timeout', { timeout: '4s', syncPolicy: { pruneLast: true } });
      await waitForCd(kube, ns, 'lastly-timeout', synced, 'lastly-timeout synced');
      const sha = await git.repos.commitFiles('lastly-timeout', 'main', { 'deploy/stale.yaml': null }, 'drop stale');
      await requestSync(kube, ns, 'lastly-timeout');
      const done = await waitForCd(kube, ns, 'lastly-timeout', appliedAt(sha), 'lastly-timeout: applied');
      assert.equal(await getObject(kube, cmPath('timeout-stale')), undefined, 'pruned after the wait gave up');
      assert.equal(done.status?.health?.status, 'Progressing', 'still not healthy');
    });
  });

  it("prunePropagationPolicy: orphan keeps a pruned Deployment's ReplicaSet, background and foreground delete it", async () => {
    const { kube, git, ns, apps } = world();
    const policies = ['orphan', 'background', 'foreground'] as const;
    const replicaSetsOf = async (deploymentName: string) => {
      const list = await kube.rest.request<{ items: KubeObject[] }>({
        method: 'GET',
        path: `/apis/apps/v1/namespaces/${apps}/replicasets`,
        query: { labelSelector: `app=${deploymentName}` },
      });
      return list.items;
    };
    const ownedReplicaSet = async (deploymentName: string): Promise<KubeObject> => {
      let found: KubeObject | undefined;
      await waitFor(
        async () => {
          const uid = (await getObject(kube, deployPath(deploymentName)))?.metadata.uid;
          found = (await replicaSetsOf(deploymentName)).find((rs) =>
            (rs.metadata.ownerReferences as Array<{ uid: string }> | undefined)?.some((o) => o.uid === uid),
          );
          return found !== undefined;
        },
        { timeoutMs: 60_000, what: `the controller manager created a ReplicaSet for ${deploymentName}` },
      );
      return found as KubeObject;
    };
    const rsPath = (rs: KubeObject) => `/apis/apps/v1/namespaces/${apps}/replicasets/${rs.metadata.name}`;

    await Promise.all(
      policies.map(async (policy) => {
        await git.repos.createRepo(
          `prop-${policy}`,
          { 'deploy/gone.yaml': deployment(`gone-${policy}`), 'deploy/stay.yaml': deployment(`stay-${policy}`) },
          { branch: 'main' },
        );
        await cd(`prop-${policy}`, { syncPolicy: { prunePropagationPolicy: policy } });
        await waitForCd(kube, ns, `prop-${policy}`, synced, `prop-${policy} synced`);
      }),
    );

    // Prune: the Deployment leaves Git.
    await Promise.all(
      policies.map(async (policy) => {
        const rs = await ownedReplicaSet(`gone-${policy}`);
        const sha = await git.repos.commitFiles(`prop-${policy}`, 'main', { 'deploy/gone.yaml': null }, 'remove gone');
        await requestSync(kube, ns, `prop-${policy}`);
        await waitForCd(kube, ns, `prop-${policy}`, appliedAt(sha), `prop-${policy}: pruned`);
        await waitGone(deployPath(`gone-${policy}`), `gone-${policy} deleted`);
        const left = await getObject(kube, rsPath(rs));
        if (policy === 'orphan') {
          assert.ok(left, 'orphan: the ReplicaSet stays');
          assert.deepEqual(left.metadata.ownerReferences ?? [], [], 'orphan: and no longer has an owner');
        } else if (policy === 'foreground') {
          assert.equal(left, undefined, 'foreground: the ReplicaSet was gone before its Deployment');
        } else {
          await waitGone(rsPath(rs), 'background: the garbage collector deletes the ReplicaSet');
        }
      }),
    );

    // Deleting the ContinuousDeployment deletes its objects with the same policy.
    await Promise.all(
      policies.map(async (policy) => {
        const rs = await ownedReplicaSet(`stay-${policy}`);
        await deleteCd(`prop-${policy}`);
        await waitGone(deployPath(`stay-${policy}`), `stay-${policy} deleted`);
        const left = await getObject(kube, rsPath(rs));
        if (policy === 'orphan') {
          assert.ok(left, 'orphan: the ReplicaSet stays after the ContinuousDeployment is deleted');
          assert.deepEqual(left.metadata.ownerReferences ?? [], []);
        } else if (policy === 'foreground') {
          assert.equal(left, undefined);
        } else {
          await waitGone(rsPath(rs), 'background: ReplicaSet collected');
        }
      }),
    );
  });

  it('skipSchemaValidation with an unknown field: applied where the server can skip it, a clear error on Kubernetes < 1.25', async () => {
    const { kube, git, ns } = world();
    const version = await kube.rest.request<{ major: string; minor: string }>({ method: 'GET', path: '/version' });
    const minor = Number.parseInt(version.minor, 10);
    await git.repos.createRepo('lenient', { 'deploy/cm.yaml': configMap('lenient', { a: '1' }, 'bogusField: true\n') }, { branch: 'main' });
    await cd('lenient', { syncPolicy: { skipSchemaValidation: true } });
    if (Number(version.major) === 1 && minor < 25) {
      // Server-side apply on these servers has no fieldValidation parameter and always rejects
      // fields the schema does not declare; the agent says which field and why nothing was applied.
      const status = await waitForCd(kube, ns, 'lenient', (c) => condition(c, 'Ready')?.status === 'False', 'unknown field reported');
      const ready = condition(status, 'Ready');
      assert.equal(ready?.reason, 'ObjectInvalid', ready?.message);
      assert.match(ready?.message ?? '', /ConfigMap\/.*lenient/);
      assert.match(ready?.message ?? '', /bogusField/);
      assert.match(ready?.message ?? '', /1\.25/, 'says which servers can skip schema validation');
      assert.equal(await getObject(kube, cmPath('lenient')), undefined);
    } else {
      await waitForCd(kube, ns, 'lenient', synced, 'lenient synced');
      assert.deepEqual((await getObject(kube, cmPath('lenient')))?.data, { a: '1' });
    }
  });

  it('sync windows: a deny window blocks automatic syncs; manualSync lets a requested sync through', async () => {
    const { kube, git, ns } = world();
    // A daily window that fired a minute ago (UTC) blocks for the next hour or so, with a known end;
    // one that fires every minute for an hour never closes, so it has no end to report.
    const minuteAgo = new Date(Date.now() - 60_000);
    const daily = `${minuteAgo.getUTCMinutes()} ${minuteAgo.getUTCHours()} * * *`;
    await git.repos.createRepo('windowed', { 'deploy/cm.yaml': configMap('windowed', { a: '1' }) }, { branch: 'main' });
    await git.repos.createRepo('windowed-strict', { 'deploy/cm.yaml': configMap('windowed-strict', { a: '1' }) }, { branch: 'main' });
    await cd('windowed', { syncPolicy: { windows: [{ kind: 'deny', schedule: '* * * * *', duration: '1h', manualSync: true }] } });
    await cd('windowed-strict', { syncPolicy: { windows: [{ kind: 'deny', schedule: daily, duration: '1h', manualSync: false }] } });
    for (const name of ['windowed', 'windowed-strict']) {
      const blocked = await waitForCd(
        kube,
        ns,
        name,
        (c) => c.status?.syncWindow?.blocked === true && c.status.sync?.status === 'OutOfSync',
        `${name}: blocked`,
      );
      assert.equal(condition(blocked, 'Ready')?.reason, 'SyncWindowBlocked', condition(blocked, 'Ready')?.message);
      assert.equal(await getObject(kube, cmPath(name)), undefined, 'nothing applied');
      const window = blocked.status?.syncWindow;
      if (name === 'windowed') {
        assert.equal(window?.until, undefined, JSON.stringify(window));
        assert.match(window?.message ?? '', /is active with no end in sight: it opens again before it closes/);
      } else {
        const until = Date.parse(window?.until ?? '');
        assert.ok(until > Date.now() + 50 * 60_000 && until <= Date.now() + 61 * 60_000, `blocked until ${window?.until}`);
      }
    }

    const strictStamp = await requestSync(kube, ns, 'windowed-strict');
    const strict = await waitForCd(
      kube,
      ns,
      'windowed-strict',
      (c) => c.status?.lastHandledRequestedAt === strictStamp,
      'strict: request handled',
    );
    assert.equal(strict.status?.syncWindow?.blocked, true);
    assert.equal(await getObject(kube, cmPath('windowed-strict')), undefined, 'no manualSync: a request is blocked too');

    const stamp = await requestSync(kube, ns, 'windowed');
    const done = await waitForCd(kube, ns, 'windowed', (c) => c.status?.lastHandledRequestedAt === stamp, 'windowed: request handled');
    assert.equal(done.status?.sync?.status, 'Synced');
    assert.ok(await getObject(kube, cmPath('windowed')), 'manualSync: the requested sync applied');
  });

  it('sync windows: a seconds field or an overlong window is refused as a spec error', async () => {
    const { kube, git, ns } = world();
    await git.repos.createRepo('bad-window', { 'deploy/cm.yaml': configMap('bad-window', { a: '1' }) }, { branch: 'main' });
    // The CRD schema refuses six fields at the API server; the agent refuses the rest itself.
    await assert.rejects(
      cd('bad-window', { syncPolicy: { windows: [{ kind: 'deny', schedule: '30 * * * * *', duration: '1h' }] } }),
      /schedule/,
    );
    await cd('bad-window', { syncPolicy: { windows: [{ kind: 'deny', schedule: '0 0 * * *', duration: '10000h' }] } });
    const refused = await waitForCd(kube, ns, 'bad-window', (c) => condition(c, 'Ready')?.reason === 'InvalidSyncWindow', 'window refused');
    assert.match(condition(refused, 'Ready')?.message ?? '', /spec\.syncPolicy\.windows\[0\]\.duration: "10000h" is longer than 8760h/);
    assert.equal(await getObject(kube, cmPath('bad-window')), undefined);
  });
});

function phaseOf(obj: KubeObject | undefined): unknown {
  return (obj?.status as { phase?: string } | undefined)?.phase;
}

/** Does what a kubelet would: marks the pods of an app Running and Ready through the status subresource. */
async function markPodsReady(kube: KubeClient, namespace: string, app: string): Promise<void> {
  let pods: KubeObject[] = [];
  await waitFor(
    async () => {
      pods = (
        await kube.rest.request<{ items: KubeObject[] }>({
          method: 'GET',
          path: `/api/v1/namespaces/${namespace}/pods`,
          query: { labelSelector: `app=${app}` },
        })
      ).items;
      return pods.length > 0;
    },
    { timeoutMs: 60_000, what: `pods of ${app}` },
  );
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  for (const pod of pods) {
    const containers = (pod.spec as { containers: Array<{ name: string; image: string }> }).containers;
    await kube.rest.request({
      method: 'PUT',
      path: `/api/v1/namespaces/${namespace}/pods/${pod.metadata.name}/status`,
      body: {
        ...pod,
        status: {
          phase: 'Running',
          startTime: now,
          conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({
            type,
            status: 'True',
            lastTransitionTime: now,
          })),
          containerStatuses: containers.map((c) => ({
            name: c.name,
            image: c.image,
            imageID: '',
            ready: true,
            started: true,
            restartCount: 0,
            state: { running: { startedAt: now } },
          })),
        },
      },
    });
  }
}
