import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useAgentWorld } from '../harness/agent-world.ts';
import { waitFor } from '../harness/process.ts';
import { applyCd, cdPath, condition, getCd, getObject, requestSync, testLogger, waitForCd, waitForEvent } from '../harness/tidemark.ts';
import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import { startAgent } from '../../agent/index.ts';

/*
 * spec.dependsOn on the real API server: a deployment waits for other ContinuousDeployments and
 * for plain objects, says which one and why, goes on when they are ready; cycles are reported on
 * every member; a deployment others depend on is deleted only after them.
 */

const configMap = (name: string, value: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  value: "${value}"\n`;

describe('agent: spec.dependsOn', () => {
  const world = useAgentWorld('depends');

  const ready = (cd: ContinuousDeployment) => condition(cd, 'Ready')?.status === 'True';
  const reason = (want: string) => (cd: ContinuousDeployment) => condition(cd, 'Ready')?.reason === want;
  const cm = (name: string) => getObject(world().kube, `/api/v1/namespaces/${world().apps}/configmaps/${name}`);
  const deployment = (name: string, spec: Record<string, unknown>) => {
    const { kube, git, ns, apps } = world();
    return applyCd(kube, {
      metadata: { name, namespace: ns },
      spec: { url: git.repos.fileUrl(name), pullInterval: '1h', targetNamespace: apps, ...spec },
    });
  };

  it('waits for a ContinuousDeployment until it is Ready at its generation, then applies', async () => {
    const { kube, git, ns } = world();
    // infra's path is not in Git yet: it fails, and app must wait.
    await git.repos.createRepo('infra', { 'README.md': 'later\n' }, { branch: 'main' });
    await git.repos.createRepo('app', { 'deploy/app.yaml': configMap('app-settings', 'one') }, { branch: 'main' });
    await deployment('infra', { path: 'deploy' });
    await deployment('app', { path: 'deploy', dependsOn: [{ name: 'infra' }] });
    // First "has not reported Ready yet", then, once infra has failed, why it is not ready.
    const why = new RegExp(`ContinuousDeployment ${ns}/infra: Ready is False \\(PathNotFound\\)`);
    await waitForCd(
      kube,
      ns,
      'app',
      (cd) => reason('DependencyNotReady')(cd) && why.test(condition(cd, 'Ready')?.message ?? ''),
      'app waits for infra, and says why',
    );
    assert.equal(await cm('app-settings'), undefined, 'nothing applied');
    await waitForEvent(kube, ns, 'app', (e) => e.reason === 'DependencyNotReady', 'the DependencyNotReady Event');

    await git.repos.commitFiles('infra', 'main', { 'deploy/infra.yaml': configMap('infra-settings', 'x') }, 'add infra');
    await requestSync(kube, ns, 'infra');
    await waitForCd(kube, ns, 'infra', ready, 'infra Ready');
    const applied = await waitForCd(kube, ns, 'app', ready, 'app applies once infra is Ready');
    assert.equal(applied.status?.sync?.status, 'Synced');
    assert.ok(await cm('app-settings'));
  });

  it('readyExpr replaces the default; a plain object dependency is missing, then Healthy', async () => {
    const { kube, git, ns } = world();
    await git.repos.createRepo('gated', { 'deploy/gated.yaml': configMap('gated-settings', 'one') }, { branch: 'main' });
    await deployment('gated', {
      path: 'deploy',
      dependsOn: [
        { name: 'infra', readyExpr: "dep.status.sync.status == 'Synced' && self.metadata.name == 'gated'" },
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'gate' },
      ],
    });
    const waiting = await waitForCd(kube, ns, 'gated', reason('DependencyNotFound'), 'gated: the ConfigMap is missing');
    assert.match(condition(waiting, 'Ready')?.message ?? '', /ConfigMap gate: not found/);
    assert.doesNotMatch(condition(waiting, 'Ready')?.message ?? '', /infra/, 'infra passes its readyExpr');
    await kube.rest.request({
      method: 'POST',
      path: `/api/v1/namespaces/${ns}/configmaps`,
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'gate' }, data: {} },
    });
    // A plain object is not watched: the retry comes with the controller's backoff.
    await waitForCd(kube, ns, 'gated', ready, 'gated applies once the ConfigMap exists');
    assert.ok(await cm('gated-settings'));
  });

  it('a cycle is reported on every member and nothing is applied', async () => {
    const { kube, git, ns } = world();
    for (const name of ['loop-a', 'loop-b']) {
      await git.repos.createRepo(name, { 'deploy/x.yaml': configMap(`${name}-settings`, 'x') }, { branch: 'main' });
    }
    await deployment('loop-a', { path: 'deploy', dependsOn: [{ name: 'loop-b' }] });
    await deployment('loop-b', { path: 'deploy', dependsOn: [{ name: 'loop-a' }] });
    for (const name of ['loop-a', 'loop-b']) {
      const cd = await waitForCd(kube, ns, name, reason('DependencyCycle'), `${name}: cycle reported`);
      assert.match(condition(cd, 'Ready')?.message ?? '', /dependency cycle: /);
      assert.equal(condition(cd, 'Stalled')?.status, 'True');
      assert.equal(await cm(`${name}-settings`), undefined);
    }
    // Breaking the cycle on one side lets both go.
    await deployment('loop-b', { path: 'deploy', dependsOn: [] });
    await waitForCd(kube, ns, 'loop-b', ready, 'loop-b applies');
    await waitForCd(kube, ns, 'loop-a', ready, 'loop-a applies after loop-b');
  });

  it('under --no-cross-namespace-refs a dependency in another namespace is a spec problem with its path', async () => {
    const { cluster, kube, git, ns, apps, cacheDir } = world();
    const locked = await cluster.createNamespace('depends-locked');
    const lockdown = await startAgent({
      allowLocalGit: true,
      kubeconfigPath: cluster.kubeconfigPath,
      namespace: locked,
      cacheDir,
      log: testLogger(),
      noCrossNamespaceRefs: true,
    });
    try {
      await applyCd(kube, {
        metadata: { name: 'tenant', namespace: locked },
        spec: {
          url: git.repos.fileUrl('app'),
          path: 'deploy',
          pullInterval: '1h',
          targetNamespace: apps,
          dependsOn: [{ name: 'infra', namespace: ns }],
        },
      });
      const refused = await waitForCd(kube, locked, 'tenant', reason('InvalidSpec'), 'tenant: refused');
      assert.match(condition(refused, 'Ready')?.message ?? '', /spec\.dependsOn\[0\]\.namespace: ".*" is another namespace/);
    } finally {
      await kube.rest.request({ method: 'DELETE', path: cdPath(locked, 'tenant') }).catch(() => undefined);
      await waitFor(async () => (await getCd(kube, locked, 'tenant')) === undefined, { timeoutMs: 30_000, what: 'tenant deleted' });
      await lockdown.stop();
    }
  });

  it('deleting a dependency waits for its dependents: they go first', async () => {
    const { kube, ns } = world();
    await kube.rest.request({ method: 'DELETE', path: cdPath(ns, 'infra') });
    const held = await waitForCd(kube, ns, 'infra', reason('DeletionBlockedByDependents'), 'infra deletion held');
    assert.ok(held.metadata.deletionTimestamp);
    assert.match(condition(held, 'Ready')?.message ?? '', new RegExp(`${ns}/app`));
    assert.ok(await cm('infra-settings'), "infra's objects stay while app depends on them");

    await kube.rest.request({ method: 'DELETE', path: cdPath(ns, 'app') });
    await kube.rest.request({ method: 'DELETE', path: cdPath(ns, 'gated') });
    await waitFor(async () => (await getCd(kube, ns, 'infra')) === undefined, {
      timeoutMs: 60_000,
      what: 'infra deleted after its dependents',
    });
    assert.equal(await getCd(kube, ns, 'app'), undefined);
    assert.equal(await cm('app-settings'), undefined);
    assert.equal(await cm('infra-settings'), undefined);
  });
});
