import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments, stringify } from 'yaml';
import { testCluster } from '../harness/cluster.ts';
import { startControlPlane } from '../harness/control-plane.ts';
import type { ClusterAccess, ControlPlane } from '../harness/control-plane.ts';
import { startGitServers } from '../harness/git.ts';
import type { GitServers } from '../harness/git.ts';
import { waitFor } from '../harness/process.ts';
import { applyCd, cdPath, condition, getCd, getObject, installCrds, testClient, testLogger, waitForCd } from '../harness/tidemark.ts';
import { kubectlTools } from '../harness/tools.ts';
import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { isObject } from '../../shared/kube/object.ts';
import { startAgent } from '../../agent/index.ts';
import type { RunningAgent } from '../../agent/index.ts';
import { configMapYaml, deploymentYaml } from '../harness/manifests.ts';

/*
 * A ContinuousDeployment that deploys to another cluster through a kubeconfig in a Secret (a
 * second real control plane on loopback), and one that deploys a kustomize overlay rendered by
 * the real kustomize inside kubectl.
 */

const configMap = (name: string, data: Record<string, string>) => configMapYaml(name, data);
const deployment = deploymentYaml;

/** A kubeconfig for the remote cluster under its own cluster name, as a user would paste it. */
function remoteKubeconfig(remote: ControlPlane, clusterName: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: clusterName,
        cluster: {
          server: remote.server,
          'certificate-authority-data': Buffer.from(remote.info.caPem).toString('base64'),
        },
      },
    ],
    users: [{ name: `${clusterName}-admin`, user: { token: remote.adminToken } }],
    contexts: [{ name: clusterName, context: { cluster: clusterName, user: `${clusterName}-admin` } }],
    'current-context': clusterName,
  });
}

