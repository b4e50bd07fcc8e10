import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startAgent } from '../../agent/index.ts';
import type { RunningAgent } from '../../agent/index.ts';
import { main } from '../../cli/main.ts';
import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import { testCluster } from '../harness/cluster.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { waitFor } from '../harness/process.ts';
import { startRegistryFaultProxy, type RegistryFaultProxy } from '../harness/registry-fault-proxy.ts';
import { startRegistry, tarGz, type TestRegistry } from '../harness/registry.ts';
import { applyCd, condition, getObject, installCrds, requestSync, testClient, testLogger, waitForCd } from '../harness/tidemark.ts';

/*
 * repoType oci end to end: artifacts pushed to a real registry (htpasswd auth) in Flux's format
 * and as a plain tar.gz layer, read by the agent through a counting proxy, applied to the real
 * API server; bad artifacts stop at the fetch phase and prune nothing; `tidemark diff` reads them.
 */

const cm = (name: string, color: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  color: ${color}\n`;

describe('agent: OCI artifacts as sources', () => {
  let cluster: ClusterAccess;
  let kube: KubeClient;
  let registry: TestRegistry;
  let proxy: RegistryFaultProxy;
  let agent: RunningAgent;
  let ns: string;
  let cacheDir: string;

  before(async () => {
    cluster = await testCluster();
    await installCrds(cluster);
    kube = testClient(cluster);
    registry = await startRegistry({ auth: 'htpasswd' });
    proxy = await startRegistryFaultProxy({ url: registry.url });
    ns = await cluster.createNamespace('oci');
    cacheDir = await mkdtemp(join(tmpdir(), 'tidemark-oci-cache-'));
    const auth = Buffer.from(`${registry.username}:${registry.password}`).toString('base64');
    await kube.rest.request({
      method: 'POST',
      path: `/api/v1/namespaces/${ns}/secrets`,
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'kubernetes.io/dockerconfigjson',
        metadata: { name: 'regcred' },
        stringData: { '.dockerconfigjson': JSON.stringify({ auths: { [proxy.host]: { auth } } }) },
      },
    });
    agent = await startAgent({ kubeconfigPath: cluster.kubeconfigPath, namespace: ns, cacheDir, log: testLogger(), workers: 4 });
  });

  after(async () => {
    await agent?.stop();
    await proxy?.close();
    await registry?.stop();
    await kube?.close();
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  });

  const cmPath = (name: string) => `/api/v1/namespaces/${ns}/configmaps/${name}`;
  const colorOf = async (name: string) => ((await getObject(kube, cmPath(name)))?.data as Record<string, string> | undefined)?.color;
  const spec = (repo: string, extra: Record<string, unknown>) => ({
    repoType: 'oci',
    url: `oci://${proxy.host}/${repo}`,
    secretRef: 'regcred',
    insecure: true,
    path: 'deploy',
    ...extra,
  });
  const appliedAt = (revision: string) => (c: ContinuousDeployment) =>
    c.status?.lastAppliedRevision === revision && c.status?.sync?.status === 'Synced';
  const callsOf = (repo: string, from: number) => proxy.calls.slice(from).filter((c) => c.path.startsWith(`/v2/${repo}/`));

  it('deploys a Flux artifact by tag, polls it with HEAD only, and applies a new push of the tag', async () => {
    const repo = 'team/site';
    const v1 = await registry.pushArtifact(repo, ['stable'], tarGz({ './deploy/site.yaml': cm('oci-site', 'blue') }));
    await applyCd(kube, { metadata: { name: 'site', namespace: ns }, spec: spec(repo, { ref: { tag: 'stable' }, pullInterval: '1s' }) });
    const first = await waitForCd(kube, ns, 'site', appliedAt(`stable@${v1.digest}`), 'site applied from the artifact');
    assert.equal(condition(first, 'Ready')?.status, 'True');
    assert.equal(await colorOf('oci-site'), 'blue');

    // Three more polls of an unchanged tag: manifest HEADs, nothing downloaded.
    const mark = proxy.calls.length;
    await waitFor(() => Promise.resolve(callsOf(repo, mark).filter((c) => c.method === 'HEAD' && c.authorization).length >= 3), {
      timeoutMs: 60_000,
      what: 'three polls of the tag',
    });
    const polls = callsOf(repo, mark);
    assert.deepEqual(
      [...new Set(polls.map((c) => `${c.method} ${c.path}`))],
      [`HEAD /v2/${repo}/manifests/stable`],
      'an unchanged digest costs one HEAD per poll',
    );

    const v2 = await registry.pushArtifact(
      repo,
      ['stable'],
      tarGz({ 'deploy/site.yaml': cm('oci-site', 'green'), 'deploy/extra.yaml': cm('oci-extra', 'red') }),
    );
    const before = proxy.calls.length;
    await waitForCd(kube, ns, 'site', appliedAt(`stable@${v2.digest}`), 'the new push applied');
    assert.equal(await colorOf('oci-site'), 'green');
    assert.equal(await colorOf('oci-extra'), 'red');
    const pulled = [
      ...new Set(
        callsOf(repo, before)
          .filter((c) => c.method === 'GET')
          .map((c) => c.path),
      ),
    ];
    assert.equal(pulled.length, 2, `the new digest costs its manifest and one layer: ${pulled.join(', ')}`);
    assert.ok(pulled.includes(`/v2/${repo}/manifests/${v2.digest}`), pulled.join(', '));
    assert.equal(pulled.filter((p) => p.startsWith(`/v2/${repo}/blobs/sha256:`)).length, 1, pulled.join(', '));
  });

  it('follows a semver range and a pinned digest; a plain tar.gz layer is read too', async () => {
    const repo = 'team/versions';
    const v100 = await registry.pushArtifact(repo, ['1.0.0'], tarGz({ 'deploy/v.yaml': cm('oci-version', 'one') }), { format: 'plain' });
    await registry.pushArtifact(repo, ['1.2.0'], tarGz({ 'deploy/v.yaml': cm('oci-version', 'one-two') }));
    await registry.pushArtifact(repo, ['2.0.0'], tarGz({ 'deploy/v.yaml': cm('oci-version', 'two') }));
    const v121 = await registry.pushArtifact(repo, ['1.2.1-rc.1'], tarGz({ 'deploy/v.yaml': cm('oci-version', 'rc') }));
    assert.ok(v121.digest);

    await applyCd(kube, { metadata: { name: 'ranged', namespace: ns }, spec: spec(repo, { ref: { semver: '>=1.0.0 <2.0.0' } }) });
    const ranged = await waitForCd(
      kube,
      ns,
      'ranged',
      (c) => c.status?.lastAppliedRevision?.startsWith('1.2.0@sha256:') === true,
      'semver',
    );
    assert.equal(ranged.status?.sync?.status, 'Synced');
    assert.equal(await colorOf('oci-version'), 'one-two');

    await applyCd(kube, { metadata: { name: 'ranged', namespace: ns }, spec: spec(repo, { ref: { digest: v100.digest } }) });
    await waitForCd(kube, ns, 'ranged', appliedAt(v100.digest), 'the pinned digest (a plain tar.gz layer) applied');
    assert.equal(await colorOf('oci-version'), 'one');
  });

  it('a bad artifact is terminal and an unreachable one transient; neither prunes', async () => {
    const repo = 'team/guarded';
    const good = await registry.pushArtifact(repo, ['stable'], tarGz({ 'deploy/kept.yaml': cm('oci-kept', 'safe') }));
    await applyCd(kube, { metadata: { name: 'guarded', namespace: ns }, spec: spec(repo, { ref: { tag: 'stable' }, pullInterval: '1h' }) });
    await waitForCd(kube, ns, 'guarded', appliedAt(`stable@${good.digest}`), 'the good artifact applied');

    const cases: Array<{ layer: Buffer; code: string }> = [
      { layer: tarGz([{ name: '../../escape.yaml', content: cm('oci-escape', 'x') }]), code: 'ArchiveInvalid' },
      { layer: tarGz([{ name: 'deploy/link.yaml', type: '2', link: '/etc/passwd' }]), code: 'ArchiveInvalid' },
      { layer: Buffer.from('not a tar.gz'), code: 'ArchiveInvalid' },
    ];
    for (const { layer, code } of cases) {
      const bad = await registry.pushArtifact(repo, ['stable'], layer);
      await requestSync(kube, ns, 'guarded');
      const failed = await waitForCd(
        kube,
        ns,
        'guarded',
        (c) => condition(c, 'Ready')?.reason === code && c.status?.lastAttemptedRevision === `stable@${bad.digest}`,
        `${code} reported`,
      );
      assert.equal(condition(failed, 'Ready')?.status, 'False');
      assert.equal(failed.status?.lastAppliedRevision, `stable@${good.digest}`);
      assert.equal(await colorOf('oci-kept'), 'safe', 'nothing pruned');
      assert.equal(await getObject(kube, cmPath('oci-escape')), undefined);
    }

    // The tag disappears: transient (it may be pushed again), retried, and still nothing pruned.
    await applyCd(kube, {
      metadata: { name: 'guarded', namespace: ns },
      spec: spec(repo, { ref: { tag: 'not-pushed-yet' }, pullInterval: '1h' }),
    });
    const missing = await waitForCd(kube, ns, 'guarded', (c) => condition(c, 'Ready')?.reason === 'ManifestNotFound', 'not found');
    assert.equal(condition(missing, 'Ready')?.status, 'False');
    assert.equal(await colorOf('oci-kept'), 'safe', 'nothing pruned');
    const reconciling = condition(missing, 'Reconciling');
    assert.notEqual(condition(missing, 'Stalled')?.status, 'True', `a transient failure is not stalled (${JSON.stringify(reconciling)})`);
  });

  it('reports missing credentials as the registry answers them', async () => {
    const repo = 'team/private';
    await registry.pushArtifact(repo, ['stable'], tarGz({ 'deploy/p.yaml': cm('oci-private', 'secret') }));
    const noSecret: Record<string, unknown> = { ...spec(repo, { ref: { tag: 'stable' } }) };
    delete noSecret.secretRef;
    await applyCd(kube, { metadata: { name: 'anonymous', namespace: ns }, spec: noSecret });
    await waitForCd(kube, ns, 'anonymous', (c) => condition(c, 'Ready')?.reason === 'RegistryUnauthorized', 'unauthorized');
    assert.equal(await getObject(kube, cmPath('oci-private')), undefined);
  });

  it('tidemark diff plans an OCI source: 0 in sync, 1 after drift', async () => {
    const repo = 'team/diffed';
    const pushed = await registry.pushArtifact(repo, ['stable'], tarGz({ 'deploy/d.yaml': cm('oci-diffed', 'blue') }));
    await applyCd(kube, {
      metadata: { name: 'diffed', namespace: ns },
      spec: spec(repo, { ref: { tag: 'stable' }, pullInterval: '1h', syncPolicy: { selfHeal: false } }),
    });
    await waitForCd(kube, ns, 'diffed', appliedAt(`stable@${pushed.digest}`), 'applied');
    const diff = async () => {
      let out = '';
      let err = '';
      const code = await main(['diff', 'diffed', '-n', ns, '--kubeconfig', cluster.kubeconfigPath], {
        out: (t) => void (out += t),
        err: (t) => void (err += t),
        env: {},
      });
      return { code, out, err };
    };
    const clean = await diff();
    assert.equal(clean.code, 0, clean.out + clean.err);
    await kube.rest.request({
      method: 'PATCH',
      path: cmPath('oci-diffed'),
      contentType: 'application/merge-patch+json',
      body: { data: { color: 'drifted' } },
    });
    const drifted = await diff();
    assert.equal(drifted.code, 1, drifted.out + drifted.err);
    assert.match(drifted.out, /drifted/);
    assert.match(drifted.out, /blue/);
  });
});
