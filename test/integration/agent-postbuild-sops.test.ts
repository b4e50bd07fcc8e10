import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { useAgentWorld } from '../harness/agent-world.ts';
import { waitFor } from '../harness/process.ts';
import { applyCd, condition, getObject, waitForCd } from '../harness/tidemark.ts';
import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { planDeployment } from '../../agent/index.ts';
import { main } from '../../cli/main.ts';

/*
 * spec.postBuild and spec.decryption on the real API server and Git server: variables from a
 * ConfigMap, a Secret and the spec; a change to the ConfigMap re-syncs through the watch alone
 * (pullInterval 1h); a missing variable stops the run; files the real sops tool encrypted are
 * applied decrypted, and a wrong key or a tampered value fails closed with nothing applied.
 */

const fixture = (name: string) => readFileSync(new URL(`../../agent/sops/fixtures/${name}`, import.meta.url), 'utf8');
const SECRET_TOKEN = 'tok-9f3b1c7e';

const templated = `apiVersion: v1
kind: ConfigMap
metadata:
  name: app-\${env}
data:
  greeting: \${greeting}
  token: Bearer \${token}
  region: \${region:=eu-west-1}
  literal: $\${HOME}
`;

describe('agent: postBuild substitution and SOPS decryption', () => {
  const world = useAgentWorld('postbuild');

  const put = async (kind: 'ConfigMap' | 'Secret', name: string, data: Record<string, string>) => {
    const { kube, ns } = world();
    const plural = kind === 'ConfigMap' ? 'configmaps' : 'secrets';
    const body = { apiVersion: 'v1', kind, metadata: { name, namespace: ns }, ...(kind === 'Secret' ? { stringData: data } : { data }) };
    const path = `/api/v1/namespaces/${ns}/${plural}`;
    const existing = await getObject(kube, `${path}/${name}`);
    if (existing)
      await kube.rest.request({ method: 'PUT', path: `${path}/${name}`, body: { ...body, data: kind === 'Secret' ? undefined : data } });
    else await kube.rest.request({ method: 'POST', path, body });
  };
  /** The `data` of the object at `path`; undefined when it does not exist. */
  const dataOf = async (path: string) =>
    ((await getObject(world().kube, path)) as (KubeObject & { data?: Record<string, string> }) | undefined)?.data;
  /** A repository of `files` deployed from `path` with the age key `sops-age`, synced. */
  const syncDecrypted = async (name: string, files: Record<string, string>, path: string, targetNamespace?: string) => {
    const { kube, git, ns } = world();
    await git.repos.createRepo(name, files, { branch: 'main' });
    const decryption = { provider: 'sops', secretRef: { name: 'sops-age' } };
    await applyCd(kube, {
      metadata: { name, namespace: ns },
      spec: { url: git.repos.fileUrl(name), path, pullInterval: '1h', decryption, ...(targetNamespace ? { targetNamespace } : {}) },
    });
    return waitForCd(kube, ns, name, ready, `${name}: first sync`);
  };
  const ready = (cd: ContinuousDeployment) => condition(cd, 'Ready')?.status === 'True' && cd.status?.sync?.status === 'Synced';
  const failedWith = (reason: string) => (cd: ContinuousDeployment) => condition(cd, 'Ready')?.reason === reason;
  const eventsText = async () =>
    JSON.stringify(await world().kube.rest.request({ method: 'GET', path: `/api/v1/namespaces/${world().ns}/events` }));
  const cdText = async (name: string) =>
    JSON.stringify(await getObject(world().kube, `/apis/tidemark.dev/v1alpha1/namespaces/${world().ns}/continuousdeployments/${name}`));

  it('substitutes from a ConfigMap, a Secret and the spec; a ConfigMap change re-syncs through the watch', async () => {
    const { kube, git, ns, apps, cacheDir } = world();
    await put('ConfigMap', 'vars', { env: 'dev', greeting: 'hello' });
    await put('Secret', 'secret-vars', { token: SECRET_TOKEN });
    await git.repos.createRepo('subst', { 'deploy/app.yaml': templated }, { branch: 'main' });
    await applyCd(kube, {
      metadata: { name: 'subst', namespace: ns },
      spec: {
        url: git.repos.fileUrl('subst'),
        path: 'deploy',
        pullInterval: '1h',
        targetNamespace: apps,
        postBuild: {
          substitute: { env: 'prod' },
          substituteFrom: [
            { kind: 'ConfigMap', name: 'vars' },
            { kind: 'Secret', name: 'secret-vars' },
            { kind: 'ConfigMap', name: 'not-there', optional: true },
          ],
        },
      },
    });
    await waitForCd(kube, ns, 'subst', ready, 'subst: first sync');
    const path = `/api/v1/namespaces/${apps}/configmaps/app-prod`;
    assert.deepEqual((await getObject(kube, path))?.data, {
      greeting: 'hello',
      token: `Bearer ${SECRET_TOKEN}`,
      region: 'eu-west-1',
      literal: '${HOME}',
    });

    // No sync requested and an hour's interval: only the watch can bring the new value.
    await put('ConfigMap', 'vars', { env: 'dev', greeting: 'bonjour' });
    await waitFor(async () => (await dataOf(path))?.greeting === 'bonjour', {
      timeoutMs: 60_000,
      what: 'the ConfigMap change re-synced the deployment',
    });
    for (const text of [await eventsText(), await cdText('subst')])
      assert.ok(!text.includes(SECRET_TOKEN), 'no Secret value in status or Events');

    // tidemark diff's plan: the Secret-sourced value is marked for masking.
    const cd = (await getObject(
      kube,
      `/apis/tidemark.dev/v1alpha1/namespaces/${ns}/continuousdeployments/subst`,
    )) as unknown as ContinuousDeployment;
    const plan = await planDeployment({ kube, cd, cacheDir });
    assert.equal(plan.failure, undefined, plan.failure?.error.message);
    assert.deepEqual(plan.sensitive, [SECRET_TOKEN]);
  });

  it('a missing variable stops the run with its name: nothing applied', async () => {
    const { kube, git, ns, apps } = world();
    await git.repos.createRepo('strict', { 'deploy/app.yaml': templated.replace('app-${env}', 'strict-app') }, { branch: 'main' });
    await applyCd(kube, {
      metadata: { name: 'strict', namespace: ns },
      spec: {
        url: git.repos.fileUrl('strict'),
        path: 'deploy',
        pullInterval: '1h',
        targetNamespace: apps,
        postBuild: { substitute: { greeting: 'hi' } },
      },
    });
    const cd = await waitForCd(kube, ns, 'strict', failedWith('SubstitutionFailed'), 'strict: SubstitutionFailed');
    assert.match(condition(cd, 'Ready')?.message ?? '', /variable not set \(strict mode\): "token"/);
    assert.equal(await getObject(kube, `/api/v1/namespaces/${apps}/configmaps/strict-app`), undefined);
  });

  it('applies a Secret the real sops tool encrypted for age, decrypted in memory', async () => {
    const { kube, apps } = world();
    await put('Secret', 'sops-age', { 'flux.agekey': fixture('flux-age.txt') });
    await syncDecrypted('sops', { 'deploy/secret.yaml': fixture('flux-age.yaml') }, 'deploy', apps);
    const secret = await getObject(kube, `/api/v1/namespaces/${apps}/secrets/age`);
    assert.deepEqual((secret as KubeObject & { data?: Record<string, string> })?.data, { key: Buffer.from('value').toString('base64') });
    assert.equal((secret as { sops?: unknown }).sops, undefined);
  });

  it('a wrong key and a tampered value fail closed with a clear reason, nothing applied', async () => {
    const { kube, git, ns, apps } = world();
    await put('Secret', 'sops-pgp-only', { 'other.asc': fixture('sops-functional-tests-key.asc') });
    const tampered = fixture('flux-pgp.yaml').replace('name: pgp', 'name: pgp-tampered');
    await git.repos.createRepo('wrongkey', { 'deploy/secret.yaml': fixture('flux-age.yaml') }, { branch: 'main' });
    await git.repos.createRepo(
      'tampered',
      { 'deploy/secret.yaml': tampered, 'deploy/plain.yaml': templated.replace('app-${env}', 'tamper-plain') },
      { branch: 'main' },
    );
    await put('Secret', 'sops-pgp', { 'flux.asc': fixture('flux-pgp.asc') });
    for (const [name, keys] of [
      ['wrongkey', 'sops-pgp-only'],
      ['tampered', 'sops-pgp'],
    ] as const) {
      await applyCd(kube, {
        metadata: { name, namespace: ns },
        spec: {
          url: git.repos.fileUrl(name),
          path: 'deploy',
          pullInterval: '1h',
          targetNamespace: apps,
          decryption: { provider: 'sops', secretRef: { name: keys } },
          postBuild: { substitute: { greeting: 'x', token: 'y' } },
        },
      });
    }
    const wrong = await waitForCd(kube, ns, 'wrongkey', failedWith('DecryptionFailed'), 'wrongkey: DecryptionFailed');
    assert.match(
      condition(wrong, 'Ready')?.message ?? '',
      /no key in Secret .*sops-pgp-only.*age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29/,
    );
    const bad = await waitForCd(kube, ns, 'tampered', failedWith('DecryptionMACMismatch'), 'tampered: DecryptionMACMismatch');
    assert.match(condition(bad, 'Ready')?.message ?? '', /MAC/);
    assert.equal(await getObject(kube, `/api/v1/namespaces/${apps}/configmaps/tamper-plain`), undefined, 'nothing of the set applied');
    assert.equal(await getObject(kube, `/api/v1/namespaces/${apps}/secrets/pgp-tampered`), undefined);
  });

  it("sources are read as the deployment's ServiceAccount: one without rights is Forbidden, one with a Role reads them", async () => {
    const { kube, git, ns, apps } = world();
    const apply = (path: string, body: unknown) =>
      kube.rest.request({
        method: 'PATCH',
        path,
        query: { fieldManager: 'tidemark-test', force: true },
        contentType: 'application/apply-patch+yaml',
        body,
      });
    for (const name of ['no-rights', 'reader']) {
      await apply(`/api/v1/namespaces/${ns}/serviceaccounts/${name}`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } });
    }
    const rbac = '/apis/rbac.authorization.k8s.io/v1/namespaces';
    // The reader may read its sources here and write ConfigMaps in the target namespace.
    await apply(`${rbac}/${ns}/roles/sources`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'sources' },
      rules: [{ apiGroups: [''], resources: ['configmaps', 'secrets'], verbs: ['get'] }],
    });
    await apply(`${rbac}/${ns}/rolebindings/sources`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'sources' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'sources' },
      subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: ns }],
    });
    await apply(`${rbac}/${apps}/roles/writer`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'writer' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['*'] }],
    });
    await apply(`${rbac}/${apps}/rolebindings/writer`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'writer' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'writer' },
      subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: ns }],
    });
    const files = { 'deploy/app.yaml': templated.replace('app-${env}', 'tenant-${env}') };
    for (const [name, account] of [
      ['tenant-denied', 'no-rights'],
      ['tenant-allowed', 'reader'],
    ] as const) {
      await git.repos.createRepo(name, files, { branch: 'main' });
      await applyCd(kube, {
        metadata: { name, namespace: ns },
        spec: {
          url: git.repos.fileUrl(name),
          path: 'deploy',
          pullInterval: '1h',
          targetNamespace: apps,
          serviceAccountName: account,
          postBuild: {
            substituteFrom: [
              { kind: 'ConfigMap', name: 'vars' },
              { kind: 'Secret', name: 'secret-vars' },
            ],
          },
        },
      });
    }
    const denied = await waitForCd(kube, ns, 'tenant-denied', failedWith('Forbidden'), 'tenant-denied: Forbidden');
    assert.match(condition(denied, 'Ready')?.message ?? '', new RegExp(`system:serviceaccount:${ns}:no-rights`));
    await waitForCd(kube, ns, 'tenant-allowed', ready, 'tenant-allowed: synced');
    assert.equal((await dataOf(`/api/v1/namespaces/${apps}/configmaps/tenant-dev`))?.token, `Bearer ${SECRET_TOKEN}`);
  });

  it('tidemark diff shows the substituted object with Secret-sourced values masked', async () => {
    const { cluster, kube, git, ns, apps } = world();
    await git.repos.createRepo('diffme', { 'deploy/app.yaml': templated.replace('app-${env}', 'diffme-${env}') }, { branch: 'main' });
    await applyCd(kube, {
      metadata: { name: 'diffme', namespace: ns },
      spec: {
        url: git.repos.fileUrl('diffme'),
        path: 'deploy',
        pullInterval: '1h',
        targetNamespace: apps,
        // Manual: nothing is applied, so the diff is a create.
        syncPolicy: { manual: true },
        postBuild: {
          substituteFrom: [
            { kind: 'ConfigMap', name: 'vars' },
            { kind: 'Secret', name: 'secret-vars' },
          ],
        },
      },
    });
    let out = '';
    let err = '';
    const code = await main(['diff', 'diffme', '-n', ns, '--kubeconfig', cluster.kubeconfigPath], {
      out: (t) => void (out += t),
      err: (t) => void (err += t),
      env: {},
    });
    assert.equal(code, 1, `${out}${err}`);
    assert.match(out, /\+ create ConfigMap\/.*\/diffme-dev/);
    assert.match(out, /^\+ {2}greeting: bonjour$/m);
    assert.match(out, /^\+ {2}token: Bearer \*\*\*$/m);
    assert.ok(!out.includes(SECRET_TOKEN), out);
  });

  it('a kustomization that renames and re-namespaces an encrypted Secret: verified at the source, applied decrypted', async () => {
    const { kube, apps } = world();
    const files = {
      'base/secret.yaml': fixture('flux-age.yaml'),
      'base/kustomization.yaml': 'resources: [secret.yaml]\n',
      'overlay/kustomization.yaml': `namePrefix: prod-\nnamespace: ${apps}\ncommonLabels: {tier: secrets}\nresources: [../base]\n`,
    };
    await syncDecrypted('sops-kustomize', files, 'overlay');
    const secret = (await getObject(kube, `/api/v1/namespaces/${apps}/secrets/prod-age`)) as
      (KubeObject & { data?: Record<string, string> }) | undefined;
    assert.deepEqual(secret?.data, { key: Buffer.from('value').toString('base64') });
    assert.equal(secret?.metadata.labels?.tier, 'secrets');
  });

  it('secretGenerator envs and files sops encrypted (Flux test data): decrypted in memory after the build, applied', async () => {
    const { apps } = world();
    const files = {
      'deploy/env.env': fixture('flux-envs.env'),
      'deploy/file.txt': fixture('flux-files.txt'),
      'deploy/kustomization.yaml': [
        `namespace: ${apps}`,
        'secretGenerator:',
        '  - {name: gen-envs, envs: [env.env]}',
        '  - {name: gen-files, files: [key=file.txt]}',
        'configMapGenerator:',
        '  - {name: gen-config, envs: [env.env], options: {disableNameSuffixHash: true}}',
        '',
      ].join('\n'),
    };
    const cd = await syncDecrypted('sops-generator', files, 'deploy');
    const generated = (cd.status?.resources ?? []).filter((r) => r.kind === 'Secret').map((r) => r.name);
    assert.equal(generated.length, 2, JSON.stringify(cd.status?.resources));
    for (const name of generated) {
      assert.deepEqual(await dataOf(`/api/v1/namespaces/${apps}/secrets/${name}`), { key: Buffer.from('value').toString('base64') }, name);
    }
    assert.deepEqual(await dataOf(`/api/v1/namespaces/${apps}/configmaps/gen-config`), { key: 'value' });
  });
});
