import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Agent } from 'undici';
import { useAgentWorld } from '../harness/agent-world.ts';
import { serverWrites, settledServerWrites } from '../harness/metrics.ts';
import { installProbeCrd, probeCrd } from '../harness/probe-crd.ts';
import { applyCd, condition, getObject, requestSync, waitForCd } from '../harness/tidemark.ts';
import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import type { KubeObject } from '../../shared/kube/object.ts';

/*
 * spec.ignore on the real API server: an HPA-like actor (field manager kube-controller-manager,
 * writing through the scale subresource as the HPA does) owns spec.replicas; with the rule the
 * deployment is Synced with zero writes, and neither a requested sync nor a new revision resets
 * the replicas.
 */

// A private scalable kind: the API server's write counter has no namespace label, so only a kind
// no other file writes is counted exactly. Writes through /scale are a subresource, not counted.
const GROUP = 'ignore.test.tidemark.dev';
const PLURAL = 'scaleprobes';
const base = probeCrd(GROUP, PLURAL, 'ScaleProbe');
const version = base.spec.versions[0]!;
const SCALE_CRD = {
  ...base,
  spec: {
    ...base.spec,
    versions: [
      {
        ...version,
        subresources: { scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' }, status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', properties: { value: { type: 'string' }, replicas: { type: 'integer' } } },
              status: { type: 'object', properties: { replicas: { type: 'integer' } } },
            },
          },
        },
      },
    ],
  },
};

