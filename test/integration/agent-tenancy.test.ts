import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startAgent } from '../../agent/index.ts';
import type { RunningAgent } from '../../agent/index.ts';
import { startImageUpdater } from '../../image-updater/index.ts';
import type { RunningImageUpdater } from '../../image-updater/index.ts';
import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { testCluster } from '../harness/cluster.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { startGitServers } from '../harness/git.ts';
import type { GitServers } from '../harness/git.ts';
import { applyObjects, installChartRbac, waitForBindings } from '../harness/helm.ts';
import type { ChartRbac } from '../harness/helm.ts';
import { configMapYaml } from '../harness/manifests.ts';
import { waitFor } from '../harness/process.ts';
import {
  applyCd,
  condition,
  getCd,
  getObject,
  installCrds,
  requestSync,
  testClient,
  testLogger,
  waitForCd,
  waitForEvent,
} from '../harness/tidemark.ts';

/**
 * Issue 20 on the RBAC-enforcing API server. The agent and the image updater run in lockdown
 * with the tokens of the ServiceAccounts the chart creates (never an admin token). A tenant may
 * only create ContinuousDeployments in its namespace; its ServiceAccount `deployer` may manage
 * ConfigMaps and read Secrets there, and nothing else. Whatever its repository holds, the API
 * server's RBAC — through impersonation — decides what reaches the cluster.
 */

const API = '/apis/tidemark.dev/v1alpha1';
const suffix = () => randomBytes(3).toString('hex');

const yaml = (obj: unknown) => JSON.stringify(obj);
const clusterAdminBinding = (name: string, namespace: string) =>
  yaml({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'ServiceAccount', name: 'default', namespace }],
  });

/** A Role over ConfigMaps (all verbs) and Secrets (get), bound to the tenant's ServiceAccounts. */
function tenantRbac(namespace: string, accounts: string[]): KubeObject[] {
  return [
    ...accounts.map((name) => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } })),
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'deployer', namespace },
      rules: [
        { apiGroups: [''], resources: ['configmaps'], verbs: ['*'] },
        { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'deployer', namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'deployer' },
      subjects: accounts.map((name) => ({ kind: 'ServiceAccount', name, namespace })),
    },
  ];
}

/** The deployments of this file, for its all-namespaces agent's --watch-label-selector. */
const SUITE_LABELS = { 'tidemark.test/suite': 'tenancy' };
const SUITE_SELECTOR = 'tidemark.test/suite=tenancy';

