import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Agent } from 'undici';
import { useAgentWorld } from '../harness/agent-world.ts';
import { serverWrites } from '../harness/metrics.ts';
import { installProbeCrd, probeCrd } from '../harness/probe-crd.ts';
import { waitFor } from '../harness/process.ts';
import { applyCd, condition, getObject, listEvents, requestSync, waitForCd, waitForEvent } from '../harness/tidemark.ts';
import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import type { KubeObject } from '../../shared/kube/object.ts';

/*
 * Drift and self-heal against the real API server and controller manager: no false drift from
 * defaults or other managers' fields, no writes on a no-op reconcile (counted by the API server
 * itself), self-heal through the watch, and drift left alone and reported when selfHeal is off.
 */

// A kind only this file uses: the API server's request counter has no namespace label, so a
// private resource is how its writes can be counted exactly on a cluster other files share.
const PROBE_GROUP = 'drift.test.tidemark.dev';
const PROBE_PLURAL = 'noopprobes';
const PROBE_CRD = probeCrd(PROBE_GROUP, PROBE_PLURAL, 'NoopProbe');

const configMap = (name: string, data: Record<string, string>) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n${Object.entries(data)
    .map(([k, v]) => `  ${k}: "${v}"`)
    .join('\n')}\n`;

// No replicas, strategy, revisionHistoryLimit, imagePullPolicy, ...: the server defaults them all.
const deployment = (name: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
        - name: main
          image: nginx:1.25
          ports: [{containerPort: 80}]
`;

const probe = (name: string, value: string) =>
  `apiVersion: ${PROBE_GROUP}/v1\nkind: NoopProbe\nmetadata:\n  name: ${name}\nspec:\n  value: "${value}"\n`;

