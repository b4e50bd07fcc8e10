import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useAgentWorld } from '../harness/agent-world.ts';
import { waitFor } from '../harness/process.ts';
import { applyCd, condition, getCd, getObject, waitForCd, waitForEvent } from '../harness/tidemark.ts';

/*
 * Issue 14, the newest commit wins, on the real API server: a sync wave that never gets healthy
 * (a Deployment no node ever runs) holds the run in its health wait, with 10 minutes of
 * spec.timeout left. A commit that fixes it is pushed; the agent sees it at its next look at Git,
 * ends the wait as Superseded and applies the new commit — long before the timeout would have.
 */

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  annotations:
    argocd.argoproj.io/sync-wave: "1"
spec:
  replicas: 1
  selector:
    matchLabels: { app: api }
  template:
    metadata:
      labels: { app: api }
    spec:
      containers:
        - name: api
          image: registry.invalid/api:1
`;

const configMap = (data: string) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: after
  annotations:
    argocd.argoproj.io/sync-wave: "2"
data:
  version: "${data}"
`;

describe('the newest commit wins over a health wait', () => {
  const world = useAgentWorld('newest-wins', {
    cleanup: async ({ cluster, ns, apps }) => {
      await cluster.deleteNamespace(ns);
      await cluster.deleteNamespace(apps);
    },
  });

  it('a commit pushed during the wave wait supersedes the run and is applied at once, not after spec.timeout', async () => {
    const { kube, git, ns, apps } = world();
    const first = await git.repos.createRepo('app', { 'deploy/api.yaml': DEPLOYMENT, 'deploy/after.yaml': configMap('1') });
    await applyCd(kube, {
      metadata: { name: 'app', namespace: ns },
      spec: {
        url: git.repos.fileUrl('app'),
        git: { branch: 'main' },
        path: 'deploy',
        targetNamespace: apps,
        pullInterval: '2s',
        timeout: '10m',
        prune: true,
      },
    });
    const after = () => getObject(kube, `/api/v1/namespaces/${apps}/configmaps/after`);
    // Wave 1 applied, wave 2 held back: the run is in its health wait.
    await waitFor(async () => (await getObject(kube, `/apis/apps/v1/namespaces/${apps}/deployments/api`)) !== undefined, {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: 'wave 1 applied',
    });
    assert.equal(await after(), undefined, 'wave 2 waits for wave 1');

    // The fix: the Deployment leaves Git.
    const fix = await git.repos.commitFiles('app', 'main', { 'deploy/api.yaml': null, 'deploy/after.yaml': configMap('2') }, 'fix');
    const cd = await waitForCd(kube, ns, 'app', (c) => c.status?.lastAppliedRevision === `main@sha1:${fix}`, 'the fix applied', 60_000);
    assert.equal(condition(cd, 'Ready')?.status, 'True', condition(cd, 'Ready')?.message);
    assert.deepEqual((await after())?.data, { version: '2' });
    assert.equal(await getObject(kube, `/apis/apps/v1/namespaces/${apps}/deployments/api`), undefined, 'pruned by the new run');

    const events = await waitForEvent(kube, ns, 'app', (e) => e.reason === 'Superseded', 'the Superseded Event');
    const superseded = events.find((e) => e.reason === 'Superseded');
    assert.ok(superseded, `a Superseded Event; got ${events.map((e) => e.reason).join(', ')}`);
    assert.equal(superseded.type, 'Normal');
    assert.match(
      superseded.message,
      new RegExp(
        `^superseded by revision main@sha1:${fix} while waiting for sync wave 1 to be healthy; .* \\(revision main@sha1:${first}\\)$`,
      ),
    );
    assert.ok(!events.some((e) => e.reason === 'SyncWaveTimeout'), 'the abandoned wait did not time out');
    assert.equal((await getCd(kube, ns, 'app'))?.status?.lastAppliedRevision, `main@sha1:${fix}`);
  });
});