describe('tenancy: a ContinuousDeployment can do no more than its ServiceAccount', () => {
  let cluster: ClusterAccess;
  let admin: KubeClient;
  let git: GitServers;
  let rbac: ChartRbac;
  let agent: RunningAgent;
  let strictAgent: RunningAgent | undefined;
  let updater: RunningImageUpdater;
  let cacheDir: string;
  let home: string;
  let tenant: string;
  let victim: string;
  let platform: string;
  let extraNamespace: string;
  const namespaces: string[] = [];
  const clusterScoped: string[] = [];

  const namespace = async (prefix: string, labels?: Record<string, string>) => {
    const ns = await cluster.createNamespace(prefix, labels);
    namespaces.push(ns);
    return ns;
  };

  before(async () => {
    cluster = await testCluster();
    await installCrds(cluster);
    admin = testClient(cluster);
    git = await startGitServers({ http: false, ssh: false });
    cacheDir = await mkdtemp(join(tmpdir(), 'tidemark-tenancy-'));
    home = await namespace('tenancy-home');
    tenant = await namespace('tenancy-team-a');
    victim = await namespace('tenancy-team-b', { team: 'b' });
    platform = await namespace('tenancy-platform');
    extraNamespace = await namespace('tenancy-team-a-extra');
    const grant = `tenancy-grant-${suffix()}`;
    clusterScoped.push(`clusterroles/${grant}`, `clusterrolebindings/${grant}`);
    // One cluster-scoped object the tenant may write: its second Namespace (the first apply
    // stage), so the all-or-nothing rule can be seen across stages.
    const rbacObjects = [
      ...tenantRbac(tenant, ['deployer', 'default']),
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: grant },
        rules: [{ apiGroups: [''], resources: ['namespaces'], resourceNames: [extraNamespace], verbs: ['get', 'patch'] }],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: grant },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: grant },
        subjects: [{ kind: 'ServiceAccount', name: 'deployer', namespace: tenant }],
      },
    ];
    assert.deepEqual(await applyObjects(admin, rbacObjects, { dryRun: false }), []);
    await waitForBindings(admin, rbacObjects);
    await admin.rest.request({
      method: 'PATCH',
      path: `/api/v1/namespaces/${victim}/secrets/db`,
      query: { fieldManager: 'tidemark-test', force: true },
      contentType: 'application/apply-patch+yaml',
      body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, stringData: { password: 'team-b-only' } },
    });
    rbac = await installChartRbac(cluster, {
      namespace: home,
      release: `ten-${suffix()}`,
      values: { lockdown: { enabled: true, defaultServiceAccount: 'default', agentIdentityNamespaces: [platform] } },
    });
    // The chart's own lockdown flags, as the pod would get them.
    assert.ok(rbac.agentArgs.includes('--default-service-account=default'), rbac.agentArgs.join(' '));
    assert.ok(rbac.agentArgs.includes(`--agent-identity-namespaces=${platform}`), rbac.agentArgs.join(' '));
    agent = await startAgent({
      kubeconfigPath: rbac.agentKubeconfig,
      env: {},
      cacheDir,
      log: testLogger(),
      workers: 4,
      defaultServiceAccount: 'default',
      agentIdentityNamespaces: [platform],
      noCrossNamespaceRefs: true,
      allowLocalGit: true,
      // It watches every namespace: only this file's deployments, or it would act (as "default")
      // on the deployments other test files run at the same time.
      watchLabelSelector: SUITE_SELECTOR,
    });
    updater = await startImageUpdater({
      kubeconfigPath: rbac.imageUpdaterKubeconfig,
      env: {},
      // The one ImagePolicy of this file lives here; all namespaces would take other files' objects.
      namespace: tenant,
      log: testLogger(),
      workers: 2,
      noCrossNamespaceRefs: true,
    });
  });

  after(async () => {
    await strictAgent?.stop();
    // stop() twice is harmless: the last test stops it early.
    await agent?.stop().catch(() => undefined);
    await updater?.stop();
    await git?.stop();
    for (const name of clusterScoped) {
      await admin.rest.request({ method: 'DELETE', path: `/apis/rbac.authorization.k8s.io/v1/${name}` }).catch(() => undefined);
    }
    await rbac?.cleanup();
    for (const ns of namespaces) await cluster.deleteNamespace(ns).catch(() => undefined);
    await admin?.close();
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  });

  const deploy = async (ns: string, name: string, files: Record<string, string>, spec: Record<string, unknown> = {}) => {
    await git.repos.createRepo(`${ns}-${name}`, files);
    await applyCd(admin, {
      metadata: { name, namespace: ns, labels: SUITE_LABELS },
      spec: { url: git.repos.fileUrl(`${ns}-${name}`), path: './', pullInterval: '1h', ...spec },
    });
  };
  const ready = (cd: ContinuousDeployment) => condition(cd, 'Ready');
  const failedWith = (reason: string) => (cd: ContinuousDeployment) => ready(cd)?.status === 'False' && ready(cd)?.reason === reason;
  /**
   * The refusal names the object, the verb and the identity: in the server's words when a dry run
   * or a read was refused, in the agent's when its access review found it first.
   */
  const namesRefusal = (message: string, ns: string, account: string, object: string) => {
    assert.ok(message.includes(object), message);
    const server = `User "system:serviceaccount:${ns}:${account}" cannot (get|patch|create)`;
    const agentWords = `ServiceAccount ${ns}/${account} may not patch`;
    assert.match(message, new RegExp(`${server}|${agentWords}`));
  };
  const cm = (ns: string, name: string) => getObject(admin, `/api/v1/namespaces/${ns}/configmaps/${name}`);

  it('serviceAccountName: a ClusterRoleBinding to cluster-admin is Forbidden, naming verb and identity; nothing applied', async () => {
    const binding = `tenancy-escalate-${suffix()}`;
    clusterScoped.push(`clusterrolebindings/${binding}`);
    await deploy(
      tenant,
      'escalate',
      { 'binding.yaml': clusterAdminBinding(binding, tenant), 'app.yaml': configMapYaml('escalate-app', { n: '1' }) },
      { serviceAccountName: 'deployer' },
    );
    const cd = await waitForCd(admin, tenant, 'escalate', failedWith('Forbidden'), 'Forbidden');
    const message = ready(cd)?.message ?? '';
    namesRefusal(message, tenant, 'deployer', binding);
    assert.equal(await getObject(admin, `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${binding}`), undefined);
    assert.equal(await cm(tenant, 'escalate-app'), undefined, 'all or nothing: the allowed ConfigMap was not applied either');
    await waitForEvent(
      admin,
      tenant,
      'escalate',
      (e) => e.reason === 'Forbidden' && e.message.includes(binding) && e.message.includes(`${tenant}:deployer`),
      'the Forbidden Event',
    );
  });

  it("serviceAccountName: another namespace's object or Secret is neither applied nor read", async () => {
    await deploy(
      tenant,
      'reach',
      {
        'other.yaml': configMapYaml('planted', { n: '1' }, { namespace: victim }),
        'secret.yaml': yaml({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'db', namespace: victim },
          stringData: { password: 'x' },
        }),
      },
      { serviceAccountName: 'deployer' },
    );
    const cd = await waitForCd(admin, tenant, 'reach', failedWith('Forbidden'), 'Forbidden');
    assert.equal(await cm(victim, 'planted'), undefined);
    const secret = await getObject(admin, `/api/v1/namespaces/${victim}/secrets/db`);
    assert.equal(Buffer.from((secret?.data as Record<string, string>).password ?? '', 'base64').toString(), 'team-b-only');
    assert.ok(!JSON.stringify(cd.status).includes(Buffer.from('team-b-only').toString('base64')), 'no copy of the Secret in status');
    // The Git Secret is read as the ServiceAccount too: one without the right gets Forbidden.
    await admin.rest.request({
      method: 'PATCH',
      path: `/api/v1/namespaces/${tenant}/serviceaccounts/no-secrets`,
      query: { fieldManager: 'tidemark-test', force: true },
      contentType: 'application/apply-patch+yaml',
      body: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'no-secrets' } },
    });
    await deploy(
      tenant,
      'creds',
      { 'a.yaml': configMapYaml('creds-app', { n: '1' }) },
      {
        serviceAccountName: 'no-secrets',
        secretRef: 'git-credentials',
      },
    );
    const creds = await waitForCd(admin, tenant, 'creds', failedWith('Forbidden'), 'Forbidden reading the Git Secret');
    assert.match(ready(creds)?.message ?? '', new RegExp(`system:serviceaccount:${tenant}:no-secrets.*secrets`));
  });

  it('all or nothing across stages: an allowed Namespace (first stage) is not touched when a later object is refused', async () => {
    const extra = yaml({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: extraNamespace, labels: { team: 'a' } } });
    await deploy(
      tenant,
      'stages',
      { 'ns.yaml': extra, 'other.yaml': configMapYaml('staged', { n: '1' }, { namespace: victim }) },
      { serviceAccountName: 'deployer' },
    );
    const cd = await waitForCd(admin, tenant, 'stages', failedWith('Forbidden'), 'Forbidden');
    // Found by the access review before anything was written, in the agent's words.
    const refusal = `ServiceAccount ${tenant}/deployer may not patch configmaps\\.core staged in namespace ${victim}`;
    assert.match(ready(cd)?.message ?? '', new RegExp(refusal));
    const untouched = await getObject(admin, `/api/v1/namespaces/${extraNamespace}`);
    assert.equal(untouched?.metadata.labels?.team, undefined, 'the Namespace was not applied');
    assert.equal(untouched?.metadata.annotations?.['tidemark.dev/owned-by'], undefined);
    assert.equal(await cm(victim, 'staged'), undefined);
    // Without the refused object the same Namespace is applied: the ServiceAccount may write it.
    await git.repos.commitFiles(`${tenant}-stages`, 'main', { 'other.yaml': configMapYaml('staged', { n: '1' }) }, 'stay home');
    await requestSync(admin, tenant, 'stages');
    await waitForCd(admin, tenant, 'stages', (c) => ready(c)?.status === 'True', 'Synced without the refused object');
    assert.equal((await getObject(admin, `/api/v1/namespaces/${extraNamespace}`))?.metadata.labels?.team, 'a');
    assert.ok(await cm(tenant, 'staged'));
  });

  it("the tenant's ordinary deployment in its own namespace works, as the ServiceAccount and in lockdown by default", async () => {
    await deploy(tenant, 'ordinary', { 'a.yaml': configMapYaml('ordinary', { n: '1' }) }, { serviceAccountName: 'deployer' });
    await waitForCd(admin, tenant, 'ordinary', (c) => c.status?.sync?.status === 'Synced' && ready(c)?.status === 'True', 'Synced');
    assert.ok(await cm(tenant, 'ordinary'));
    // No serviceAccountName: lockdown acts as "default", which holds the same Role here...
    await deploy(tenant, 'implicit', { 'a.yaml': configMapYaml('implicit', { n: '1' }) });
    await waitForCd(admin, tenant, 'implicit', (c) => ready(c)?.status === 'True', 'Synced as default');
    assert.ok(await cm(tenant, 'implicit'));
    // ...and has no more rights than it: a ClusterRoleBinding is refused to it too.
    const binding = `tenancy-implicit-${suffix()}`;
    clusterScoped.push(`clusterrolebindings/${binding}`);
    await deploy(tenant, 'implicit-escalate', { 'b.yaml': clusterAdminBinding(binding, tenant) });
    const refused = await waitForCd(admin, tenant, 'implicit-escalate', failedWith('Forbidden'), 'Forbidden as default');
    namesRefusal(ready(refused)?.message ?? '', tenant, 'default', binding);
    assert.equal(await getObject(admin, `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${binding}`), undefined);
  });

  it('a deployment in a namespace allowed the agent identity still has cluster rights', async () => {
    const role = `tenancy-platform-${suffix()}`;
    clusterScoped.push(`clusterroles/${role}`);
    await deploy(platform, 'cluster', {
      'role.yaml': yaml({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: role },
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
      }),
      'other.yaml': configMapYaml('from-platform', { n: '1' }, { namespace: victim }),
    });
    await waitForCd(admin, platform, 'cluster', (c) => ready(c)?.status === 'True', 'Synced with the agent identity');
    assert.ok(await getObject(admin, `/apis/rbac.authorization.k8s.io/v1/clusterroles/${role}`));
    assert.ok(await cm(victim, 'from-platform'));
  });

  it("deleting a tenant's deployment deletes only what its ServiceAccount may delete", async () => {
    await deploy(tenant, 'leaving', { 'a.yaml': configMapYaml('leaving', { n: '1' }) }, { serviceAccountName: 'deployer' });
    const synced = await waitForCd(admin, tenant, 'leaving', (c) => ready(c)?.status === 'True', 'Synced');
    // An object in another namespace that claims to be this deployment's, listed in its inventory
    // (as if applied before lockdown, or written by someone who may edit the status).
    const owned = `${tenant}/leaving:/ConfigMap:${victim}/claimed`;
    await admin.rest.request({
      method: 'PATCH',
      path: `/api/v1/namespaces/${victim}/configmaps/claimed`,
      query: { fieldManager: 'tidemark-test', force: true },
      contentType: 'application/apply-patch+yaml',
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'claimed', annotations: { 'tidemark.dev/owned-by': owned } } },
    });
    await admin.rest.request({
      method: 'PATCH',
      path: `${API}/namespaces/${tenant}/continuousdeployments/leaving/status`,
      contentType: 'application/merge-patch+json',
      body: {
        status: {
          resources: [
            ...(synced.status?.resources ?? []),
            { version: 'v1', kind: 'ConfigMap', namespace: victim, name: 'claimed', status: 'Synced' },
          ],
        },
      },
    });
    await admin.rest.request({ method: 'DELETE', path: `${API}/namespaces/${tenant}/continuousdeployments/leaving` });
    await waitFor(async () => (await cm(tenant, 'leaving')) === undefined, { timeoutMs: 60_000, what: 'its own ConfigMap deleted' });
    const stuck = await waitForCd(admin, tenant, 'leaving', failedWith('DeletionFailed'), 'DeletionFailed for the other namespace');
    assert.match(ready(stuck)?.message ?? '', new RegExp(`ConfigMap/${victim}/claimed`));
    assert.match(ready(stuck)?.message ?? '', new RegExp(`system:serviceaccount:${tenant}:deployer`));
    assert.ok(await cm(victim, 'claimed'), 'the object its identity may not delete is still there');
    // A person decides: orphan the rest, and the deployment goes.
    await admin.rest.request({
      method: 'PATCH',
      path: `${API}/namespaces/${tenant}/continuousdeployments/leaving`,
      contentType: 'application/merge-patch+json',
      body: { metadata: { annotations: { 'tidemark.dev/deletion-policy': 'orphan' } } },
    });
    await waitFor(async () => (await getCd(admin, tenant, 'leaving')) === undefined, { timeoutMs: 60_000, what: 'the deployment gone' });
    assert.ok(await cm(victim, 'claimed'));
  });

  it('lockdown: an ImagePolicy may not choose from another namespace’s ImageRepository, whatever it grants', async () => {
    await admin.rest.request({
      method: 'PATCH',
      path: `${API}/namespaces/${victim}/imagerepositories/shared`,
      query: { fieldManager: 'tidemark-test', force: true },
      contentType: 'application/apply-patch+yaml',
      body: {
        apiVersion: 'tidemark.dev/v1alpha1',
        kind: 'ImageRepository',
        metadata: { name: 'shared' },
        spec: { image: '127.0.0.1:1/team-b/app', interval: '1h', accessFrom: { namespaceSelectors: [{ matchLabels: {} }] } },
      },
    });
    await admin.rest.request({
      method: 'PATCH',
      path: `${API}/namespaces/${tenant}/imagepolicies/borrowed`,
      query: { fieldManager: 'tidemark-test', force: true },
      contentType: 'application/apply-patch+yaml',
      body: {
        apiVersion: 'tidemark.dev/v1alpha1',
        kind: 'ImagePolicy',
        metadata: { name: 'borrowed' },
        spec: { imageRepositoryRef: { name: 'shared', namespace: victim }, policy: { numerical: { order: 'asc' } } },
      },
    });
    let last: KubeObject | undefined;
    await waitFor(
      async () => {
        last = await getObject(admin, `${API}/namespaces/${tenant}/imagepolicies/borrowed`);
        const conditions = (last?.status as { conditions?: Array<{ type: string; status: string; message?: string }> } | undefined)
          ?.conditions;
        const readyCondition = conditions?.find((c) => c.type === 'Ready');
        return readyCondition?.status === 'False' && /spec\.imageRepositoryRef\.namespace/.test(readyCondition.message ?? '');
      },
      { timeoutMs: 60_000, what: `the ImagePolicy refused; last: ${JSON.stringify(last?.status ?? null)}` },
    );
  });

  it('file:// repositories are refused, with a clear condition, unless the agent allows them', async () => {
    // Only the strict agent may see this namespace: the lockdown agent above allows local URLs.
    await agent.stop();
    const local = await namespace('tenancy-local');
    strictAgent = await startAgent({
      kubeconfigPath: rbac.agentKubeconfig,
      env: {},
      namespace: local,
      cacheDir: join(cacheDir, 'strict'),
      log: testLogger(),
      agentIdentityNamespaces: [local],
      defaultServiceAccount: 'default',
    });
    await deploy(local, 'local', { 'a.yaml': configMapYaml('local', { n: '1' }) });
    const cd = await waitForCd(admin, local, 'local', failedWith('GitLocalRepositoryNotAllowed'), 'refused');
    assert.match(ready(cd)?.message ?? '', /file:\/\/ repository URLs are refused/);
    assert.equal(await cm(local, 'local'), undefined);
  });
});
