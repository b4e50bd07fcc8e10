import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { planDeployment } from '../../agent/index.ts';
import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import { useAgentWorld } from '../harness/agent-world.ts';
import { kubectlTools } from '../harness/tools.ts';
import { waitFor } from '../harness/process.ts';
import { startRegistry, type TestRegistry } from '../harness/registry.ts';
import { applyCd, condition, getCd, getObject, requestSync, waitForCd, waitForEvent } from '../harness/tidemark.ts';

/*
 * Issue 18, Helm charts as sources: a real chart (with a dependency built by `helm package` and
 * vendored in charts/) in a real Git repository, rendered by the real helm the agent is given,
 * applied to the real API server, then changed, pruned, broken — and shown by the plan behind
 * `tidemark diff`.
 */

const run = promisify(execFile);

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

const cmName = (release: string, name: string) => `${release}-${name}`;

describe('Helm charts from Git', () => {
  const group = `helm${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}.tidemark.test`;
  const crdName = `widgets.${group}`;
  let helm: string;
  let work: string;
  const world = useAgentWorld('helm', {
    workers: 2,
    setup: async () => {
      helm = (await kubectlTools()).helm;
      work = await mkdtemp(join(tmpdir(), 'tidemark-helm-chart-'));
      await mkdir(join(work, 'home'));
    },
    agent: () => Promise.resolve({ helmBinary: helm }),
    cleanup: async ({ cluster, kube, ns }) => {
      await cluster.deleteNamespace(ns);
      await kube.rest
        .request({ method: 'DELETE', path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crdName}` })
        .catch(() => undefined);
      if (work) await rm(work, { recursive: true, force: true });
    },
  });

  /** HOME and helm's own directories in the scratch dir: helm keeps no state between tests or runs. */
  const helmEnv = () => {
    const home = join(work, 'home');
    return { PATH: process.env.PATH ?? '', HOME: home, HELM_CACHE_HOME: home, HELM_CONFIG_HOME: home, HELM_DATA_HOME: home };
  };

  /** A Secret of `stringData` in the deployments' namespace (repository and registry credentials). */
  const createSecret = (name: string, stringData: Record<string, string>) =>
    world().kube.rest.request({
      method: 'POST',
      path: `/api/v1/namespaces/${world().ns}/secrets`,
      body: { apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData },
    });

  /**
   * `helm package` of a chart `<name>` at `version` — one ConfigMap of its color (values.yaml: grey)
   * and version, plus `extraTemplates` — into `repoDir`, then `helm repo index`; the archive's sha256.
   */
  async function publishChart(
    repoDir: string,
    name: string,
    version: string,
    extraTemplates: Record<string, string> = {},
  ): Promise<string> {
    const src = join(work, `${name}-${version}`, name);
    await mkdir(join(src, 'templates'), { recursive: true });
    await writeFile(join(src, 'Chart.yaml'), `apiVersion: v2\nname: ${name}\nversion: ${version}\n`);
    await writeFile(join(src, 'values.yaml'), 'color: grey\n');
    await writeFile(
      join(src, 'templates', 'cm.yaml'),
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-${name}\n` +
        `data:\n  color: {{ .Values.color | quote }}\n  chart: ${version}\n`,
    );
    for (const [file, text] of Object.entries(extraTemplates)) await writeFile(join(src, 'templates', file), text);
    await run(helm, ['package', src, '--destination', repoDir], { env: helmEnv() });
    await run(helm, ['repo', 'index', repoDir], { env: helmEnv() });
    return sha256(await readFile(join(repoDir, `${name}-${version}.tgz`)));
  }

  /** `repoDir` served over HTTP under `/<prefix>/` to `reader:s3cret` only; 503 while `serving()` says no. */
  async function serveRepository(repoDir: string, prefix: string, serving: () => boolean = () => true) {
    const expected = `Basic ${Buffer.from('reader:s3cret').toString('base64')}`;
    const server = createServer((req, res) => {
      if (!serving()) return void res.writeHead(503).end();
      if (req.headers.authorization !== expected) return void res.writeHead(401).end();
      readFile(join(repoDir, (req.url ?? '').replace(new RegExp(`^/${prefix}/`), '')))
        .then((body) => res.writeHead(200, { 'content-length': body.length }).end(body))
        .catch(() => res.writeHead(404).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/${prefix}`,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  /** `helm package` of a small chart: the .tgz a dependency is vendored as. */
  async function packagedDependency(): Promise<Buffer> {
    const src = join(work, 'sub');
    await mkdir(join(src, 'templates'), { recursive: true });
    await writeFile(join(src, 'Chart.yaml'), 'apiVersion: v2\nname: sub\nversion: 0.1.0\n');
    await writeFile(
      join(src, 'templates', 'cm.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-sub\ndata:\n  from: dependency\n',
    );
    await run(helm, ['package', src, '--destination', work], { env: helmEnv(), cwd: work });
    return readFile(join(work, 'sub-0.1.0.tgz'));
  }

  const chartFiles = (dependency: Buffer): Record<string, string | Buffer> => ({
    'chart/Chart.yaml': [
      'apiVersion: v2',
      'name: shop',
      'version: 1.0.0',
      'dependencies:',
      '  - name: sub',
      '    version: 0.1.0',
      '    repository: https://charts.example.invalid',
      '',
    ].join('\n'),
    'chart/charts/sub-0.1.0.tgz': dependency,
    'chart/values.yaml': 'greeting: hello\nreplicas: 1\n',
    'chart/templates/config.yaml': [
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata:',
      '  name: {{ .Release.Name }}-config',
      'data:',
      '  greeting: {{ .Values.greeting | quote }}',
      '  replicas: {{ .Values.replicas | quote }}',
      '  namespace: {{ .Release.Namespace | quote }}',
      '',
    ].join('\n'),
    'chart/templates/extra.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-extra\n',
    'chart/templates/hooks.yaml': [
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata:',
      '  name: {{ .Release.Name }}-pre',
      '  annotations:',
      '    helm.sh/hook: pre-install,pre-upgrade',
      '    helm.sh/hook-weight: "-1"',
      'data:',
      '  ran: "yes"',
      '---',
      'apiVersion: v1',
      'kind: Pod',
      'metadata:',
      '  name: {{ .Release.Name }}-test',
      '  annotations:',
      '    helm.sh/hook: test',
      'spec:',
      '  containers: [{name: t, image: busybox}]',
      '',
    ].join('\n'),
    'chart/crds/widgets.yaml': [
      'apiVersion: apiextensions.k8s.io/v1',
      'kind: CustomResourceDefinition',
      'metadata:',
      `  name: ${crdName}`,
      'spec:',
      `  group: ${group}`,
      '  names: {kind: Widget, plural: widgets}',
      '  scope: Namespaced',
      '  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]',
      '',
    ].join('\n'),
    'values/prod.yaml': 'greeting: prod\n',
  });

  const configMap = (name: string) => getObject(world().kube, `/api/v1/namespaces/${world().ns}/configmaps/${name}`);
  /** The commit's revision; with a chart from a repository, `+<chart>-<version>@sha256:<digest>` follows. */
  const attempted = (sha: string) => (cd: ContinuousDeployment) =>
    cd.status?.lastAttemptedRevision === `main@sha1:${sha}` || (cd.status?.lastAttemptedRevision ?? '').startsWith(`main@sha1:${sha}+`);

  it('renders, applies, runs the mapped hook once, skips and reports the test hook, prunes, and refuses a broken chart', async () => {
    const { kube, git, ns, cacheDir } = world();
    const first = await git.repos.createRepo('shop', chartFiles(await packagedDependency()), { branch: 'main' });
    await applyCd(kube, {
      metadata: { name: 'shop', namespace: ns },
      spec: {
        url: git.repos.fileUrl('shop'),
        pullInterval: '1h',
        timeout: '2m',
        path: './chart',
        helm: { releaseName: 'store', valuesFiles: ['../values/prod.yaml'], values: { replicas: 3 } },
      },
    });
    let cd = await waitForCd(kube, ns, 'shop', (c) => attempted(first)(c) && condition(c, 'Ready')?.status !== 'Unknown', 'first sync');
    const ready = condition(cd, 'Ready');
    assert.equal(ready?.status, 'True', `${ready?.reason}: ${ready?.message}`);

    // Values: the chart's, then the values file, then spec.helm.values; the release in the deployment's namespace.
    assert.deepEqual((await configMap(cmName('store', 'config')))?.data, { greeting: 'prod', replicas: '3', namespace: ns });
    assert.deepEqual((await configMap(cmName('store', 'sub')))?.data, { from: 'dependency' }, 'the vendored dependency is rendered');
    assert.ok(await getObject(kube, `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crdName}`), 'crds/ applied');
    assert.deepEqual(
      (cd.status?.resources ?? []).map((r) => `${r.kind}/${r.name}`).sort(),
      ['ConfigMap/store-config', 'ConfigMap/store-extra', 'ConfigMap/store-sub', `CustomResourceDefinition/${crdName}`].sort(),
    );
    // pre-install,pre-upgrade ran once, as one PreSync hook; the test hook never ran, and the Event says so.
    assert.deepEqual(
      (cd.status?.hooks ?? []).map((h) => `${h.phase} ${h.kind}/${h.name} ${h.status}`),
      ['PreSync ConfigMap/store-pre Succeeded'],
    );
    assert.equal(await getObject(kube, `/api/v1/namespaces/${ns}/pods/store-test`), undefined);
    const events = await waitForEvent(kube, ns, 'shop', (e) => e.reason === 'HelmHookSkipped', 'the HelmHookSkipped Event');
    const skipped = events.find((e) => e.reason === 'HelmHookSkipped');
    assert.equal(skipped?.type, 'Warning');
    assert.match(skipped?.message ?? '', /Pod store-test \(test\)/);

    // tidemark diff's plan shows the chart-rendered change, computed as the agent would.
    const changed = await git.repos.commitFiles('shop', 'main', { 'values/prod.yaml': 'greeting: prod-2\n' }, 'greeting');
    const plan = await planDeployment({ kube, cd: (await getCd(kube, ns, 'shop'))!, cacheDir: join(cacheDir, 'plan'), helmBinary: helm });
    assert.equal(plan.failure, undefined, plan.failure?.error.message);
    assert.equal(plan.revision, `main@sha1:${changed}`);
    assert.deepEqual(
      plan.update.map((u) => `${u.ref.kind}/${u.ref.name}`),
      ['ConfigMap/store-config'],
    );
    assert.equal((plan.update[0]?.desired.data as Record<string, string>).greeting, 'prod-2');
    assert.deepEqual(plan.create, []);
    assert.deepEqual(plan.prune, []);

    // A template that leaves the chart is pruned; the change is applied.
    const pruned = await git.repos.commitFiles('shop', 'main', { 'chart/templates/extra.yaml': null }, 'drop extra');
    await requestSync(kube, ns, 'shop');
    await waitForCd(kube, ns, 'shop', (c) => c.status?.lastAppliedRevision === `main@sha1:${pruned}`, 'prune sync');
    assert.equal(await configMap(cmName('store', 'extra')), undefined, 'store-extra pruned');
    assert.equal(((await configMap(cmName('store', 'config')))?.data as Record<string, string> | undefined)?.greeting, 'prod-2');

    // A chart that does not render: terminal, reported, nothing pruned.
    const broken = await git.repos.commitFiles(
      'shop',
      'main',
      { 'chart/templates/bad.yaml': 'kind: {{ .Values.nope.deeper }}\n' },
      'break',
    );
    await requestSync(kube, ns, 'shop');
    cd = await waitForCd(
      kube,
      ns,
      'shop',
      (c) => attempted(broken)(c) && condition(c, 'Ready')?.reason === 'HelmTemplateFailed',
      'broken chart',
    );
    assert.match(condition(cd, 'Ready')?.message ?? '', /helm template of chart failed: .*nil pointer/);
    assert.ok(await configMap(cmName('store', 'config')), 'nothing pruned after a failed render');
    assert.ok(await configMap(cmName('store', 'sub')));

    // A dependency that would need a download: named, refused, nothing pruned.
    const undeclared = await git.repos.commitFiles(
      'shop',
      'main',
      {
        'chart/templates/bad.yaml': null,
        'chart/Chart.yaml':
          'apiVersion: v2\nname: shop\nversion: 1.0.1\ndependencies:\n  - {name: sub, version: 0.1.0}\n  - {name: redis, version: 19.x.x, repository: https://charts.example.invalid}\n',
      },
      'add an undownloaded dependency',
    );
    await requestSync(kube, ns, 'shop');
    cd = await waitForCd(
      kube,
      ns,
      'shop',
      (c) => attempted(undeclared)(c) && condition(c, 'Ready')?.reason === 'HelmDependencyMissing',
      'missing dependency',
    );
    assert.match(
      condition(cd, 'Ready')?.message ?? '',
      /depends on redis 19\.x\.x from https:\/\/charts\.example\.invalid, which is not in its charts\//,
    );
    assert.ok(await configMap(cmName('store', 'config')), 'nothing pruned after a refused dependency');
  });

  it('takes a chart from a real Helm repository (helm package, helm repo index, auth from a Secret), values from Git', async () => {
    const { kube, git, ns } = world();
    const repoDir = join(work, 'helm-repo');
    await mkdir(repoDir, { recursive: true });
    await publishChart(repoDir, 'catalog', '1.0.0');
    await publishChart(repoDir, 'catalog', '2.0.0');
    let serving = true;
    const server = await serveRepository(repoDir, 'stable', () => serving);
    try {
      const repository = server.url;
      await createSecret('charts', { username: 'reader', password: 's3cret' });
      const sha = await git.repos.createRepo('catalog-values', { 'env/prod.yaml': 'color: blue\n' }, { branch: 'main' });
      await applyCd(kube, {
        metadata: { name: 'catalog', namespace: ns },
        spec: {
          url: git.repos.fileUrl('catalog-values'),
          pullInterval: '1h',
          timeout: '2m',
          path: './env',
          helm: { valuesFiles: ['prod.yaml'], chart: { repository, name: 'catalog', version: '^1.0.0', secretRef: 'charts' } },
        },
      });
      let cd = await waitForCd(kube, ns, 'catalog', (c) => attempted(sha)(c) && condition(c, 'Ready')?.status !== 'Unknown', 'chart sync');
      assert.equal(condition(cd, 'Ready')?.status, 'True', condition(cd, 'Ready')?.message);
      assert.deepEqual((await configMap('catalog-catalog'))?.data, { color: 'blue', chart: '1.0.0' });
      const digestOf = async (version: string) => sha256(await readFile(join(repoDir, `catalog-${version}.tgz`)));
      assert.equal(cd.status?.lastAppliedRevision, `main@sha1:${sha}+catalog-1.0.0@sha256:${await digestOf('1.0.0')}`);

      // A newer release inside the range is taken on the next sync: a new revision, though Git did not move.
      await publishChart(repoDir, 'catalog', '1.1.0');
      await requestSync(kube, ns, 'catalog');
      await waitFor(async () => ((await configMap('catalog-catalog'))?.data as Record<string, string> | undefined)?.chart === '1.1.0', {
        what: 'chart 1.1.0 applied',
        timeoutMs: 60_000,
        intervalMs: 200,
      });
      const next = `main@sha1:${sha}+catalog-1.1.0@sha256:${await digestOf('1.1.0')}`;
      await waitForCd(kube, ns, 'catalog', (c) => c.status?.lastAppliedRevision === next, 'the revision names chart 1.1.0');

      // A repository that cannot be read: transient, reported, nothing pruned.
      serving = false;
      await requestSync(kube, ns, 'catalog');
      cd = await waitForCd(kube, ns, 'catalog', (c) => condition(c, 'Ready')?.reason === 'HelmRepositoryFailed', 'repository down');
      assert.match(condition(cd, 'Ready')?.message ?? '', /index\.yaml: HTTP 503/);
      assert.ok(await configMap('catalog-catalog'), 'nothing pruned while the repository is down');
    } finally {
      await server.close();
    }
  });

  it('takes a chart pushed by helm push to the real local registry (oci://, basic auth from a Secret)', async () => {
    const { kube, git, ns } = world();
    const registry = await startRegistry({ auth: 'htpasswd' });
    try {
      const publish = (version: string) => pushOciChart(registry, 'ledger', version);
      await publish('0.9.0');
      await publish('1.0.0');
      await publish('1.3.0');
      await createSecret('registry', { username: registry.username, password: registry.password });
      const sha = await git.repos.createRepo('ledger-values', { 'env/.keep': '' }, { branch: 'main' });
      const spec = (secretRef: string) => ({
        url: git.repos.fileUrl('ledger-values'),
        pullInterval: '1h',
        timeout: '2m',
        path: './env',
        helm: { chart: { repository: `oci://${registry.host}/charts`, name: 'ledger', version: '~1.0.0 || ^1.2', secretRef } },
      });
      await applyCd(kube, { metadata: { name: 'ledger', namespace: ns }, spec: spec('registry') });
      const cd = await waitForCd(kube, ns, 'ledger', (c) => attempted(sha)(c) && condition(c, 'Ready')?.status !== 'Unknown', 'oci sync');
      assert.equal(condition(cd, 'Ready')?.status, 'True', condition(cd, 'Ready')?.message);
      assert.deepEqual((await configMap('ledger-ledger'))?.data, { chart: '1.3.0' });

      // Without the registry's credentials: the registry client's reason, retried (transient), nothing pruned.
      await createSecret('nobody', { username: 'nobody', password: 'wrong' });
      await applyCd(kube, { metadata: { name: 'ledger', namespace: ns }, spec: spec('nobody') });
      const refused = await waitForCd(
        kube,
        ns,
        'ledger',
        (c) => condition(c, 'Ready')?.reason === 'RegistryUnauthorized' && condition(c, 'Reconciling')?.reason === 'ProgressingWithRetry',
        'bad credentials',
      );
      assert.match(condition(refused, 'Ready')?.message ?? '', /charts\/ledger: the registry refused the credentials/);
      assert.ok(await configMap('ledger-ledger'), 'nothing pruned');
    } finally {
      await registry.stop();
    }
  });

  it('repoType helm: chart-only from a Helm repository, <version>@sha256 revisions, a new version applied, the rest pruned', async () => {
    const { kube, ns } = world();
    const repoDir = join(work, 'only-repo');
    await mkdir(repoDir, { recursive: true });
    // 1.0.0 has a ConfigMap `extra` that 1.1.0 no longer renders.
    const extra = { 'extra.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-extra\n' };
    const first = await publishChart(repoDir, 'solo', '1.0.0', extra);
    const server = await serveRepository(repoDir, 'charts');
    try {
      await createSecret('solo-repo', { username: 'reader', password: 's3cret' });
      await applyCd(kube, {
        metadata: { name: 'solo', namespace: ns },
        spec: {
          repoType: 'helm',
          url: server.url,
          secretRef: 'solo-repo',
          pullInterval: '1h',
          timeout: '2m',
          helm: { chart: { name: 'solo', version: '^1.0.0' }, values: { color: 'green' } },
        },
      });
      let cd = await waitForCd(kube, ns, 'solo', (c) => c.status?.lastAppliedRevision === `1.0.0@sha256:${first}`, 'chart-only sync');
      assert.equal(condition(cd, 'Ready')?.status, 'True', condition(cd, 'Ready')?.message);
      assert.deepEqual((await configMap('solo-solo'))?.data, { color: 'green', chart: '1.0.0' });
      assert.ok(await configMap('solo-extra'));

      // A new version in the range is a new revision; the ConfigMap it no longer renders is pruned.
      const second = await publishChart(repoDir, 'solo', '1.1.0');
      assert.notEqual(second, first);
      await requestSync(kube, ns, 'solo');
      cd = await waitForCd(kube, ns, 'solo', (c) => c.status?.lastAppliedRevision === `1.1.0@sha256:${second}`, 'chart 1.1.0 applied');
      assert.deepEqual((await configMap('solo-solo'))?.data, { color: 'green', chart: '1.1.0' });
      await waitFor(async () => (await configMap('solo-extra')) === undefined, {
        what: 'solo-extra pruned',
        timeoutMs: 30_000,
        intervalMs: 200,
      });
      await waitForEvent(kube, ns, 'solo', (e) => (e.message ?? '').includes('1.1.0@sha256:'), 'an Event naming the new revision');
    } finally {
      await server.close();
    }
  });

  it('repoType helm: the chart alone from the real local registry (helm push), revision <version>@<layer digest>', async () => {
    const { kube, ns } = world();
    const registry = await startRegistry({ auth: 'htpasswd' });
    try {
      await pushOciChart(registry, 'dial', '1.0.0');
      await pushOciChart(registry, 'dial', '2.0.0');
      await createSecret('dial-registry', { username: registry.username, password: registry.password });
      await applyCd(kube, {
        metadata: { name: 'dial', namespace: ns },
        spec: {
          repoType: 'helm',
          url: `oci://${registry.host}/charts`,
          secretRef: 'dial-registry',
          pullInterval: '1h',
          timeout: '2m',
          helm: { chart: { name: 'dial', version: '^1' } },
        },
      });
      const layer = `sha256:${sha256(await readFile(join(work, `oci-${registry.mode}-dial-1.0.0`, 'dial-1.0.0.tgz')))}`;
      let cd = await waitForCd(kube, ns, 'dial', (c) => c.status?.lastAppliedRevision === `1.0.0@${layer}`, 'oci chart-only sync');
      assert.deepEqual((await configMap('dial-dial'))?.data, { chart: '1.0.0' });

      await pushOciChart(registry, 'dial', '1.2.0');
      await requestSync(kube, ns, 'dial');
      cd = await waitForCd(kube, ns, 'dial', (c) => (c.status?.lastAppliedRevision ?? '').startsWith('1.2.0@sha256:'), 'oci 1.2.0 applied');
      assert.equal(condition(cd, 'Ready')?.status, 'True', condition(cd, 'Ready')?.message);
      assert.deepEqual((await configMap('dial-dial'))?.data, { chart: '1.2.0' });
    } finally {
      await registry.stop();
    }
  });

  /** `helm package` and `helm push` of a one-ConfigMap chart to the registry's `charts/` path. */
  async function pushOciChart(registry: TestRegistry, name: string, version: string): Promise<void> {
    const env = helmEnv();
    const out = join(work, `oci-${registry.mode}-${name}-${version}`);
    const src = join(out, name);
    await mkdir(join(src, 'templates'), { recursive: true });
    await writeFile(join(src, 'Chart.yaml'), `apiVersion: v2\nname: ${name}\nversion: ${version}\n`);
    await writeFile(
      join(src, 'templates', 'cm.yaml'),
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-${name}\ndata:\n  chart: ${version}\n`,
    );
    await run(helm, ['package', src, '--destination', out], { env });
    const auth = ['--username', registry.username, '--password', registry.password, '--plain-http'];
    await run(helm, ['push', join(out, `${name}-${version}.tgz`), `oci://${registry.host}/charts`, ...auth], { env });
  }

  it("speaks the registry token flow (Bearer challenge, token from the realm with the Secret's credentials)", async () => {
    const { kube, git, ns } = world();
    const registry = await startRegistry({ auth: 'token' });
    try {
      await pushOciChart(registry, 'audit', '2.0.1');
      await createSecret('token-registry', { username: registry.username, password: registry.password });
      const sha = await git.repos.createRepo('audit-values', { 'env/.keep': '' }, { branch: 'main' });
      await applyCd(kube, {
        metadata: { name: 'audit', namespace: ns },
        spec: {
          url: git.repos.fileUrl('audit-values'),
          pullInterval: '1h',
          timeout: '2m',
          path: './env',
          helm: { chart: { repository: `oci://${registry.host}/charts`, name: 'audit', secretRef: 'token-registry' } },
        },
      });
      const cd = await waitForCd(kube, ns, 'audit', (c) => attempted(sha)(c) && condition(c, 'Ready')?.status !== 'Unknown', 'token sync');
      assert.equal(condition(cd, 'Ready')?.status, 'True', condition(cd, 'Ready')?.message);
      assert.deepEqual((await configMap('audit-audit'))?.data, { chart: '2.0.1' });
    } finally {
      await registry.stop();
    }
  });

  it('a spec.helm problem is reported with every field at once, before anything is fetched', async () => {
    const { kube, git, ns } = world();
    await applyCd(kube, {
      metadata: { name: 'bad-helm', namespace: ns },
      spec: {
        url: git.repos.fileUrl('shop'),
        path: './chart',
        // Past the CRD's schema (it checks only lengths here), so the reader has to say it.
        helm: { valuesFiles: ['/etc/passwd'], kubeVersion: '--set' },
      },
    });
    const cd = await waitForCd(kube, ns, 'bad-helm', (c) => condition(c, 'Ready')?.status === 'False', 'spec refused');
    const message = condition(cd, 'Ready')?.message ?? '';
    assert.match(message, /spec\.helm\.valuesFiles\[0\]: "\/etc\/passwd" is absolute/);
    assert.match(message, /spec\.helm\.kubeVersion: "--set" is not a Kubernetes version/);
  });
});