const deployment = (name: string, image: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: 2
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
        - name: main
          image: ${image}
`;

const scaleProbe = (name: string, value: string) =>
  `apiVersion: ${GROUP}/v1\nkind: ScaleProbe\nmetadata:\n  name: ${name}\nspec:\n  value: "${value}"\n  replicas: 2\n`;

describe('agent: spec.ignore', () => {
  let metrics: Agent;
  const world = useAgentWorld('ignore', {
    setup: async ({ cluster, kube }) => {
      metrics = new Agent({ connect: { ca: cluster.info.caPem } });
      await installProbeCrd(kube, SCALE_CRD);
    },
    cleanup: async ({ kube }) => {
      await kube.rest
        .request({ method: 'DELETE', path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${SCALE_CRD.metadata.name}` })
        .catch(() => undefined);
      await metrics.close();
    },
  });

  const synced = (cd: ContinuousDeployment) =>
    cd.status?.sync?.status === 'Synced' && (cd.status.resources ?? []).length > 0 && condition(cd, 'Ready')?.status === 'True';
  const syncAndWait = async (name: string, what: string) => {
    const { kube, ns } = world();
    const stamp = await requestSync(kube, ns, name);
    return waitForCd(kube, ns, name, (c) => c.status?.lastHandledRequestedAt === stamp, what);
  };
  /** What an HPA does: a merge patch of the scale subresource, as kube-controller-manager. */
  const scaleAsHpa = (path: string, replicas: number) =>
    world().kube.rest.request<KubeObject>({
      method: 'PATCH',
      path: `${path}/scale`,
      query: { fieldManager: 'kube-controller-manager' },
      contentType: 'application/merge-patch+json',
      body: { spec: { replicas } },
    });
  const replicasOf = async (path: string) => ((await getObject(world().kube, path))?.spec as { replicas?: number } | undefined)?.replicas;
  const ownersOfReplicas = async (path: string) =>
    ((await getObject(world().kube, path))?.metadata.managedFields ?? [])
      .filter((m) => {
        const spec = (m as { fieldsV1?: { 'f:spec'?: Record<string, unknown> } }).fieldsV1?.['f:spec'];
        return spec !== undefined && 'f:replicas' in spec;
      })
      .map((m) => (m as { manager: string }).manager)
      .sort();

  it('paths: an HPA owns spec.replicas of a Deployment — Synced, and neither a sync nor a new revision resets it', async () => {
    const { kube, git, ns, apps } = world();
    await git.repos.createRepo('hpa', { 'deploy/web.yaml': deployment('web', 'nginx:1.25') }, { branch: 'main' });
    await applyCd(kube, {
      metadata: { name: 'hpa', namespace: ns },
      spec: {
        url: git.repos.fileUrl('hpa'),
        path: 'deploy',
        pullInterval: '1h',
        targetNamespace: apps,
        ignore: [{ paths: ['/spec/replicas'], target: { group: 'apps', kind: 'Deployment' } }],
      },
    });
    await waitForCd(kube, ns, 'hpa', synced, 'hpa: first sync');
    const web = `/apis/apps/v1/namespaces/${apps}/deployments/web`;
    assert.ok(!(await ownersOfReplicas(web)).includes('tidemark'), 'the agent never claims replicas');

    // Kubernetes before 1.22 records no owner for a write through /scale (the HPA's way).
    await scaleAsHpa(web, 5);
    assert.ok(!(await ownersOfReplicas(web)).includes('tidemark'));
    const generation = (await getObject(kube, web))?.metadata.generation;
    const cd = await syncAndWait('hpa', 'hpa: requested sync after the scale');
    assert.equal(cd.status?.sync?.status, 'Synced', JSON.stringify(cd.status?.resources));
    assert.equal(condition(cd, 'Ready')?.reason, 'ReconciliationSucceeded');
    assert.equal(await replicasOf(web), 5);
    assert.equal((await getObject(kube, web))?.metadata.generation, generation, 'the spec was not written');

    // A new revision re-sends every object: still not replicas.
    const sha = await git.repos.commitFiles('hpa', 'main', { 'deploy/web.yaml': deployment('web', 'nginx:1.26') }, 'new image');
    const next = await syncAndWait('hpa', 'hpa: sync of the new revision');
    assert.equal(next.status?.lastAppliedRevision, `main@sha1:${sha}`, JSON.stringify(next.status));
    assert.equal(next.status?.sync?.status, 'Synced');
    const live = await getObject(kube, web);
    assert.equal(
      (live?.spec as { template: { spec: { containers: Array<{ image: string }> } } }).template.spec.containers[0]?.image,
      'nginx:1.26',
    );
    assert.equal(await replicasOf(web), 5, 'the HPA keeps its replicas');
    assert.ok(!(await ownersOfReplicas(web)).includes('tidemark'), 'and still does not claim them');
  });

  it('without the rule the same scale is drift and the agent puts replicas back (the test can fail)', async () => {
    const { kube, git, ns, apps } = world();
    await git.repos.createRepo('nohpa', { 'deploy/api.yaml': deployment('api', 'nginx:1.25') }, { branch: 'main' });
    await applyCd(kube, {
      metadata: { name: 'nohpa', namespace: ns },
      spec: { url: git.repos.fileUrl('nohpa'), path: 'deploy', pullInterval: '1h', targetNamespace: apps },
    });
    await waitForCd(kube, ns, 'nohpa', synced, 'nohpa: first sync');
    const api = `/apis/apps/v1/namespaces/${apps}/deployments/api`;
    await scaleAsHpa(api, 5);
    await syncAndWait('nohpa', 'nohpa: requested sync');
    assert.equal(await replicasOf(api), 2);
  });

  it('managedFieldsManagers: what kube-controller-manager owns is left alone, with zero writes (counted by the server)', async () => {
    const { cluster, kube, git, ns, apps } = world();
    await git.repos.createRepo('mgr', { 'deploy/probe.yaml': scaleProbe('probe', 'one') }, { branch: 'main' });
    await applyCd(kube, {
      metadata: { name: 'mgr', namespace: ns },
      spec: {
        url: git.repos.fileUrl('mgr'),
        path: 'deploy',
        pullInterval: '1h',
        targetNamespace: apps,
        ignore: [{ managedFieldsManagers: ['kube-controller-manager'] }],
      },
    });
    await waitForCd(kube, ns, 'mgr', synced, 'mgr: first sync');
    const probe = `/apis/${GROUP}/v1/namespaces/${apps}/${PLURAL}/probe`;
    // Created with Git's value, ours until the actor changes it.
    assert.equal(await replicasOf(probe), 2);
    // An update (not through /scale, whose writes this server does not attribute) takes the field over.
    await kube.rest.request<KubeObject>({
      method: 'PATCH',
      path: probe,
      query: { fieldManager: 'kube-controller-manager' },
      contentType: 'application/merge-patch+json',
      body: { spec: { replicas: 7 } },
    });
    assert.deepEqual(await ownersOfReplicas(probe), ['kube-controller-manager']);

    const before = await settledServerWrites(cluster, metrics, GROUP, PLURAL);
    assert.ok(before > 0, 'the counter sees this kind');
    const cd = await syncAndWait('mgr', 'mgr: requested sync after the scale');
    assert.equal(cd.status?.sync?.status, 'Synced', JSON.stringify(cd.status?.resources));
    assert.equal(await serverWrites(cluster, metrics, GROUP, PLURAL), before, 'no write for an object whose only difference is ignored');
    assert.equal(await replicasOf(probe), 7);

    // The counter does see writes: a new value in Git is applied — without replicas.
    await git.repos.commitFiles('mgr', 'main', { 'deploy/probe.yaml': scaleProbe('probe', 'two') }, 'new value');
    await syncAndWait('mgr', 'mgr: sync of the new revision');
    const live = await getObject(kube, probe);
    assert.equal((live?.spec as { value?: string }).value, 'two');
    assert.equal(await replicasOf(probe), 7);
    assert.ok((await serverWrites(cluster, metrics, GROUP, PLURAL)) > before, 'the new revision was written');
  });
});