describe('agent: drift and self-heal', () => {
  let metrics: Agent;
  const world = useAgentWorld('drift', {
    workers: 4,
    setup: async ({ cluster, kube }) => {
      metrics = new Agent({ connect: { ca: cluster.info.caPem } });
      await installProbeCrd(kube, PROBE_CRD);
    },
    cleanup: async ({ kube }) => {
      await kube.rest
        .request({
          method: 'DELETE',
          path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${PROBE_CRD.metadata.name}`,
        })
        .catch(() => undefined);
      await metrics.close();
    },
  });

  const cmPath = (name: string) => `/api/v1/namespaces/${world().apps}/configmaps/${name}`;
  const dataOf = async (name: string) => (await getObject(world().kube, cmPath(name)))?.data as Record<string, string> | undefined;
  const editAsKubectl = (path: string, body: Record<string, unknown>) =>
    world().kube.rest.request<KubeObject>({
      method: 'PATCH',
      path,
      query: { fieldManager: 'kubectl-edit' },
      contentType: 'application/merge-patch+json',
      body,
    });
  const allSynced = (cd: ContinuousDeployment) =>
    cd.status?.sync?.status === 'Synced' &&
    (cd.status.resources ?? []).length > 0 &&
    (cd.status.resources ?? []).every((r) => r.status === 'Synced');
  /** Requests a sync and waits until the agent has answered exactly that request. */
  const syncAndWait = async (name: string, what: string) => {
    const { kube, ns } = world();
    const stamp = await requestSync(kube, ns, name);
    return waitForCd(kube, ns, name, (c) => c.status?.lastHandledRequestedAt === stamp, what);
  };

  it("defaulted fields and other managers' fields are no drift, over repeated reconciles", async () => {
    const { kube, git, ns, apps } = world();
    const sha = await git.repos.createRepo(
      'steady',
      {
        'deploy/web.yaml': deployment('web'),
        'deploy/settings.yaml': configMap('steady-settings', { color: 'blue' }),
        'deploy/probe.yaml': probe('steady-probe', 'one'),
      },
      { branch: 'main' },
    );
    await applyCd(kube, {
      metadata: { name: 'steady', namespace: ns },
      spec: { url: git.repos.fileUrl('steady'), path: 'deploy', pullInterval: '1h', targetNamespace: apps },
    });
    await waitForCd(kube, ns, 'steady', allSynced, 'steady: first sync');

    // The server filled in what Git leaves out, and the controller manager has written its own fields.
    const webPath = `/apis/apps/v1/namespaces/${apps}/deployments/web`;
    await waitFor(
      async () => {
        const web = await getObject(kube, webPath);
        return (
          web?.metadata.annotations?.['deployment.kubernetes.io/revision'] === '1' &&
          (web.status as { observedGeneration?: number } | undefined)?.observedGeneration === web.metadata.generation
        );
      },
      { timeoutMs: 60_000, what: 'deployment controller observed web' },
    );
    const web = await getObject(kube, webPath);
    const spec = web?.spec as {
      replicas?: number;
      strategy?: { type?: string };
      template: { spec: { containers: Array<{ imagePullPolicy?: string }> } };
    };
    assert.equal(spec.replicas, 1, 'replicas defaulted');
    assert.equal(spec.strategy?.type, 'RollingUpdate', 'strategy defaulted');
    assert.equal(spec.template.spec.containers[0]?.imagePullPolicy, 'IfNotPresent', 'imagePullPolicy defaulted');
    // Another tool adds an annotation and a label we do not manage: not ours, so not drift.
    await kube.rest.request({
      method: 'PATCH',
      path: webPath,
      query: { fieldManager: 'other-tool' },
      contentType: 'application/merge-patch+json',
      body: { metadata: { annotations: { 'example.com/note': 'hands off' }, labels: { team: 'blue' } } },
    });

    for (const round of [1, 2]) {
      const cd = await syncAndWait('steady', `steady: requested reconcile ${round}`);
      assert.equal(cd.status?.sync?.status, 'Synced', `round ${round}: ${JSON.stringify(cd.status?.resources)}`);
      assert.equal(cd.status?.sync?.revision, `main@sha1:${sha}`);
      assert.deepEqual(cd.status?.resources?.map((r) => `${r.kind}/${r.name}=${r.status}`).sort(), [
        'ConfigMap/steady-settings=Synced',
        'Deployment/web=Synced',
        'NoopProbe/steady-probe=Synced',
      ]);
      assert.equal(condition(cd, 'Ready')?.status, 'True', condition(cd, 'Ready')?.message);
    }
    const after = await getObject(kube, webPath);
    assert.equal(after?.metadata.annotations?.['example.com/note'], 'hands off', "the other manager's annotation survives our applies");
    assert.equal(after?.metadata.labels?.team, 'blue');
    const events = await listEvents(kube, ns, 'steady');
    assert.ok(!events.some((e) => e.reason === 'DriftDetected'), JSON.stringify(events));
  });

  it('a no-op reconcile sends no write to the API server (counted by the server)', async () => {
    const { cluster, kube, ns, apps, restartAgent } = world();
    // Counted: every non-dry-run POST/PUT/PATCH/APPLY the API server served for the probe kind,
    // which only the "steady" ContinuousDeployment manages (the counter has no namespace label,
    // and other test files write ConfigMaps and Deployments on a shared cluster; the agent writes
    // every kind through the same path). Not counted, on purpose: the status write of
    // lastHandledRequestedAt (continuousdeployments/status) and Events — a requested reconcile
    // has to record that it answered the request.
    await waitForCd(kube, ns, 'steady', allSynced, 'steady still synced');
    const before = await serverWrites(cluster, metrics, PROBE_GROUP, PROBE_PLURAL);
    const probePath = `/apis/${PROBE_GROUP}/v1/namespaces/${apps}/${PROBE_PLURAL}/steady-probe`;
    const rvBefore = (await getObject(kube, probePath))?.metadata.resourceVersion;
    const cd = await syncAndWait('steady', 'steady: no-op reconcile');
    assert.equal(cd.status?.sync?.status, 'Synced');
    // A restarted agent has no memory of what it applied and fills its cache from a list: it
    // compares every object with a server-side dry-run and still finds nothing to write.
    await restartAgent();
    const again = await syncAndWait('steady', 'steady: no-op reconcile after a restart');
    assert.equal(again.status?.sync?.status, 'Synced', JSON.stringify(again.status));
    assert.equal(await serverWrites(cluster, metrics, PROBE_GROUP, PROBE_PLURAL), before, 'no write for an object that is in sync');
    assert.equal((await getObject(kube, probePath))?.metadata.resourceVersion, rvBefore);

    // The counter does see writes: an edit by someone else plus the agent's repair are two.
    await editAsKubectl(probePath, { spec: { value: 'edited' } });
    await waitFor(async () => ((await getObject(kube, probePath))?.spec as { value?: string } | undefined)?.value === 'one', {
      timeoutMs: 30_000,
      what: 'probe repaired',
    });
    const writes = await serverWrites(cluster, metrics, PROBE_GROUP, PROBE_PLURAL);
    assert.ok(writes >= before + 2, `writes counted: ${before} → ${writes}`);
  });

  it('selfHeal: an edit and a deletion are reverted through the watch, without a sync request or pull', async () => {
    const { kube, git, ns, apps } = world();
    const sha = await git.repos.createRepo(
      'healer',
      {
        'deploy/edited.yaml': configMap('heal-edited', { color: 'blue' }),
        'deploy/deleted.yaml': configMap('heal-deleted', { size: 'large' }),
      },
      { branch: 'main' },
    );
    // pullInterval 1h and no request: only the watch on ConfigMaps can bring the agent back in time.
    await applyCd(kube, {
      metadata: { name: 'healer', namespace: ns },
      spec: {
        url: git.repos.fileUrl('healer'),
        path: 'deploy',
        pullInterval: '1h',
        targetNamespace: apps,
        syncPolicy: { selfHeal: true },
      },
    });
    const synced = await waitForCd(kube, ns, 'healer', allSynced, 'healer: first sync');
    assert.equal(synced.status?.lastAppliedRevision, `main@sha1:${sha}`);

    const edited = await editAsKubectl(cmPath('heal-edited'), { data: { color: 'red', extra: 'kept?' } });
    assert.equal((edited.data as Record<string, string>).color, 'red');
    await waitFor(async () => (await dataOf('heal-edited'))?.color === 'blue', {
      timeoutMs: 30_000,
      what: 'edit reverted',
    });

    const uid = (await getObject(kube, cmPath('heal-deleted')))?.metadata.uid;
    await kube.rest.request({ method: 'DELETE', path: cmPath('heal-deleted') });
    await waitFor(
      async () => {
        const again = await getObject(kube, cmPath('heal-deleted'));
        return again !== undefined && again.metadata.uid !== uid;
      },
      { timeoutMs: 30_000, what: 'deleted ConfigMap recreated' },
    );
    assert.equal((await dataOf('heal-deleted'))?.size, 'large');

    const cd = await waitForCd(kube, ns, 'healer', allSynced, 'healer: Synced after repairs');
    assert.equal(cd.metadata.annotations?.['tidemark.dev/requestedAt'], undefined, 'nobody asked for a sync');
    assert.equal(cd.status?.lastAppliedRevision, `main@sha1:${sha}`);
  });

  it('selfHeal false: drift is reported as OutOfSync and left alone until a sync is requested', async () => {
    const { kube, git, ns, apps } = world();
    await git.repos.createRepo(
      'watcher',
      {
        'deploy/watched.yaml': configMap('left-alone', { color: 'blue' }),
        'deploy/other.yaml': configMap('untouched', { color: 'blue' }),
      },
      { branch: 'main' },
    );
    await applyCd(kube, {
      metadata: { name: 'watcher', namespace: ns },
      spec: {
        url: git.repos.fileUrl('watcher'),
        path: 'deploy',
        pullInterval: '1h',
        targetNamespace: apps,
        syncPolicy: { selfHeal: false },
      },
    });
    await waitForCd(kube, ns, 'watcher', allSynced, 'watcher: first sync');

    await editAsKubectl(cmPath('left-alone'), { data: { color: 'red' } });
    const cd = await waitForCd(kube, ns, 'watcher', (c) => c.status?.sync?.status === 'OutOfSync', 'watcher: drift reported');
    assert.deepEqual(cd.status?.resources?.map((r) => `${r.name}=${r.status}`).sort(), ['left-alone=OutOfSync', 'untouched=Synced']);
    const ready = condition(cd, 'Ready');
    assert.equal(ready?.status, 'False');
    assert.equal(ready?.reason, 'DriftDetected', ready?.message);
    assert.match(ready?.message ?? '', /ConfigMap\/.*left-alone/);
    assert.match(ready?.message ?? '', /selfHeal/);
    assert.equal((await dataOf('left-alone'))?.color, 'red', 'the edit stays');
    await waitForEvent(kube, ns, 'watcher', (e) => e.type === 'Warning' && e.reason === 'DriftDetected', 'the DriftDetected Event');

    // A later watch-triggered reconcile (it reports the second object) still writes nothing.
    await editAsKubectl(cmPath('untouched'), { data: { color: 'green' } });
    await waitForCd(
      kube,
      ns,
      'watcher',
      (c) => (c.status?.resources ?? []).every((r) => r.status === 'OutOfSync'),
      'watcher: second drift reported',
    );
    assert.equal((await dataOf('left-alone'))?.color, 'red');
    assert.equal((await dataOf('untouched'))?.color, 'green');

    // A person asking for a sync is what repairs it.
    const healed = await syncAndWait('watcher', 'watcher: requested sync');
    assert.equal(healed.status?.sync?.status, 'Synced', JSON.stringify(healed.status?.resources));
    assert.equal(condition(healed, 'Ready')?.reason, 'ReconciliationSucceeded');
    assert.equal((await dataOf('left-alone'))?.color, 'blue');
    assert.equal((await dataOf('untouched'))?.color, 'blue');
  });
});
