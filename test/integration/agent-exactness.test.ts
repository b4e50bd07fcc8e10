import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../cli/main.ts';
import { startAgent } from '../../agent/index.ts';
import type { RunningAgent } from '../../agent/index.ts';
import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import { testCluster } from '../harness/cluster.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { startGitServers } from '../harness/git.ts';
import type { GitServers } from '../harness/git.ts';
import { configMapYaml } from '../harness/manifests.ts';
import { applyCd, condition, getObject, installCrds, requestSync, testClient, testLogger, waitForCd } from '../harness/tidemark.ts';

/*
 * Issue 17 part 5 against the real API server: a commit that adds a Namespace with objects in
 * it while nothing may be written; the sync status when the source cannot be read; the CRD's
 * printer columns as kubectl shows them; kustomize components; a CRD, its custom resources and
 * a Namespace with objects in one commit.
 */

const nsYaml = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n`;

describe('agent: exactness', () => {
  let cluster: ClusterAccess;
  let kube: KubeClient;
  let git: GitServers;
  let agent: RunningAgent;
  let ns: string;
  let apps: string;
  let cacheDir: string;
  const suffix = randomBytes(3).toString('hex');
  const createdNamespaces: string[] = [];

  before(async () => {
    cluster = await testCluster();
    await installCrds(cluster);
    kube = testClient(cluster);
    git = await startGitServers({ http: false, ssh: false });
    ns = await cluster.createNamespace('exact');
    apps = await cluster.createNamespace('exact-apps');
    cacheDir = await mkdtemp(join(tmpdir(), 'tidemark-exact-cache-'));
    agent = await startAgent({ kubeconfigPath: cluster.kubeconfigPath, namespace: ns, cacheDir, log: testLogger(), workers: 4 });
  });

  after(async () => {
    await agent?.stop();
    await git?.stop();
    for (const name of createdNamespaces) await cluster.deleteNamespace(name).catch(() => undefined);
    await kube?.close();
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  });

  const cd = (name: string, spec: Record<string, unknown>) =>
    applyCd(kube, {
      metadata: { name, namespace: ns },
      spec: { url: git.repos.fileUrl(name), path: 'deploy', pullInterval: '1h', targetNamespace: apps, ...spec },
    });
  const cli = async (...argv: string[]) => {
    let out = '';
    let err = '';
    const code = await main([...argv, '--kubeconfig', cluster.kubeconfigPath], {
      out: (t) => void (out += t),
      err: (t) => void (err += t),
      env: {},
    });
    return { code, out, err };
  };
  /** Settled on the newest commit: compared (or failed) at `sha`. */
  const attempted = (sha: string) => (c: ContinuousDeployment) =>
    c.status?.lastAttemptedRevision === `main@sha1:${sha}` && c.status.sync?.status !== undefined;

  describe('a new Namespace with objects in it, while nothing may be written', () => {
    const cases = [
      { name: 'ns-manual', policy: { manual: true }, reason: 'ManualSyncRequired' },
      {
        name: 'ns-window',
        policy: { windows: [{ kind: 'deny', schedule: '* * * * *', duration: '1h', manualSync: true }] },
        reason: 'SyncWindowBlocked',
      },
    ];
    for (const { name, policy, reason } of cases) {
      it(`${name}: OutOfSync with planned creates, no dry-run failure; tidemark diff lists them; a requested sync applies`, async () => {
        const target = `${name}-${suffix}`;
        createdNamespaces.push(target);
        // The commit adds the Namespace and the objects in it together.
        const sha = await git.repos.createRepo(
          name,
          {
            'deploy/cm.yaml': configMapYaml('outside', { a: '1' }),
            'deploy/ns.yaml': nsYaml(target),
            'deploy/inside.yaml': configMapYaml('inside', { b: '2' }, { namespace: target }),
            'deploy/sa.yaml': `apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: runner\n  namespace: ${target}\n`,
          },
          { branch: 'main' },
        );
        await cd(name, { syncPolicy: policy });
        const status = await waitForCd(kube, ns, name, attempted(sha), `${name}: compared at the commit`);
        const ready = condition(status, 'Ready');
        assert.equal(status.status?.sync?.status, 'OutOfSync', ready?.message);
        assert.equal(ready?.reason, reason, ready?.message);
        assert.notEqual(condition(status, 'Stalled')?.status, 'True', condition(status, 'Stalled')?.message);
        assert.deepEqual(
          status.status?.resources
            ?.filter((r) => r.namespace === target || r.kind === 'Namespace')
            .map((r) => `${r.kind}/${r.name}=${r.status}`)
            .sort(),
          [`ConfigMap/inside=OutOfSync`, `Namespace/${target}=OutOfSync`, 'ServiceAccount/runner=OutOfSync'],
        );
        assert.equal(await getObject(kube, `/api/v1/namespaces/${target}`), undefined, 'nothing written');

        const diff = await cli('diff', name, '-n', ns);
        assert.equal(diff.code, 1, diff.err + diff.out);
        assert.match(diff.out, new RegExp(`^\\+ create Namespace/${target}$`, 'm'));
        assert.match(diff.out, new RegExp(`^\\+ create ConfigMap/${target}/inside$`, 'm'));
        assert.match(diff.out, new RegExp(`^\\+ create ServiceAccount/${target}/runner$`, 'm'));
        assert.match(diff.out, /^\+ {2}b: "2"$/m);

        const stamp = await requestSync(kube, ns, name);
        const synced = await waitForCd(kube, ns, name, (c) => c.status?.lastHandledRequestedAt === stamp, `${name}: requested sync`);
        assert.equal(synced.status?.sync?.status, 'Synced', condition(synced, 'Ready')?.message);
        assert.ok(await getObject(kube, `/api/v1/namespaces/${target}/configmaps/inside`));
      });
    }
  });
});
