import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { testCluster } from '../harness/cluster.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { clientFromKubeconfig, installChartRbac, mintToken } from '../harness/helm.ts';
import type { ChartRbac } from '../harness/helm.ts';
import { installCrds, testClient } from '../harness/tidemark.ts';
import { waitFor } from '../harness/process.ts';
import { startNotification, webhookPath } from '../../notification/index.ts';
import { createKubeClient } from '../../shared/kube/client.ts';
import { connectionFromText, loadKubeconfig } from '../../shared/kube/kubeconfig/index.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import { systemClock } from '../../shared/time/clock.ts';
import { KubeApiError } from '../../shared/kube/errors.ts';
import { LeaderElector } from '../../shared/controller/leader-election.ts';
import { silentLogger } from '../../shared/log/index.ts';
import type { KubeRequest } from '../../shared/kube/rest.ts';

/**
 * The chart's RBAC on the real, RBAC-enforcing API server: each program acts with a token of the
 * ServiceAccount the chart created (never an admin token). The agent can do its job; the image
 * updater is refused what it must not touch. Access reviews only confirm what the real calls show.
 */

const API = '/apis/tidemark.dev/v1alpha1';

const configMap = (name: string, value: string) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name },
  data: { value },
});
const deployment = (name: string, image: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image }] } },
  },
});

const apply = (path: string, body: unknown): KubeRequest => ({
  method: 'PATCH',
  path,
  query: { fieldManager: 'tidemark', force: true },
  contentType: 'application/apply-patch+yaml',
  body,
});
const merge = (path: string, body: unknown): KubeRequest => ({
  method: 'PATCH',
  path,
  contentType: 'application/merge-patch+json',
  body,
});

async function forbidden(kube: KubeClient, req: KubeRequest, what: string): Promise<void> {
  await assert.rejects(
    kube.rest.request(req),
    (err: unknown) => {
      assert.ok(err instanceof KubeApiError, `${what}: ${String(err)}`);
      assert.equal(err.status, 403, `${what}: expected 403, got ${err.status} ${err.message}`);
      return true;
    },
    `${what} was allowed`,
  );
}

/** What the API server says this token may do (a confirmation, never the only check). */
async function can(
  kube: KubeClient,
  attributes: {
    verb: string;
    resource: string;
    group?: string;
    namespace?: string;
    subresource?: string;
    name?: string;
  },
): Promise<boolean> {
  const review = await kube.rest.request<{ status?: { allowed?: boolean } }>({
    method: 'POST',
    path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
    body: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { group: '', ...attributes } },
    },
  });
  return review.status?.allowed === true;
}

const suffix = () => randomBytes(3).toString('hex');