/** True when every field of `expected` is in `live` with the same value (the server may add more). */
function contains(live: unknown, expected: unknown): boolean {
  if (Array.isArray(expected)) {
    return Array.isArray(live) && live.length === expected.length && expected.every((item, i) => contains(live[i], item));
  }
  if (isObject(expected)) return isObject(live) && Object.entries(expected).every(([k, v]) => contains(live[k], v));
  return live === expected;
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      {
        maxBuffer: 16 * 1024 * 1024,
        timeout: 60_000,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', KUBECONFIG: '/dev/null' },
      },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${command} ${args.join(' ')}: ${stderr || err.message}`));
        else resolve(stdout);
      },
    );
  });
}

describe('agent: remote clusters and kustomize', () => {
  let cluster: ClusterAccess;
  let remote: ControlPlane;
  let kube: KubeClient;
  let remoteKube: KubeClient;
  let git: GitServers;
  let agent: RunningAgent;
  let kubectl: string;
  let ns: string;
  let cacheDir: string;
  let workDir: string;

  before(async () => {
    [cluster, remote] = await Promise.all([testCluster(), startControlPlane()]);
    await installCrds(cluster);
    kube = testClient(cluster);
    remoteKube = testClient(remote);
    kubectl = (await kubectlTools()).kubectl;
    git = await startGitServers({ http: false, ssh: false });
    ns = await cluster.createNamespace('remote');
    cacheDir = await mkdtemp(join(tmpdir(), 'tidemark-remote-cache-'));
    workDir = await mkdtemp(join(tmpdir(), 'tidemark-kustomize-'));
    agent = await startAgent({
      allowLocalGit: true,
      kubeconfigPath: cluster.kubeconfigPath,
      namespace: ns,
      cacheDir,
      log: testLogger(),
      workers: 4,
      kustomizeCommand: [kubectl, 'kustomize'],
    });
  });

  after(async () => {
    await agent?.stop();
    await git?.stop();
    await kube?.close();
    await remoteKube?.close();
    await remote?.stop();
    for (const dir of [cacheDir, workDir]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  const synced = (cd: ContinuousDeployment) => cd.status?.sync?.status === 'Synced';

  it('deploys to the cluster named by spec.kubeConfig.secretRef, not to its own', async () => {
    // The same namespace name on both sides, so "not in the local cluster" means something.
    const target = await remote.createNamespace('edge-apps');
    await kube.rest.request({
      method: 'POST',
      path: '/api/v1/namespaces',
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: target } },
    });
    await kube.rest.request({
      method: 'POST',
      path: `/api/v1/namespaces/${ns}/secrets`,
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'edge-kubeconfig' },
        stringData: { config: remoteKubeconfig(remote, 'edge') },
      },
    });
    await git.repos.createRepo(
      'edge',
      {
        'deploy/cm.yaml': configMap('edge-settings', { region: 'north' }),
        'deploy/web.yaml': deployment('edge-web', 'nginx:1.25'),
      },
      { branch: 'main' },
    );
    await applyCd(kube, {
      metadata: { name: 'edge', namespace: ns },
      spec: {
        url: git.repos.fileUrl('edge'),
        path: 'deploy',
        pullInterval: '1h',
        targetNamespace: target,
        kubeConfig: { secretRef: { name: 'edge-kubeconfig', key: 'config' } },
      },
    });
    const cd = await waitForCd(kube, ns, 'edge', synced, 'edge synced');
    assert.deepEqual(cd.status?.location, { cluster: 'edge', namespace: target });
    assert.equal(condition(cd, 'Ready')?.status, 'True', condition(cd, 'Ready')?.message);
    assert.deepEqual(cd.status?.resources?.map((r) => `${r.kind}/${r.namespace}/${r.name}`).sort(), [
      `ConfigMap/${target}/edge-settings`,
      `Deployment/${target}/edge-web`,
    ]);
    assert.doesNotMatch(
      JSON.stringify(cd.status),
      new RegExp(remote.adminToken.replace(/[^A-Za-z0-9]/g, '.')),
      'the token never reaches status',
    );

    const cmPath = `/api/v1/namespaces/${target}/configmaps/edge-settings`;
    const webPath = `/apis/apps/v1/namespaces/${target}/deployments/edge-web`;
    const remoteCm = await getObject(remoteKube, cmPath);
    assert.deepEqual(remoteCm?.data, { region: 'north' });
    assert.equal(remoteCm?.metadata.annotations?.['tidemark.dev/owned-by'], `${ns}/edge:/ConfigMap:${target}/edge-settings`);
    assert.ok(await getObject(remoteKube, webPath));
    assert.equal(await getObject(kube, cmPath), undefined, "nothing in the agent's own cluster");
    assert.equal(await getObject(kube, webPath), undefined);
    // The remote cluster's own controller manager acts on what we applied there.
    await waitFor(
      async () => {
        const list = await remoteKube.rest.request<{ items: KubeObject[] }>({
          method: 'GET',
          path: `/apis/apps/v1/namespaces/${target}/replicasets`,
          query: { labelSelector: 'app=edge-web' },
        });
        return list.items.length > 0;
      },
      { timeoutMs: 60_000, what: 'remote ReplicaSet' },
    );

    // Self-heal watches the remote cluster.
    const uid = remoteCm?.metadata.uid;
    await remoteKube.rest.request({ method: 'DELETE', path: cmPath });
    await waitFor(
      async () => {
        const again = await getObject(remoteKube, cmPath);
        return again !== undefined && again.metadata.uid !== uid;
      },
      { timeoutMs: 30_000, what: 'remote ConfigMap recreated' },
    );

    // Deleting the ContinuousDeployment deletes what it deployed there.
    await kube.rest.request({ method: 'DELETE', path: cdPath(ns, 'edge') });
    await waitFor(async () => (await getCd(kube, ns, 'edge')) === undefined, {
      timeoutMs: 60_000,
      what: 'edge finalized',
    });
    assert.equal(await getObject(remoteKube, cmPath), undefined);
    await waitFor(async () => (await getObject(remoteKube, webPath)) === undefined, {
      timeoutMs: 60_000,
      what: 'remote Deployment deleted',
    });
  });

  it('deleting a remote deployment whose spec does not parse keeps the finalizer until the spec is fixed or orphan is chosen', async () => {
    const target = await remote.createNamespace('stuck-apps');
    await git.repos.createRepo('stuck', { 'deploy/cm.yaml': configMap('stuck-settings', { a: '1' }) }, { branch: 'main' });
    await applyCd(kube, {
      metadata: { name: 'stuck', namespace: ns },
      spec: {
        url: git.repos.fileUrl('stuck'),
        path: 'deploy',
        pullInterval: '1h',
        targetNamespace: target,
        kubeConfig: { secretRef: { name: 'edge-kubeconfig', key: 'config' } },
      },
    });
    await waitForCd(kube, ns, 'stuck', synced, 'stuck synced');
    const cmPath = `/api/v1/namespaces/${target}/configmaps/stuck-settings`;
    assert.ok(await getObject(remoteKube, cmPath));
    // The schema lets this through; the agent's reader does not (one ref only).
    await kube.rest.request({
      method: 'PATCH',
      path: cdPath(ns, 'stuck'),
      contentType: 'application/merge-patch+json',
      body: { spec: { git: { branch: 'main', tag: 'v1' } } },
    });
    await waitForCd(kube, ns, 'stuck', (c) => condition(c, 'Ready')?.reason === 'InvalidSpec', 'spec error reported');
    await kube.rest.request({ method: 'DELETE', path: cdPath(ns, 'stuck') });
    const stuck = await waitForCd(
      kube,
      ns,
      'stuck',
      (c) => condition(c, 'Ready')?.reason === 'DeletionFailed',
      'deletion failure reported',
    );
    assert.match(condition(stuck, 'Ready')?.message ?? '', /tidemark\.dev\/deletion-policy: orphan/);
    assert.deepEqual(stuck.metadata.finalizers, ['tidemark.dev/finalizer'], 'the finalizer stays');
    assert.ok(await getObject(remoteKube, cmPath), 'the remote object is neither deleted nor forgotten');

    await kube.rest.request({
      method: 'PATCH',
      path: cdPath(ns, 'stuck'),
      contentType: 'application/merge-patch+json',
      body: { metadata: { annotations: { 'tidemark.dev/deletion-policy': 'orphan' } } },
    });
    await waitFor(async () => (await getCd(kube, ns, 'stuck')) === undefined, { timeoutMs: 60_000, what: 'stuck finalized as orphan' });
    assert.ok(await getObject(remoteKube, cmPath), 'orphan keeps the remote object');
  });

  it('a wrong kubeconfig key is reported, not guessed', async () => {
    await git.repos.createRepo('edge-badkey', { 'deploy/cm.yaml': configMap('never', { a: '1' }) }, { branch: 'main' });
    await applyCd(kube, {
      metadata: { name: 'edge-badkey', namespace: ns },
      spec: {
        url: git.repos.fileUrl('edge-badkey'),
        path: 'deploy',
        kubeConfig: { secretRef: { name: 'edge-kubeconfig', key: 'nope' } },
      },
    });
    const cd = await waitForCd(kube, ns, 'edge-badkey', (c) => condition(c, 'Ready')?.status === 'False', 'bad key reported');
    assert.equal(condition(cd, 'Ready')?.reason, 'InvalidSecret', condition(cd, 'Ready')?.message);
    assert.match(condition(cd, 'Ready')?.message ?? '', /edge-kubeconfig.*nope/);
  });

  it('a kubeconfig in a Secret that would run a command or read a file is refused, and nothing runs', async () => {
    const marker = join(workDir, 'exec-ran');
    const good = parseAllDocuments(remoteKubeconfig(remote, 'edge'))[0]!.toJS() as { users: Array<{ user: Record<string, unknown> }> };
    const withUser = (user: Record<string, unknown>) => stringify({ ...good, users: [{ ...good.users[0], user }] });
    const cases = {
      exec: withUser({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command: '/bin/sh', args: ['-c', `touch ${marker}`] } }),
      'token-file': withUser({ tokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token' }),
    };
    await kube.rest.request({
      method: 'POST',
      path: `/api/v1/namespaces/${ns}/secrets`,
      body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'edge-local-refs' }, stringData: cases },
    });
    await git.repos.createRepo('edge-refused', { 'deploy/cm.yaml': configMap('never', { a: '1' }) }, { branch: 'main' });
    for (const [key, field] of [
      ['exec', /exec \(runs a command; use a token\)/],
      ['token-file', /tokenFile \(a file; use token\)/],
    ] as const) {
      const name = `edge-refused-${key}`;
      await applyCd(kube, {
        metadata: { name, namespace: ns },
        spec: { url: git.repos.fileUrl('edge-refused'), path: 'deploy', kubeConfig: { secretRef: { name: 'edge-local-refs', key } } },
      });
      const cd = await waitForCd(kube, ns, name, (c) => condition(c, 'Ready')?.status === 'False', `${key} refused`);
      const ready = condition(cd, 'Ready');
      assert.equal(ready?.reason, 'InvalidKubeconfig', ready?.message);
      assert.match(ready?.message ?? '', field);
      assert.match(ready?.message ?? '', /Secret .*edge-local-refs.*only static credentials/);
    }
    assert.equal(existsSync(marker), false, 'the exec command never ran');
  });

  it('a kustomize overlay renders exactly what `kubectl kustomize` renders, and syncs', async () => {
    const apps = await cluster.createNamespace('kustomized');
    const files: Record<string, string> = {
      'base/kustomization.yaml': 'resources:\n  - deployment.yaml\n  - service-config.yaml\n',
      'base/deployment.yaml': deployment('api', 'nginx:1.25'),
      'base/service-config.yaml': configMap('api-config', { mode: 'base', timeout: '5s' }),
      'overlays/prod/kustomization.yaml': [
        'resources:',
        '  - ../../base',
        'namePrefix: prod-',
        'labels:',
        '  - pairs: {env: prod}',
        '    includeSelectors: true',
        'images:',
        '  - name: nginx',
        '    newTag: "1.27"',
        'configMapGenerator:',
        '  - name: flags',
        '    literals: [feature=on, level=3]',
        'patches:',
        '  - target: {kind: ConfigMap, name: api-config}',
        '    patch: |-',
        '      - op: replace',
        '        path: /data/mode',
        '        value: prod',
        '  - target: {kind: Deployment, name: api}',
        '    patch: |-',
        '      - op: replace',
        '        path: /spec/replicas',
        '        value: 2',
        '',
      ].join('\n'),
    };
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(workDir, path)), { recursive: true });
      await writeFile(join(workDir, path), text);
    }
    const expected = parseAllDocuments(await run(kubectl, ['kustomize', '--', join(workDir, 'overlays/prod')]))
      .map((d) => d.toJS() as KubeObject)
      .filter(Boolean);
    const names = expected.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    assert.equal(names.length, 3, names.join(', '));
    assert.ok(
      names.some((n) => /^ConfigMap\/prod-flags-[a-z0-9]+$/.test(n)),
      `generated ConfigMap with a content hash: ${names.join(', ')}`,
    );

    await git.repos.createRepo('kustomized', Object.fromEntries(Object.entries(files).map(([p, t]) => [`config/${p}`, t])), {
      branch: 'main',
    });
    await applyCd(kube, {
      metadata: { name: 'kustomized', namespace: ns },
      spec: {
        url: git.repos.fileUrl('kustomized'),
        path: 'config/overlays/prod',
        pullInterval: '1h',
        targetNamespace: apps,
      },
    });
    const cd = await waitForCd(kube, ns, 'kustomized', synced, 'kustomized synced');
    assert.deepEqual(cd.status?.resources?.map((r) => `${r.kind}/${r.name}`).sort(), names);
    for (const obj of expected) {
      const plural = obj.kind === 'Deployment' ? 'deployments' : 'configmaps';
      const group = obj.kind === 'Deployment' ? '/apis/apps/v1' : '/api/v1';
      const live = await getObject(kube, `${group}/namespaces/${apps}/${plural}/${obj.metadata.name}`);
      assert.ok(live, `${obj.kind}/${obj.metadata.name} applied`);
      const { metadata, ...body } = obj;
      assert.ok(
        contains(live, body),
        `${obj.kind}/${obj.metadata.name}: live ${JSON.stringify(live)} lacks parts of ${JSON.stringify(body)}`,
      );
      assert.ok(contains(live.metadata.labels, metadata.labels ?? {}), `labels of ${obj.metadata.name}`);
    }
    const web = expected.find((o) => o.kind === 'Deployment');
    assert.equal((web?.spec as { replicas?: number }).replicas, 2, 'the overlay patch took effect');
  });
});
