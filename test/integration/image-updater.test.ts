import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { API_VERSION } from '../../shared/api/constants.ts';
import type { ImagePolicyStatus, ImageRepositoryStatus } from '../../shared/api/image.ts';
import type { Condition } from '../../shared/conditions/index.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { RegistryClient, startImageUpdater, type RunningImageUpdater } from '../../image-updater/index.ts';
import { testCluster } from '../harness/cluster.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { waitFor } from '../harness/process.ts';
import { startRegistry, type PushedManifest, type RegistryAuthMode, type TestRegistry } from '../harness/registry.ts';
import { applyCd, cdPath, getObject, installCrds, listEvents, testClient, testLogger, waitForEvent } from '../harness/tidemark.ts';

/**
 * The image updater in-process against the real control plane and a real registry (CNCF
 * distribution) in each auth mode: ImageRepository scans of 2,000+ tags, ImagePolicies choosing
 * from them, rescans on request, invalid policies failing alone, wrong credentials reported
 * without leaking, and the seed's inline block on a ContinuousDeployment.
 */

const REPO = 'team/app';
const TAG_COUNT = 2000;
const BASE_TS = 1_700_000_000;
const SEED_FILTER = { pattern: '^master-[a-f0-9]+-(?P<ts>[0-9]+)', extract: '$ts' };
const WAIT_MS = 90_000;

function masterTag(i: number): string {
  const sha = createHash('sha1').update(String(i)).digest('hex').slice(0, 7);
  return `master-${sha}-${BASE_TS + i * 60}`;
}

const MASTER_TAGS = Array.from({ length: TAG_COUNT }, (_, i) => masterTag(i));
/** `1.10.0` is the highest version below 2.0.0: above `v1.9.3` numerically, below it in byte order. */
const SEMVER_TAGS = ['0.9.0', '1.0.0', '1.2.0', '1.10.0', '1.10.1-rc.1', 'v1.9.3', '2.0.0', '2.0.0-rc.1'];
/** Matches the seed's unanchored pattern with the largest timestamp: only the default exclusion list keeps it out. */
const SIGNATURE_TAG = `master-fffffff-${BASE_TS + 10_000_000}.sig`;
const NEWEST_MASTER = masterTag(TAG_COUNT - 1);

type Obj<S> = KubeObject & { status?: S };

const path = (plural: string, ns: string, name: string) => `/apis/${API_VERSION}/namespaces/${ns}/${plural}/${name}`;
const readyOf = (status: { conditions?: Condition[] } | undefined) => status?.conditions?.find((c) => c.type === 'Ready');

async function apply(
  kube: KubeClient,
  plural: string,
  ns: string,
  kind: string,
  name: string,
  spec: Record<string, unknown>,
  annotations?: Record<string, string>,
): Promise<void> {
  await kube.rest.request({
    method: 'PATCH',
    path: path(plural, ns, name),
    query: { fieldManager: 'tidemark-test', force: true },
    contentType: 'application/apply-patch+yaml',
    body: {
      apiVersion: API_VERSION,
      kind,
      metadata: { name, namespace: ns, ...(annotations ? { annotations } : {}) },
      spec,
    },
  });
}

