import assert from 'node:assert/strict';
import { readdir, readFile, rm } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { testCluster } from '../harness/cluster.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { startGitServers } from '../harness/git.ts';
import type { GitServers } from '../harness/git.ts';
import { applyCd, condition, getObject, installCrds, requestSync, testClient, testLogger, waitForCd } from '../harness/tidemark.ts';
import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import { main } from '../../cli/main.ts';
import { startAgent } from '../../agent/index.ts';
import type { RunningAgent } from '../../agent/index.ts';

/*
 * Issue 17 part 4: the Argo CD example apps, as their authors wrote them (ports without
 * `protocol`), sync on the local Kubernetes 1.20 API server, whose server-side apply rejects a
 * list entry that omits a defaulted key field.
 */

const APPS = join(import.meta.dirname, '..', 'fixtures', 'argocd-example-apps');

async function filesOf(app: string): Promise<Record<string, string>> {
  const root = join(APPS, app);
  const out: Record<string, string> = {};
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out[`${app}/${relative(root, path)}`] = await readFile(path, 'utf8');
  }
  return out;
}

interface Port {
  port?: number;
  containerPort?: number;
  protocol?: string;
}

describe('the Argo CD example apps sync as written', () => {
  let cluster: ClusterAccess;
  let kube: KubeClient;
  let git: GitServers;
  let agent: RunningAgent;
  let ns: string;
  let cacheDir: string;
  const targets: Record<string, string> = {};

  before(async () => {
    cluster = await testCluster();
    await installCrds(cluster);
    kube = testClient(cluster);
    git = await startGitServers({ http: false, ssh: false });
    ns = await cluster.createNamespace('examples');
    for (const app of ['guestbook', 'kustomize-guestbook', 'sock-shop', 'common']) targets[app] = await cluster.createNamespace(app);
    cacheDir = await mkdtemp(join(tmpdir(), 'tidemark-examples-cache-'));
    const files = {
      ...(await filesOf('guestbook')),
      ...(await filesOf('kustomize-guestbook')),
      ...(await filesOf('sock-shop')),
    };
    await git.repos.createRepo('examples', files, { branch: 'main' });
    agent = await startAgent({
      kubeconfigPath: cluster.kubeconfigPath,
      namespace: ns,
      cacheDir,
      log: testLogger(),
      allowLocalGit: true,
      workers: 3,
    });
  });

  after(async () => {
    await agent?.stop();
    await git?.stop();
    await kube?.close();
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  });

  const synced = (cd: ContinuousDeployment) => cd.status?.sync?.status === 'Synced' || condition(cd, 'Ready')?.status === 'False';

  const sync = async (app: string, repo = 'examples', path = app) => {
    await applyCd(kube, {
      metadata: { name: app, namespace: ns },
      spec: { url: git.repos.fileUrl(repo), path, pullInterval: '1h', targetNamespace: targets[app] },
    });
    const cd = await waitForCd(kube, ns, app, synced, `${app} synced or refused`);
    assert.equal(cd.status?.sync?.status, 'Synced', `${app}: ${condition(cd, 'Ready')?.message ?? ''}`);
    // The defaults we fill in are what the server stores: no difference is left to report.
    let out = '';
    const code = await main(['diff', app, '-n', ns, '--kubeconfig', cluster.kubeconfigPath], {
      out: (t) => void (out += t),
      err: (t) => void (out += t),
      env: {},
    });
    assert.equal(code, 0, out);
    assert.match(out, /^no differences with /m);
    return cd;
  };

  const servicePorts = async (namespace: string, name: string) =>
    ((await getObject(kube, `/api/v1/namespaces/${namespace}/services/${name}`))?.spec as { ports: Port[] }).ports;
  const containerPorts = async (namespace: string, name: string) =>
    (
      (await getObject(kube, `/apis/apps/v1/namespaces/${namespace}/deployments/${name}`))?.spec as {
        template: { spec: { containers: Array<{ ports?: Port[] }> } };
      }
    ).template.spec.containers.flatMap((c) => c.ports ?? []);

  it('guestbook (plain YAML, a Service port without protocol)', async () => {
    const cd = await sync('guestbook');
    assert.deepEqual(cd.status?.resources?.map((r) => `${r.kind}/${r.name}`).sort(), ['Deployment/guestbook-ui', 'Service/guestbook-ui']);
    assert.deepEqual(
      (await servicePorts(targets.guestbook!, 'guestbook-ui')).map((p) => `${p.port}/${p.protocol}`),
      ['80/TCP'],
    );
    assert.deepEqual(
      (await containerPorts(targets.guestbook!, 'guestbook-ui')).map((p) => `${p.containerPort}/${p.protocol}`),
      ['80/TCP'],
    );
  });

  it('kustomize-guestbook (namePrefix)', async () => {
    const cd = await sync('kustomize-guestbook');
    assert.deepEqual(cd.status?.resources?.map((r) => `${r.kind}/${r.name}`).sort(), [
      'Deployment/kustomize-guestbook-ui',
      'Service/kustomize-guestbook-ui',
    ]);
    assert.ok(await getObject(kube, `/api/v1/namespaces/${targets['kustomize-guestbook']!}/services/kustomize-guestbook-ui`));
  });

  it('sock-shop (29 objects; ports with and without protocol)', async () => {
    const cd = await sync('sock-shop');
    const resources = cd.status?.resources ?? [];
    assert.equal(resources.length, 29);
    assert.ok(
      resources.every((r) => r.status === 'Synced'),
      JSON.stringify(resources.filter((r) => r.status !== 'Synced')),
    );
    const target = targets['sock-shop']!;
    // Written with protocol: TCP and without it; both are stored the same way.
    assert.deepEqual(
      (await servicePorts(target, 'rabbitmq')).map((p) => p.protocol),
      (await servicePorts(target, 'rabbitmq')).map(() => 'TCP'),
    );
    assert.deepEqual(
      (await servicePorts(target, 'carts-db')).map((p) => `${p.port}/${p.protocol}`),
      ['27017/TCP'],
    );
    assert.ok(await getObject(kube, `/apis/networking.k8s.io/v1/namespaces/${target}/ingresses/front-end-ingress`));
  });

  it('other shapes kubectl apply takes and server-side apply on 1.20 did not: quantities as numbers; stringData', async () => {
    const worker = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
spec:
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker}}
    spec:
      containers:
        - name: worker
          image: busybox
          resources:
            limits: {cpu: 1, memory: 1Gi}
            requests: {cpu: 0.5}
`;
    const quota = 'apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: team\nspec:\n  hard: {pods: 10, requests.cpu: 4}\n';
    const secret = (data: Record<string, string>) =>
      `apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData: ${JSON.stringify(data)}\n`;
    await git.repos.createRepo(
      'common',
      { 'deploy/worker.yaml': worker, 'deploy/quota.yaml': quota, 'deploy/secret.yaml': secret({ user: 'admin' }) },
      { branch: 'main' },
    );
    await sync('common', 'common', 'deploy');
    const target = targets.common!;
    const deployment = await getObject(kube, `/apis/apps/v1/namespaces/${target}/deployments/worker`);
    const resources = (deployment?.spec as { template: { spec: { containers: Array<{ resources: unknown }> } } }).template.spec
      .containers[0]?.resources;
    assert.deepEqual(resources, { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '500m' } });
    const hard = ((await getObject(kube, `/api/v1/namespaces/${target}/resourcequotas/team`))?.spec as { hard: unknown }).hard;
    assert.deepEqual(hard, { pods: '10', 'requests.cpu': '4' });

    // A key renamed in stringData leaves no stale key behind (kubernetes/kubernetes#108008).
    const sha = await git.repos.commitFiles('common', 'main', { 'deploy/secret.yaml': secret({ username: 'admin' }) }, 'rename a key');
    await requestSync(kube, ns, 'common');
    await waitForCd(kube, ns, 'common', (c) => c.status?.lastAppliedRevision === `main@sha1:${sha}`, 'common: renamed key applied');
    const data = (await getObject(kube, `/api/v1/namespaces/${target}/secrets/creds`))?.data as Record<string, string>;
    assert.deepEqual(Object.keys(data), ['username']);
    assert.equal(Buffer.from(data.username ?? '', 'base64').toString(), 'admin');
  });
});