describe('chart RBAC with ServiceAccount tokens', () => {
  let cluster: ClusterAccess;
  let admin: KubeClient;
  const namespaces: string[] = [];
  const cleanups: Array<() => Promise<void>> = [];

  before(async () => {
    cluster = await testCluster();
    await installCrds(cluster);
    admin = testClient(cluster);
  });

  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    for (const ns of namespaces) await cluster.deleteNamespace(ns).catch(() => undefined);
    await admin?.close();
  });

  const namespace = async (prefix: string): Promise<string> => {
    const ns = await cluster.createNamespace(prefix);
    namespaces.push(ns);
    return ns;
  };

  const install = async (
    namespace: string,
    values?: Record<string, unknown>,
  ): Promise<{ rbac: ChartRbac; agent: KubeClient; updater: KubeClient }> => {
    const rbac = await installChartRbac(cluster, { namespace, release: `rbac-${suffix()}`, values });
    cleanups.push(() => rbac.cleanup());
    const agent = clientFromKubeconfig(rbac.agentKubeconfig);
    const updater = clientFromKubeconfig(rbac.imageUpdaterKubeconfig);
    cleanups.push(
      () => agent.close(),
      () => updater.close(),
    );
    return { rbac, agent, updater };
  };

  /** The objects a ContinuousDeployment namespace holds: the CD, its Git Secret, an ImagePolicy. */
  const seed = async (ns: string): Promise<void> => {
    await admin.rest.request(
      apply(`${API}/namespaces/${ns}/continuousdeployments/app`, {
        apiVersion: 'tidemark.dev/v1alpha1',
        kind: 'ContinuousDeployment',
        metadata: { name: 'app' },
        spec: { url: 'https://git.example.com/org/config' },
      }),
    );
    for (const name of ['git-credentials', 'unrelated']) {
      await admin.rest.request(
        apply(`/api/v1/namespaces/${ns}/secrets/${name}`, {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name },
          stringData: { password: 'p' },
        }),
      );
    }
    await admin.rest.request(
      apply(`${API}/namespaces/${ns}/imagepolicies/app`, {
        apiVersion: 'tidemark.dev/v1alpha1',
        kind: 'ImagePolicy',
        metadata: { name: 'app' },
        spec: { imageRepositoryRef: { name: 'app' }, policy: { numerical: {} } },
      }),
    );
  };

  it('default values: the agent applies, patches and deletes anywhere and keeps its ContinuousDeployments', async () => {
    const home = await namespace('rbac-home');
    const apps = await namespace('rbac-apps');
    await seed(home);
    const { rbac, agent } = await install(home);
    assert.equal(rbac.agentArgs[0], 'agent');
    assert.ok(!rbac.agentArgs.some((a) => a.startsWith('--namespace')), 'cluster-wide mode must watch all namespaces');

    // Its own kind, cluster-wide: list (the watch starts with one), finalizer, status.
    const cds = await agent.rest.request<{ items: unknown[] }>({ method: 'GET', path: `${API}/continuousdeployments` });
    assert.ok(cds.items.length >= 1);
    await agent.rest.request(
      merge(`${API}/namespaces/${home}/continuousdeployments/app`, {
        metadata: { finalizers: ['tidemark.dev/finalizer'] },
      }),
    );
    await agent.rest.request(
      merge(`${API}/namespaces/${home}/continuousdeployments/app/status`, {
        status: { sync: { status: 'Synced', revision: 'main@sha1:abc' } },
      }),
    );
    const live = await admin.rest.request<{ status?: { sync?: { status?: string } } }>({
      method: 'GET',
      path: `${API}/namespaces/${home}/continuousdeployments/app`,
    });
    assert.equal(live.status?.sync?.status, 'Synced');
    await agent.rest.request(merge(`${API}/namespaces/${home}/continuousdeployments/app`, { metadata: { finalizers: null } }));
    await agent.rest.request({ method: 'GET', path: `/api/v1/namespaces/${home}/secrets/git-credentials` });
    // The image updater's pushes, read from ImageUpdateAutomations (agent/image-pushes.ts).
    await agent.rest.request({ method: 'GET', path: `${API}/imageupdateautomations` });
    await agent.rest.request({
      method: 'POST',
      path: `/api/v1/namespaces/${home}/events`,
      body: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `app.${suffix()}` },
        involvedObject: {
          apiVersion: 'tidemark.dev/v1alpha1',
          kind: 'ContinuousDeployment',
          name: 'app',
          namespace: home,
        },
        reason: 'Synced',
        message: 'ok',
        type: 'Normal',
      },
    });

    // What Git holds, in any namespace: create, drift repair, delete — with dry-runs first, as the agent does.
    for (const [plural, group, obj] of [
      ['configmaps', '/api/v1', configMap('cm', 'one')],
      ['deployments', '/apis/apps/v1', deployment('web', 'nginx:1.25')],
    ] as const) {
      const path = `${group}/namespaces/${apps}/${plural}/${obj.metadata.name}`;
      await agent.rest.request({
        ...apply(path, obj),
        query: { fieldManager: 'tidemark', force: true, dryRun: 'All' },
      });
      await agent.rest.request(apply(path, obj));
      await agent.rest.request(merge(path, { metadata: { labels: { 'tidemark.dev/name': 'app' } } }));
      await agent.rest.request({ method: 'DELETE', path, query: { propagationPolicy: 'Background' } });
    }
    // Cluster-scoped objects too: a ClusterRole, as a repository may hold one.
    const clusterRole = `tidemark-rbac-test-${suffix()}`;
    await agent.rest.request(
      apply(`/apis/rbac.authorization.k8s.io/v1/clusterroles/${clusterRole}`, {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: clusterRole },
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
      }),
    );
    await agent.rest.request({
      method: 'DELETE',
      path: `/apis/rbac.authorization.k8s.io/v1/clusterroles/${clusterRole}`,
    });
    assert.equal(await can(agent, { verb: 'create', group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions' }), true);
  });

  it('default values: the image updater does its job and is refused everything else', async () => {
    const home = await namespace('rbac-iu');
    const other = await namespace('rbac-other');
    await seed(home);
    await seed(other);
    const { rbac, updater } = await install(home);
    assert.equal(rbac.imageUpdaterArgs[0], 'image-updater');

    // Its job: its kinds and their status, derived objects, reading ContinuousDeployments, the
    // Secrets of its namespace, Events. A push is recorded in the automation's status; the agent syncs.
    await updater.rest.request(
      merge(`${API}/namespaces/${home}/imagepolicies/app/status`, {
        status: { latestRef: { name: 'nginx', tag: '1.25.3' } },
      }),
    );
    await updater.rest.request(
      merge(`${API}/namespaces/${other}/imagepolicies/app/status`, {
        status: { latestRef: { name: 'nginx', tag: '1.25.4' } },
      }),
    );
    await updater.rest.request(
      apply(`${API}/namespaces/${home}/imagerepositories/app`, {
        apiVersion: 'tidemark.dev/v1alpha1',
        kind: 'ImageRepository',
        metadata: { name: 'app' },
        spec: { image: 'nginx' },
      }),
    );
    await updater.rest.request(
      apply(`${API}/namespaces/${home}/imageupdateautomations/app`, {
        apiVersion: 'tidemark.dev/v1alpha1',
        kind: 'ImageUpdateAutomation',
        metadata: { name: 'app' },
        spec: { sourceRef: { name: 'app' }, git: { commit: { author: { email: 'bot@example.com' } } } },
      }),
    );
    await updater.rest.request(
      merge(`${API}/namespaces/${home}/imageupdateautomations/app/status`, {
        status: { lastPushCommit: 'f'.repeat(40) },
      }),
    );
    // A derived object goes when the inline block does.
    await updater.rest.request({ method: 'DELETE', path: `${API}/namespaces/${home}/imagerepositories/app` });
    await updater.rest.request({ method: 'GET', path: `${API}/continuousdeployments` });
    // An ImagePolicy's Namespace labels, for an ImageRepository's accessFrom grant.
    await updater.rest.request({ method: 'GET', path: `/api/v1/namespaces/${other}` });
    await updater.rest.request({ method: 'GET', path: `/api/v1/namespaces/${home}/secrets/git-credentials` });
    await updater.rest.request({
      method: 'POST',
      path: `/api/v1/namespaces/${other}/events`,
      body: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `app.${suffix()}` },
        involvedObject: { apiVersion: 'tidemark.dev/v1alpha1', kind: 'ImagePolicy', name: 'app', namespace: other },
        reason: 'Updated',
        message: 'ok',
        type: 'Normal',
      },
    });

    // Not its job.
    for (const ns of [home, other]) {
      await forbidden(updater, apply(`/api/v1/namespaces/${ns}/configmaps/x`, configMap('x', 'y')), `create a ConfigMap in ${ns}`);
      await forbidden(
        updater,
        apply(`/apis/apps/v1/namespaces/${ns}/deployments/x`, deployment('x', 'nginx')),
        `create a Deployment in ${ns}`,
      );
    }
    await forbidden(
      updater,
      { method: 'GET', path: `/api/v1/namespaces/${other}/secrets/git-credentials` },
      'read a Secret in another namespace',
    );
    await forbidden(updater, { method: 'GET', path: `/api/v1/namespaces/${home}/secrets` }, 'list Secrets');
    await forbidden(
      updater,
      merge(`${API}/namespaces/${home}/continuousdeployments/app/status`, {
        status: { sync: { status: 'OutOfSync' } },
      }),
      'write a ContinuousDeployment status',
    );
    await forbidden(
      updater,
      { method: 'DELETE', path: `${API}/namespaces/${home}/continuousdeployments/app` },
      'delete a ContinuousDeployment',
    );
    // Not even an annotation: a compromised updater cannot change what the agent applies.
    for (const body of [
      { metadata: { annotations: { 'tidemark.dev/requestedAt': '1700000000' } } },
      { spec: { url: 'https://evil.example/repo', path: './' } },
    ]) {
      await forbidden(updater, merge(`${API}/namespaces/${home}/continuousdeployments/app`, body), 'patch a ContinuousDeployment');
    }
    await forbidden(
      updater,
      apply(`${API}/namespaces/${home}/continuousdeployments/app`, {
        apiVersion: 'tidemark.dev/v1alpha1',
        kind: 'ContinuousDeployment',
        metadata: { name: 'app' },
        spec: { url: 'https://evil.example/repo' },
      }),
      'apply a ContinuousDeployment',
    );
    assert.equal(await can(updater, { verb: 'patch', group: 'tidemark.dev', resource: 'continuousdeployments', namespace: home }), false);
    assert.equal(await can(updater, { verb: 'update', group: 'tidemark.dev', resource: 'continuousdeployments', namespace: home }), false);
    await forbidden(
      updater,
      apply('/apis/rbac.authorization.k8s.io/v1/clusterroles/x', {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'x' },
        rules: [],
      }),
      'create a ClusterRole',
    );
    assert.equal(await can(updater, { verb: 'create', resource: 'pods', namespace: home }), false);
    assert.equal(await can(updater, { verb: 'get', resource: 'secrets', namespace: other }), false);
    assert.equal(
      await can(updater, {
        verb: 'patch',
        group: 'tidemark.dev',
        resource: 'imagepolicies',
        subresource: 'status',
        namespace: other,
      }),
      true,
    );
  });

  it('namespace-restricted values: the agent applies only in listed namespaces, the image updater reads only listed Secrets', async () => {
    const home = await namespace('rbac-nshome');
    const teamA = await namespace('rbac-team-a');
    const outside = await namespace('rbac-outside');
    await seed(home);
    const { rbac, agent, updater } = await install(home, {
      agent: { rbac: { namespaces: [teamA] } },
      imageUpdater: { rbac: { secretNames: ['git-credentials'] } },
    });
    assert.ok(rbac.agentArgs.includes(`--namespace=${home}`), `the agent must watch only ${home}: ${rbac.agentArgs.join(' ')}`);

    // Applies in team-a, all verbs the agent uses.
    const path = `/api/v1/namespaces/${teamA}/configmaps/cm`;
    await agent.rest.request(apply(path, configMap('cm', 'one')));
    await agent.rest.request(merge(path, { data: { value: 'two' } }));
    await agent.rest.request({ method: 'DELETE', path });
    await agent.rest.request(apply(`/apis/apps/v1/namespaces/${teamA}/deployments/web`, deployment('web', 'nginx:1.25')));
    // Its ContinuousDeployments live in the release namespace.
    await agent.rest.request({ method: 'GET', path: `${API}/namespaces/${home}/continuousdeployments` });
    await agent.rest.request(
      merge(`${API}/namespaces/${home}/continuousdeployments/app/status`, {
        status: { health: { status: 'Healthy' } },
      }),
    );
    await agent.rest.request({ method: 'GET', path: `/api/v1/namespaces/${home}/secrets/git-credentials` });

    // Nothing outside.
    await forbidden(
      agent,
      apply(`/api/v1/namespaces/${outside}/configmaps/cm`, configMap('cm', 'one')),
      'apply outside the listed namespaces',
    );
    await forbidden(
      agent,
      apply('/apis/rbac.authorization.k8s.io/v1/clusterroles/x', {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'x' },
        rules: [],
      }),
      'create a ClusterRole',
    );
    await forbidden(
      agent,
      {
        method: 'POST',
        path: '/api/v1/namespaces',
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `x-${suffix()}` } },
      },
      'create a Namespace',
    );
    await forbidden(agent, { method: 'GET', path: `${API}/continuousdeployments` }, 'list ContinuousDeployments cluster-wide');
    await forbidden(
      agent,
      { method: 'GET', path: '/api/v1/configmaps', query: { labelSelector: 'tidemark.dev/name' } },
      'the cluster-wide drift watch',
    );
    assert.equal(await can(agent, { verb: 'delete', resource: 'deployments', group: 'apps', namespace: teamA }), true);
    assert.equal(await can(agent, { verb: 'create', resource: 'configmaps', namespace: outside }), false);

    // The image updater: only the named Secret.
    await updater.rest.request({ method: 'GET', path: `/api/v1/namespaces/${home}/secrets/git-credentials` });
    await forbidden(
      updater,
      { method: 'GET', path: `/api/v1/namespaces/${home}/secrets/unrelated` },
      'read a Secret not listed in secretNames',
    );
  });

  it('escalations: neither ServiceAccount may write CRDs, bind roles, mint tokens, impersonate or reach past its grants', async () => {
    const home = await namespace('rbac-esc');
    const teamA = await namespace('rbac-esc-team');
    const outside = await namespace('rbac-esc-out');
    await seed(home);
    await seed(outside);
    // The agent restricted to team-a (the cluster-wide agent may apply anything Git holds, by design).
    const { rbac, agent, updater } = await install(home, { agent: { rbac: { namespaces: [teamA] } } });
    const rbacApi = '/apis/rbac.authorization.k8s.io/v1';
    const crds = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
    const bindClusterAdmin = (sa: { namespace: string; name: string }) => ({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      metadata: { name: `esc-${suffix()}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'ServiceAccount', namespace: sa.namespace, name: sa.name }],
    });
    const token = (ns: string, name: string): KubeRequest => ({
      method: 'POST',
      path: `/api/v1/namespaces/${ns}/serviceaccounts/${name}/token`,
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 600 } },
    });
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'escalations.example.test' },
      spec: {
        group: 'example.test',
        names: { kind: 'Escalation', plural: 'escalations', singular: 'escalation', listKind: 'EscalationList' },
        scope: 'Namespaced',
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } }],
      },
    };
    const attempts: Array<[KubeClient, string, { namespace: string; name: string }, string]> = [
      [agent, 'agent', rbac.agentServiceAccount, teamA],
      [updater, 'image updater', rbac.imageUpdaterServiceAccount, home],
    ];
    for (const [kube, who, sa, own] of attempts) {
      await forbidden(kube, { method: 'POST', path: crds, body: crd }, `${who}: create a CRD`);
      await forbidden(
        kube,
        merge(`${crds}/continuousdeployments.tidemark.dev`, { metadata: { labels: { escalated: 'yes' } } }),
        `${who}: change Tidemark's own CRD`,
      );
      await forbidden(kube, { method: 'DELETE', path: `${crds}/continuousdeployments.tidemark.dev` }, `${who}: delete Tidemark's own CRD`);
      await forbidden(
        kube,
        { method: 'POST', path: `${rbacApi}/clusterrolebindings`, body: { ...bindClusterAdmin(sa), kind: 'ClusterRoleBinding' } },
        `${who}: bind cluster-admin to itself cluster-wide`,
      );
      await forbidden(
        kube,
        merge(`${rbacApi}/clusterroles/${rbac.objects.find((o) => o.kind === 'ClusterRole')?.metadata.name ?? 'x'}`, {
          rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
        }),
        `${who}: widen the chart's own ClusterRole`,
      );
      await forbidden(
        kube,
        { method: 'POST', path: `${rbacApi}/namespaces/${outside}/rolebindings`, body: { ...bindClusterAdmin(sa), kind: 'RoleBinding' } },
        `${who}: bind cluster-admin to itself in a namespace it may not touch`,
      );
      await forbidden(kube, token(outside, 'default'), `${who}: mint a token for a ServiceAccount outside its namespaces`);
      await forbidden(
        kube,
        token(
          sa.namespace,
          sa.name === rbac.agentServiceAccount.name ? rbac.imageUpdaterServiceAccount.name : rbac.agentServiceAccount.name,
        ),
        `${who}: mint a token for the other program`,
      );
      await forbidden(
        kube,
        { method: 'GET', path: `/api/v1/namespaces/${outside}/secrets/git-credentials` },
        `${who}: read a Secret outside`,
      );
      await forbidden(kube, { method: 'GET', path: '/api/v1/secrets' }, `${who}: list Secrets cluster-wide`);
      await forbidden(kube, { method: 'DELETE', path: `/api/v1/namespaces/${outside}` }, `${who}: delete a namespace`);
      await forbidden(kube, { method: 'GET', path: '/api/v1/nodes' }, `${who}: list nodes`);
      await forbidden(
        kube,
        {
          method: 'POST',
          path: '/apis/certificates.k8s.io/v1/certificatesigningrequests',
          body: { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: `esc-${suffix()}` } },
        },
        `${who}: ask for a client certificate`,
      );
      for (const headers of [{ 'impersonate-user': 'admin' }, { 'impersonate-user': 'x', 'impersonate-group': 'system:masters' }]) {
        const as = createKubeClient({ ...kube.connection, headers }, { fieldManager: 'tidemark', clock: systemClock });
        try {
          await forbidden(
            as,
            { method: 'GET', path: `/api/v1/namespaces/${own}/configmaps` },
            `${who}: impersonate ${JSON.stringify(headers)}`,
          );
        } finally {
          await as.close();
        }
      }
      assert.equal(
        await can(kube, { verb: 'create', resource: 'pods', subresource: 'exec', namespace: outside }),
        false,
        `${who}: exec outside`,
      );
    }
    // The restricted agent does hold everything inside team-a (it applies whatever Git holds there).
    assert.equal(
      await can(agent, { verb: 'create', resource: 'rolebindings', group: 'rbac.authorization.k8s.io', namespace: teamA }),
      true,
    );
  });

  it('lockdown: both programs get the flags; the agent may act only as the named ServiceAccounts, never as a user or group', async () => {
    const home = await namespace('rbac-lock');
    const apps = await namespace('rbac-lock-apps');
    const { rbac, agent } = await install(home, {
      lockdown: { enabled: true, defaultServiceAccount: 'deployer', agentIdentityNamespaces: [] },
      agent: { rbac: { namespaces: [apps], impersonateNames: ['deployer'] } },
    });
    assert.ok(rbac.agentArgs.includes('--no-cross-namespace-refs'), rbac.agentArgs.join(' '));
    assert.ok(rbac.agentArgs.includes('--default-service-account=deployer'), rbac.agentArgs.join(' '));
    assert.ok(!rbac.agentArgs.some((a) => a.startsWith('--agent-identity-namespaces')));
    assert.ok(rbac.imageUpdaterArgs.includes('--no-cross-namespace-refs'), rbac.imageUpdaterArgs.join(' '));
    assert.ok(!rbac.imageUpdaterArgs.some((a) => a.startsWith('--default-service-account')));

    const configMaps = { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };
    // Acting as the named ServiceAccount works, and the server then judges that ServiceAccount:
    // it was granted nothing, so it may not even read a ConfigMap the agent itself may write.
    const deployer = agent.as({ namespace: home, name: 'deployer' });
    assert.equal((await deployer.port.canI({ verb: 'get', resource: configMaps, namespace: apps })).allowed, false);
    assert.equal((await agent.port.canI({ verb: 'patch', resource: configMaps, namespace: apps })).allowed, true);
    await forbidden(deployer, { method: 'GET', path: `/api/v1/namespaces/${apps}/configmaps` }, 'the ServiceAccount listing ConfigMaps');
    // Any other ServiceAccount, a user or a group: the impersonation itself is refused.
    await forbidden(
      agent.as({ namespace: home, name: 'other' }),
      { method: 'GET', path: `/api/v1/namespaces/${home}/configmaps` },
      'impersonating another ServiceAccount',
    );
    await forbidden(
      agent.as({ namespace: apps, name: 'deployer' }),
      { method: 'GET', path: `/api/v1/namespaces/${apps}/configmaps` },
      'impersonating the name in a namespace the agent does not watch',
    );
    for (const headers of [{ 'impersonate-user': 'admin' }, { 'impersonate-user': 'someone', 'impersonate-group': 'system:masters' }]) {
      const connection = { ...agent.connection, headers };
      const as = createKubeClient(connection, { fieldManager: 'tidemark', clock: systemClock });
      try {
        await forbidden(as, { method: 'GET', path: `/api/v1/namespaces/${home}/configmaps` }, `impersonating ${JSON.stringify(headers)}`);
      } finally {
        await as.close();
      }
    }
  });

  it('leader election: each program takes and renews its own Lease with its token, the image updater only its own', async () => {
    const home = await namespace('rbac-lease');
    const { rbac, agent, updater } = await install(home);
    const id = (args: string[]) => args.find((a) => a.startsWith('--leader-election-id='))?.split('=')[1] ?? '';
    const [agentLease, updaterLease] = [id(rbac.agentArgs), id(rbac.imageUpdaterArgs)];
    assert.match(agentLease, /-tidemark-agent$/);
    assert.ok(rbac.agentArgs.includes(`--leader-election-namespace=${home}`), rbac.agentArgs.join(' '));
    const timings = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 300 };
    const elect = (kube: KubeClient, name: string) =>
      new LeaderElector({ rest: kube.rest, namespace: home, name, timings, clock: systemClock, log: silentLogger });
    const agentElector = elect(agent, agentLease);
    const updaterElector = elect(updater, updaterLease);
    await agentElector.acquire(AbortSignal.timeout(30_000));
    await updaterElector.acquire(AbortSignal.timeout(30_000));
    assert.equal(agentElector.isLeader && updaterElector.isLeader, true);
    const leases = `/apis/coordination.k8s.io/v1/namespaces/${home}/leases`;
    // The agent may write anything by default (it applies what Git holds); the image updater may
    // touch its own Lease only.
    await forbidden(updater, { method: 'GET', path: `${leases}/${agentLease}` }, "the image updater reading the agent's Lease");
    await forbidden(
      updater,
      { method: 'PUT', path: `${leases}/${agentLease}`, body: { metadata: { name: agentLease }, spec: { holderIdentity: 'updater' } } },
      "the image updater taking the agent's Lease",
    );
    await forbidden(updater, { method: 'DELETE', path: `${leases}/${agentLease}` }, "the image updater deleting the agent's Lease");
    await forbidden(updater, { method: 'GET', path: leases }, 'the image updater listing Leases');
    await forbidden(updater, { method: 'GET', path: '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases' }, 'Leases elsewhere');
    await agentElector.release();
    await updaterElector.release();
  });

  it('in a pod: the mounted service account token, re-read as the kubelet rotates it', async () => {
    const home = await namespace('rbac-pod');
    const { rbac } = await install(home);
    // What the kubelet mounts, and the service variables it sets.
    const dir = mkdtempSync(join(tmpdir(), 'tidemark-sa-'));
    cleanups.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
    const token = join(dir, 'token');
    writeFileSync(token, await mintToken(admin, rbac.agentServiceAccount, 3600));
    writeFileSync(join(dir, 'ca.crt'), cluster.info.caPem);
    writeFileSync(join(dir, 'namespace'), home);
    const server = new URL(cluster.server);
    const env = { KUBERNETES_SERVICE_HOST: server.hostname.replace(/^\[|\]$/g, ''), KUBERNETES_SERVICE_PORT: server.port };
    // refreshMs 0: read the file before every request, so the test need not wait out client-go's minute.
    const connection = loadKubeconfig({ env, prefer: 'in-cluster', serviceAccountDir: dir, tokenFile: { refreshMs: 0 } });
    assert.equal(connection.clusterName, 'in-cluster');
    assert.equal(connection.namespace, home);
    const agent = createKubeClient(connection, { fieldManager: 'tidemark', clock: systemClock });
    cleanups.push(() => agent.close());
    const list = { method: 'GET', path: `${API}/namespaces/${home}/continuousdeployments` } as const;
    await agent.rest.request(list);
    // A rotated file is what the next request sends: a dead token is refused, a fresh one works.
    writeFileSync(token, 'not-a-token');
    await assert.rejects(agent.rest.request(list), (err: unknown) => err instanceof KubeApiError && err.status === 401);
    writeFileSync(token, `${await mintToken(admin, rbac.agentServiceAccount, 3600)}\n`);
    await agent.rest.request(list);
  });

  it('notification: the program serves a Receiver with its chart token alone, and is refused everything else', async () => {
    const home = await namespace('rbac-notify');
    const other = await namespace('rbac-notify-other');
    await seed(home);
    await seed(other);
    const token = `token-${suffix()}`;
    await admin.rest.request(
      apply(`/api/v1/namespaces/${home}/secrets/webhook`, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'webhook' },
        stringData: { token },
      }),
    );
    await admin.rest.request(
      apply(`${API}/namespaces/${home}/receivers/hook`, {
        apiVersion: 'tidemark.dev/v1alpha1',
        kind: 'Receiver',
        metadata: { name: 'hook' },
        spec: { type: 'generic', secretRef: { name: 'webhook' }, resources: [{ kind: 'ContinuousDeployment', name: 'app' }] },
      }),
    );
    const { rbac } = await install(home, { notification: { enabled: true } });
    const identity = rbac.notification;
    assert.ok(identity, 'the chart rendered no notification ServiceAccount');
    assert.equal(identity.args[0], 'notification');

    // The program itself, with nothing but the chart's rights: the Receiver becomes Ready and a call syncs.
    const running = await startNotification({
      kubeconfigPath: identity.kubeconfig,
      receiverAddress: '127.0.0.1:0',
      env: {},
      // One namespace: across all, it would write the status of other test files' Receivers,
      // Providers and Alerts, and send their alerts too.
      namespace: home,
      log: silentLogger,
    });
    cleanups.push(() => running.stop());
    const path = webhookPath(token, 'hook', home);
    await waitFor(
      async () => {
        const receiver = await admin.rest.request<{ status?: { webhookPath?: string } }>({
          method: 'GET',
          path: `${API}/namespaces/${home}/receivers/hook`,
        });
        return receiver.status?.webhookPath === path;
      },
      { timeoutMs: 30_000, what: 'the Receiver serves its path' },
    );
    await waitFor(
      async () => {
        const events = await admin.rest.request<{ items: Array<{ reason?: string; involvedObject?: { name?: string } }> }>({
          method: 'GET',
          path: `/api/v1/namespaces/${home}/events`,
        });
        return events.items.some((e) => e.involvedObject?.name === 'hook' && e.reason === 'ReconciliationSucceeded');
      },
      { timeoutMs: 30_000, what: "the Receiver's Event" },
    );
    const res = await fetch(`${running.receiverUrl}${path}`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 200, await res.text());
    const cd = await admin.rest.request<{ metadata: { annotations?: Record<string, string> } }>({
      method: 'GET',
      path: `${API}/namespaces/${home}/continuousdeployments/app`,
    });
    assert.ok(cd.metadata.annotations?.['tidemark.dev/requestedAt'], 'the call asked the ContinuousDeployment to sync');

    // Nothing else: no Secret outside the release namespace, no other kind, no create or delete.
    const notify = clientFromKubeconfig(identity.kubeconfig);
    cleanups.push(() => notify.close());
    await forbidden(
      notify,
      { method: 'GET', path: `/api/v1/namespaces/${other}/secrets/git-credentials` },
      'read a Secret in another namespace',
    );
    await forbidden(notify, { method: 'GET', path: `/api/v1/namespaces/${home}/secrets` }, 'list Secrets');
    await forbidden(notify, { method: 'GET', path: `${API}/imagepolicies` }, 'read ImagePolicies');
    await forbidden(
      notify,
      { method: 'DELETE', path: `${API}/namespaces/${home}/continuousdeployments/app` },
      'delete a ContinuousDeployment',
    );
    await forbidden(
      notify,
      apply(`${API}/namespaces/${home}/continuousdeployments/new`, {
        apiVersion: 'tidemark.dev/v1alpha1',
        kind: 'ContinuousDeployment',
        metadata: { name: 'new' },
        spec: { url: 'https://git.example.com/org/config' },
      }),
      'create a ContinuousDeployment',
    );
    await forbidden(
      notify,
      merge(`${API}/namespaces/${home}/continuousdeployments/app/status`, { status: { sync: { status: 'Synced' } } }),
      "write a ContinuousDeployment's status",
    );
    await forbidden(notify, merge(`${API}/namespaces/${home}/receivers/hook`, { spec: { suspend: true } }), 'change a Receiver');
    await forbidden(notify, { method: 'GET', path: '/api/v1/configmaps' }, 'read ConfigMaps');
    assert.equal(await can(notify, { verb: 'patch', resource: 'imagerepositories', group: 'tidemark.dev', namespace: other }), true);
  });

  it('cleanup removes everything it applied, cluster-scoped objects included', async () => {
    const home = await namespace('rbac-clean');
    const rbac = await installChartRbac(cluster, { namespace: home, release: `rbac-${suffix()}` });
    const clusterScoped = rbac.objects.filter((o) => o.kind.startsWith('Cluster'));
    assert.ok(clusterScoped.length >= 4);
    const agentKubeconfig = readFileSync(rbac.agentKubeconfig, 'utf8');
    await rbac.cleanup();
    assert.equal(existsSync(rbac.agentKubeconfig), false, 'the kubeconfig (a token) was left on disk');
    for (const o of clusterScoped) {
      const plural = o.kind === 'ClusterRole' ? 'clusterroles' : 'clusterrolebindings';
      await assert.rejects(
        admin.rest.request({ method: 'GET', path: `/apis/rbac.authorization.k8s.io/v1/${plural}/${o.metadata.name}` }),
        (err: unknown) => err instanceof KubeApiError && err.status === 404,
      );
    }
    // The token died with its ServiceAccount.
    const stale = createKubeClient(connectionFromText(agentKubeconfig), { fieldManager: 'tidemark', clock: systemClock });
    try {
      await assert.rejects(
        stale.rest.request({ method: 'GET', path: `${API}/continuousdeployments` }),
        (err: unknown) => err instanceof KubeApiError && err.status === 401,
      );
    } finally {
      await stale.close();
    }
  });
});