async function waitForObject<S>(kube: KubeClient, objectPath: string, check: (obj: Obj<S>) => boolean, what: string): Promise<Obj<S>> {
  let last: Obj<S> | undefined;
  try {
    await waitFor(
      async () => {
        last = await getObject(kube, objectPath);
        return last !== undefined && check(last);
      },
      { timeoutMs: WAIT_MS, intervalMs: 100, what },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; last status: ${JSON.stringify(last?.status ?? null)}`, { cause: err });
  }
  return last as Obj<S>;
}

async function waitGone(kube: KubeClient, objectPath: string, what: string): Promise<void> {
  await waitFor(async () => (await getObject(kube, objectPath)) === undefined, {
    timeoutMs: WAIT_MS,
    intervalMs: 100,
    what,
  });
}

async function createPullSecret(kube: KubeClient, ns: string, name: string, registry: TestRegistry, password: string): Promise<void> {
  const auth = Buffer.from(`${registry.username}:${password}`).toString('base64');
  const config = JSON.stringify({ auths: { [registry.host]: { auth } } });
  await kube.rest.request({
    method: 'POST',
    path: `/api/v1/namespaces/${ns}/secrets`,
    body: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': Buffer.from(config).toString('base64') },
    },
  });
}

async function namespaceEvents(kube: KubeClient, ns: string): Promise<unknown[]> {
  const list = await kube.rest.request<{ items: unknown[] }>({
    method: 'GET',
    path: `/api/v1/namespaces/${ns}/events`,
  });
  return list.items;
}

for (const mode of ['none', 'htpasswd', 'token'] as const satisfies readonly RegistryAuthMode[]) {
  describe(`image updater against docker-registry (${mode})`, () => {
    let cluster: ClusterAccess;
    let kube: KubeClient;
    let registry: TestRegistry;
    let updater: RunningImageUpdater | undefined;
    let ns = '';
    let image = '';
    let pushed: PushedManifest;
    const secretRef = mode === 'none' ? undefined : { name: 'registry-creds' };
    const repoSpec = () => ({ image, interval: '1h', insecure: true, ...(secretRef ? { secretRef } : {}) });

    before(async () => {
      cluster = await testCluster();
      await installCrds(cluster);
      kube = testClient(cluster);
      ns = await cluster.createNamespace(`image-updater-${mode}`);
      registry = await startRegistry({ auth: mode });
      image = `${registry.host}/${REPO}`;
      pushed = await registry.pushImage(REPO, [...MASTER_TAGS, ...SEMVER_TAGS, SIGNATURE_TAG]);
      if (secretRef) await createPullSecret(kube, ns, secretRef.name, registry, registry.password);
      updater = await startImageUpdater({
        kubeconfigPath: cluster.kubeconfigPath,
        namespace: ns,
        log: testLogger(),
        workers: 2,
      });
    });

    after(async () => {
      await updater?.stop();
      await registry?.stop();
      if (ns) await cluster.deleteNamespace(ns);
      await kube?.close();
    });

    it('scans 2,000+ tags and the policies choose the newest (numerical on $ts, semver)', async () => {
      await apply(kube, 'imagerepositories', ns, 'ImageRepository', 'app', repoSpec());
      await apply(kube, 'imagepolicies', ns, 'ImagePolicy', 'app-master', {
        imageRepositoryRef: { name: 'app' },
        filterTags: SEED_FILTER,
        policy: { numerical: { order: 'asc' } },
        digestReflectionPolicy: 'IfNotPresent',
      });
      await apply(kube, 'imagepolicies', ns, 'ImagePolicy', 'app-semver', {
        imageRepositoryRef: { name: 'app' },
        policy: { semver: { range: '>=1.0.0 <2.0.0' } },
      });

      const repo = await waitForObject<ImageRepositoryStatus>(
        kube,
        path('imagerepositories', ns, 'app'),
        (r) => readyOf(r.status)?.status === 'True',
        'ImageRepository app scanned',
      );
      const expectedCount = MASTER_TAGS.length + SEMVER_TAGS.length; // the .sig tag is excluded
      assert.ok(expectedCount >= 2000);
      assert.equal(repo.status?.lastScanResult?.tagCount, expectedCount);
      assert.equal(repo.status?.canonicalImageName, image);
      assert.equal(repo.status?.observedGeneration, repo.metadata.generation);
      // The newest by the registry's order: the end of its listing, newest first.
      const client = new RegistryClient();
      try {
        const credentials = mode === 'none' ? undefined : { username: registry.username, password: registry.password };
        const listed = await client.listTags(image, { access: { insecure: true, credentials } });
        const kept = listed.tags.filter((t) => !t.endsWith('.sig'));
        assert.deepEqual(repo.status?.lastScanResult?.latestTags, kept.slice(-10).reverse());
      } finally {
        await client.close();
      }

      const master = await waitForObject<ImagePolicyStatus>(
        kube,
        path('imagepolicies', ns, 'app-master'),
        (p) => readyOf(p.status)?.status === 'True',
        'ImagePolicy app-master resolved',
      );
      assert.deepEqual(master.status?.latestRef, { name: image, tag: NEWEST_MASTER, digest: pushed.digest });
      const semver = await waitForObject<ImagePolicyStatus>(
        kube,
        path('imagepolicies', ns, 'app-semver'),
        (p) => readyOf(p.status)?.status === 'True',
        'ImagePolicy app-semver resolved',
      );
      assert.deepEqual(semver.status?.latestRef, { name: image, tag: '1.10.0' });

      await waitForEvent(kube, ns, 'app-master', (e) => e.reason === 'NewImage' && e.message.includes(NEWEST_MASTER), 'the NewImage Event');
    });

    it('a pushed tag and a requested rescan move latestRef and keep the previous one', async () => {
      const before = await waitForObject<ImagePolicyStatus>(
        kube,
        path('imagepolicies', ns, 'app-master'),
        (p) => p.status?.latestRef !== undefined,
        'first latestRef',
      );
      const newer = masterTag(TAG_COUNT + 5);
      const manifest = await registry.pushImage(REPO, [newer], { label: 'newer' });
      assert.notEqual(manifest.digest, pushed.digest);
      const stamp = `${Date.now()}`;
      await kube.rest.request({
        method: 'PATCH',
        path: path('imagerepositories', ns, 'app'),
        contentType: 'application/merge-patch+json',
        body: { metadata: { annotations: { 'tidemark.dev/requestedAt': stamp } } },
      });
      const repo = await waitForObject<ImageRepositoryStatus>(
        kube,
        path('imagerepositories', ns, 'app'),
        (r) => r.status?.lastHandledRequestedAt === stamp,
        'rescan handled',
      );
      assert.equal(repo.status?.lastScanResult?.tagCount, MASTER_TAGS.length + SEMVER_TAGS.length + 1);
      const policy = await waitForObject<ImagePolicyStatus>(
        kube,
        path('imagepolicies', ns, 'app-master'),
        (p) => p.status?.latestRef?.tag === newer,
        'latestRef moved to the new tag',
      );
      assert.deepEqual(policy.status?.latestRef, { name: image, tag: newer, digest: manifest.digest });
      assert.deepEqual(policy.status?.observedPreviousRef, before.status?.latestRef);
      // The semver policy still chooses the same version.
      const semver = (await getObject(kube, path('imagepolicies', ns, 'app-semver'))) as Obj<ImagePolicyStatus>;
      assert.equal(semver.status?.latestRef?.tag, '1.10.0');
    });

    it('an invalid pattern or range fails only its own policy', async () => {
      await apply(kube, 'imagepolicies', ns, 'ImagePolicy', 'bad-pattern', {
        imageRepositoryRef: { name: 'app' },
        filterTags: { pattern: '^master-(' },
        policy: { numerical: { order: 'asc' } },
      });
      await apply(kube, 'imagepolicies', ns, 'ImagePolicy', 'bad-range', {
        imageRepositoryRef: { name: 'app' },
        policy: { semver: { range: '>>1.x' } },
      });
      await apply(kube, 'imagepolicies', ns, 'ImagePolicy', 'alphabetical', {
        imageRepositoryRef: { name: 'app' },
        filterTags: { pattern: '^[0-9]' },
        policy: { alphabetical: { order: 'asc' } },
      });

      const badPattern = await waitForObject<ImagePolicyStatus>(
        kube,
        path('imagepolicies', ns, 'bad-pattern'),
        (p) => readyOf(p.status)?.status === 'False',
        'bad-pattern reported',
      );
      assert.equal(readyOf(badPattern.status)?.reason, 'InvalidFilterPattern');
      assert.match(readyOf(badPattern.status)?.message ?? '', /filterTags\.pattern/);
      assert.equal(badPattern.status?.conditions?.find((c) => c.type === 'Stalled')?.status, 'True');
      const badRange = await waitForObject<ImagePolicyStatus>(
        kube,
        path('imagepolicies', ns, 'bad-range'),
        (p) => readyOf(p.status)?.status === 'False',
        'bad-range reported',
      );
      assert.equal(readyOf(badRange.status)?.reason, 'InvalidSemverRange');

      // A policy created after the broken ones on the same repository still resolves.
      const alpha = await waitForObject<ImagePolicyStatus>(
        kube,
        path('imagepolicies', ns, 'alphabetical'),
        (p) => readyOf(p.status)?.status === 'True',
        'alphabetical resolved',
      );
      assert.equal(alpha.status?.latestRef?.tag, '2.0.0-rc.1');
      const master = (await getObject(kube, path('imagepolicies', ns, 'app-master'))) as Obj<ImagePolicyStatus>;
      assert.equal(readyOf(master.status)?.status, 'True');
    });

    it('a policy on a missing repository waits for it', async () => {
      await apply(kube, 'imagepolicies', ns, 'ImagePolicy', 'orphan', {
        imageRepositoryRef: { name: 'not-there' },
        policy: { numerical: {} },
      });
      const orphan = await waitForObject<ImagePolicyStatus>(
        kube,
        path('imagepolicies', ns, 'orphan'),
        (p) => readyOf(p.status) !== undefined,
        'orphan reported',
      );
      assert.equal(readyOf(orphan.status)?.status, 'False');
      assert.equal(readyOf(orphan.status)?.reason, 'DependencyNotReady');
    });

    if (mode !== 'none') {
      it('a wrong password is RegistryUnauthorized and appears in no status or Event', async () => {
        const wrong = `wrong-${registry.password.slice(0, 6)}-${Date.now()}`;
        await createPullSecret(kube, ns, 'wrong-creds', registry, wrong);
        await apply(kube, 'imagerepositories', ns, 'ImageRepository', 'wrong', {
          ...repoSpec(),
          secretRef: { name: 'wrong-creds' },
        });
        const repo = await waitForObject<ImageRepositoryStatus>(
          kube,
          path('imagerepositories', ns, 'wrong'),
          (r) => readyOf(r.status)?.status === 'False',
          'wrong credentials reported',
        );
        assert.equal(readyOf(repo.status)?.reason, 'RegistryUnauthorized');
        assert.equal(repo.status?.lastScanResult, undefined);
        await waitFor(async () => (await listEvents(kube, ns, 'wrong')).some((e) => e.reason === 'RegistryUnauthorized'), {
          timeoutMs: WAIT_MS,
          what: 'RegistryUnauthorized Event',
        });

        const everything = JSON.stringify([
          await kube.rest.request({ method: 'GET', path: `/apis/${API_VERSION}/namespaces/${ns}/imagerepositories` }),
          await kube.rest.request({ method: 'GET', path: `/apis/${API_VERSION}/namespaces/${ns}/imagepolicies` }),
          await namespaceEvents(kube, ns),
        ]);
        for (const secret of [wrong, registry.password]) {
          assert.ok(!everything.includes(secret), 'a password leaked into a status or an Event');
          assert.ok(!everything.includes(Buffer.from(`${registry.username}:${secret}`).toString('base64')), 'an auth string leaked');
        }
      });
    }

    it('the inline block of a ContinuousDeployment derives an owned ImageRepository and ImagePolicy', async () => {
      const block = {
        image,
        ...(secretRef ? { secretRef: secretRef.name } : {}),
        insecure: true,
        interval: '1h',
        filterTags: SEED_FILTER,
        policy: { numerical: { order: 'asc' } },
        commitMessage: 'Image: {{range .Updated.Images}}{{println .}}{{end}}',
      };
      const cdSpec = { repoType: 'git', url: 'https://git.example.test/org/infra.git', path: './infrastructure' };
      // Its own newest tag, so this test does not depend on the ones before it.
      const newest = masterTag(TAG_COUNT + 10);
      await registry.pushImage(REPO, [newest], { label: 'inline' });
      await applyCd(kube, {
        metadata: { name: 'image-gitops', namespace: ns },
        spec: { ...cdSpec, imageRepository: block },
      });
      const cd = await getObject(kube, cdPath(ns, 'image-gitops'));
      assert.ok(cd?.metadata.uid);

      const policy = await waitForObject<ImagePolicyStatus>(
        kube,
        path('imagepolicies', ns, 'image-gitops'),
        (p) => readyOf(p.status)?.status === 'True',
        'inline ImagePolicy resolved',
      );
      assert.equal(policy.status?.latestRef?.name, image);
      assert.equal(policy.status?.latestRef?.tag, newest);
      const repo = await getObject(kube, path('imagerepositories', ns, 'image-gitops'));
      for (const derived of [policy, repo]) {
        assert.deepEqual(derived?.metadata.ownerReferences, [
          {
            apiVersion: API_VERSION,
            kind: 'ContinuousDeployment',
            name: 'image-gitops',
            uid: cd.metadata.uid,
            controller: true,
            blockOwnerDeletion: false,
          },
        ]);
        const managers = (derived?.metadata.managedFields as Array<{ manager: string }>).map((m) => m.manager);
        assert.ok(managers.includes('tidemark-image-updater'), `field managers: ${managers.join(', ')}`);
      }
      assert.deepEqual((repo?.spec as Record<string, unknown>).secretRef, secretRef);

      // A changed block is applied as a whole: fields it no longer sets leave the derived objects.
      await kube.rest.request({
        method: 'PATCH',
        path: cdPath(ns, 'image-gitops'),
        contentType: 'application/merge-patch+json',
        body: {
          spec: { imageRepository: { filterTags: null, policy: { numerical: null, semver: { range: '^1.0.0' } } } },
        },
      });
      const changed = await waitForObject<ImagePolicyStatus>(
        kube,
        path('imagepolicies', ns, 'image-gitops'),
        (p) => p.status?.latestRef?.tag === '1.10.0',
        'inline ImagePolicy follows the changed block',
      );
      assert.deepEqual(changed.spec, {
        imageRepositoryRef: { name: 'image-gitops' },
        policy: { semver: { range: '^1.0.0' } },
        digestReflectionPolicy: 'Never',
      });

      // Removing the block deletes what it declared. (A merge patch: the 1.20 API server's
      // server-side apply leaves nulls behind when it removes a schemaless nested block.)
      await kube.rest.request({
        method: 'PATCH',
        path: cdPath(ns, 'image-gitops'),
        contentType: 'application/merge-patch+json',
        body: { spec: { imageRepository: null } },
      });
      await waitGone(kube, path('imagepolicies', ns, 'image-gitops'), 'derived ImagePolicy deleted');
      await waitGone(kube, path('imagerepositories', ns, 'image-gitops'), 'derived ImageRepository deleted');

      // Put back, then deleting the ContinuousDeployment garbage-collects them.
      await applyCd(kube, {
        metadata: { name: 'image-gitops', namespace: ns },
        spec: { ...cdSpec, imageRepository: block },
      });
      await waitForObject(kube, path('imagepolicies', ns, 'image-gitops'), () => true, 'derived ImagePolicy recreated');
      await kube.rest.request({ method: 'DELETE', path: cdPath(ns, 'image-gitops') });
      await waitGone(kube, path('imagepolicies', ns, 'image-gitops'), 'derived ImagePolicy garbage-collected');
      await waitGone(kube, path('imagerepositories', ns, 'image-gitops'), 'derived ImageRepository garbage-collected');
    });

    it('an invalid inline block is reported on the ContinuousDeployment', async () => {
      await applyCd(kube, {
        metadata: { name: 'bad-inline', namespace: ns },
        spec: {
          url: 'https://git.example.test/org/infra.git',
          imageRepository: { image, insecure: true, policy: { semver: { range: '>>1.x' } } },
        },
      });
      await waitFor(async () => (await listEvents(kube, ns, 'bad-inline')).some((e) => e.reason === 'InvalidSemverRange'), {
        timeoutMs: WAIT_MS,
        what: 'InvalidSemverRange Event on the ContinuousDeployment',
      });
      assert.equal(await getObject(kube, path('imagepolicies', ns, 'bad-inline')), undefined);
    });
  });
}

describe('cross-namespace ImagePolicy references need a grant from the ImageRepository', () => {
  let cluster: ClusterAccess;
  let kube: KubeClient;
  let registry: TestRegistry;
  let updater: RunningImageUpdater | undefined;
  const namespaces: string[] = [];

  before(async () => {
    cluster = await testCluster();
    await installCrds(cluster);
    kube = testClient(cluster);
    registry = await startRegistry({ auth: 'htpasswd' });
    await registry.pushImage(REPO, ['1.0.0', '1.1.0']);
    // Cluster-wide, as a cross-namespace reference needs.
    updater = await startImageUpdater({ kubeconfigPath: cluster.kubeconfigPath, log: testLogger(), workers: 2 });
  });

  after(async () => {
    await updater?.stop();
    await registry?.stop();
    for (const ns of namespaces) await cluster.deleteNamespace(ns);
    await kube?.close();
  });

  it('refuses without accessFrom, allows a matching namespace, and never reflects digests with the owner credentials', async () => {
    const owner = await cluster.createNamespace('grant-owner');
    const team = await cluster.createNamespace('grant-team', { team: 'a' });
    const stranger = await cluster.createNamespace('grant-stranger', { team: 'b' });
    namespaces.push(owner, team, stranger);
    await createPullSecret(kube, owner, 'registry-creds', registry, registry.password);
    const repoSpec = { image: `${registry.host}/${REPO}`, interval: '1h', insecure: true, secretRef: { name: 'registry-creds' } };
    await apply(kube, 'imagerepositories', owner, 'ImageRepository', 'shared', repoSpec);
    await waitForObject<ImageRepositoryStatus>(
      kube,
      path('imagerepositories', owner, 'shared'),
      (r) => r.status?.lastScanResult?.tagCount === 2,
      'owner repository scanned',
    );
    const policySpec = (extra: Record<string, unknown> = {}) => ({
      imageRepositoryRef: { name: 'shared', namespace: owner },
      policy: { semver: { range: '>=1.0.0' } },
      ...extra,
    });
    const denied = async (ns: string, name: string, message: RegExp) => {
      const got = await waitForObject<ImagePolicyStatus>(
        kube,
        path('imagepolicies', ns, name),
        (p) => readyOf(p.status)?.reason === 'AccessDenied',
        `${ns}/${name} refused`,
      );
      assert.equal(readyOf(got.status)?.status, 'False');
      assert.match(readyOf(got.status)?.message ?? '', message);
      assert.equal(got.status?.latestRef, undefined, 'no tag of the other namespace');
      await waitFor(async () => (await listEvents(kube, ns, name)).some((e) => e.reason === 'AccessDenied' && e.type === 'Warning'), {
        timeoutMs: WAIT_MS,
        what: `AccessDenied Event for ${ns}/${name}`,
      });
    };

    await apply(kube, 'imagepolicies', team, 'ImagePolicy', 'borrow', policySpec());
    await denied(team, 'borrow', new RegExp(`ImageRepository ${owner}/shared does not grant access to ImagePolicies in namespace ${team}`));

    // The owner grants namespaces labelled team=a: the policy resolves (its next run follows the rescan).
    await apply(kube, 'imagerepositories', owner, 'ImageRepository', 'shared', {
      ...repoSpec,
      accessFrom: { namespaceSelectors: [{ matchLabels: { team: 'a' } }] },
    });
    const granted = await waitForObject<ImagePolicyStatus>(
      kube,
      path('imagepolicies', team, 'borrow'),
      (p) => p.status?.latestRef?.tag === '1.1.0',
      'granted policy resolved',
    );
    assert.equal(readyOf(granted.status)?.status, 'True');
    assert.equal(granted.status?.latestRef?.digest, undefined);

    // Another label is still refused; a digest lookup would use the owner's pull secret: refused too.
    await apply(kube, 'imagepolicies', stranger, 'ImagePolicy', 'borrow', policySpec());
    await denied(stranger, 'borrow', /does not grant access/);
    await apply(kube, 'imagepolicies', team, 'ImagePolicy', 'digest', policySpec({ digestReflectionPolicy: 'Always' }));
    await denied(team, 'digest', /would look up digests with ImageRepository .*\/shared's credentials/);
  });
});
