import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import yaml from 'js-yaml';
import { API_VERSION } from '../../shared/api/constants.ts';
import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import type { ImagePolicy, ImageRepository } from '../../shared/api/image.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import { KubeApiError } from '../../shared/kube/errors.ts';
import { readInlineImageObjects, readImagePolicySpec, readImageRepositorySpec } from '../../image-updater/specs.ts';
import { testCluster } from '../harness/cluster.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { installCrds, testClient } from '../harness/tidemark.ts';
import { kubectlTools } from '../harness/tools.ts';

const run = promisify(execFile);

/**
 * The image CRDs on a real v1.20.2 API server: they install, default what the TypeScript
 * validators default, refuse what they refuse, and print the promised columns.
 */
describe('image CRDs on the API server', () => {
  let cluster: ClusterAccess;
  let kube: KubeClient;
  let ns: string;

  before(async () => {
    cluster = await testCluster();
    await installCrds(cluster);
    kube = testClient(cluster);
    ns = await cluster.createNamespace('image-crds');
  });

  after(async () => {
    if (cluster && ns) await cluster.deleteNamespace(ns);
    await kube?.close();
  });

  const path = (plural: string, name?: string) => `/apis/${API_VERSION}/namespaces/${ns}/${plural}${name ? `/${name}` : ''}`;

  async function apply<T>(plural: string, kind: string, name: string, spec: unknown): Promise<T> {
    return kube.rest.request<T>({
      method: 'PATCH',
      path: path(plural, name),
      query: { fieldManager: 'tidemark-test', force: true },
      contentType: 'application/apply-patch+yaml',
      body: { apiVersion: API_VERSION, kind, metadata: { name, namespace: ns }, spec },
    });
  }

  async function refused(plural: string, kind: string, spec: unknown, message: RegExp): Promise<void> {
    await assert.rejects(apply(plural, kind, `bad-${Math.random().toString(36).slice(2, 8)}`, spec), (err: unknown) => {
      assert.ok(err instanceof KubeApiError, String(err));
      assert.equal(err.status, 422, err.message);
      assert.match(err.message, message);
      return true;
    });
  }

  test('ImageRepository: server defaults match the validator defaults', async () => {
    const created = await apply<ImageRepository>('imagerepositories', 'ImageRepository', 'app', {
      image: 'registry.example.com/team/app',
    });
    assert.deepEqual(created.spec, {
      image: 'registry.example.com/team/app',
      interval: '5m',
      insecure: false,
      suspend: false,
      exclusionList: ['^.*\\.sig$'],
    });
    const config = readImageRepositorySpec(created.spec);
    assert.ok(config.ok);
    assert.equal(config.value.intervalMs, 300_000);
  });

  test('ImageRepository: the schema refuses tags, bad durations and long exclusion lists', async () => {
    await refused('imagerepositories', 'ImageRepository', { image: 'nginx:1.25' }, /spec\.image/);
    await refused('imagerepositories', 'ImageRepository', { image: 'Org/App' }, /spec\.image/);
    await refused('imagerepositories', 'ImageRepository', { image: 'nginx', interval: 'soon' }, /spec\.interval/);
    await refused('imagerepositories', 'ImageRepository', { image: 'nginx', exclusionList: Array(26).fill('x') }, /spec\.exclusionList/);
    await refused('imagerepositories', 'ImageRepository', { image: 'nginx', secretRef: {} }, /spec\.secretRef\.name/);
  });

  test('ImagePolicy: defaults, and exactly one policy kind', async () => {
    const created = await apply<ImagePolicy>('imagepolicies', 'ImagePolicy', 'app', {
      imageRepositoryRef: { name: 'app' },
      policy: { numerical: {} },
    });
    assert.deepEqual(created.spec, {
      imageRepositoryRef: { name: 'app' },
      policy: { numerical: { order: 'asc' } },
      digestReflectionPolicy: 'Never',
    });
    assert.ok(readImagePolicySpec(created.spec, ns).ok);

    await refused('imagepolicies', 'ImagePolicy', { imageRepositoryRef: { name: 'app' }, policy: {} }, /spec\.policy/);
    await refused(
      'imagepolicies',
      'ImagePolicy',
      { imageRepositoryRef: { name: 'app' }, policy: { numerical: {}, alphabetical: {} } },
      /spec\.policy/,
    );
    // An unknown kind is never silently ignored: a plain create prunes it, which leaves an empty
    // policy (refused); server-side apply refuses the undeclared field outright (500 on v1.20).
    await assert.rejects(
      kube.rest.request({
        method: 'POST',
        path: path('imagepolicies'),
        body: {
          apiVersion: API_VERSION,
          kind: 'ImagePolicy',
          metadata: { name: 'unknown-kind' },
          spec: { imageRepositoryRef: { name: 'app' }, policy: { regex: {} } },
        },
      }),
      (err: unknown) => err instanceof KubeApiError && err.status === 422 && /spec\.policy/.test(err.message),
    );
    await assert.rejects(
      apply('imagepolicies', 'ImagePolicy', 'unknown-kind', {
        imageRepositoryRef: { name: 'app' },
        policy: { regex: {} },
      }),
      (err: unknown) => err instanceof KubeApiError && /spec\.policy\.regex: field not declared in schema/.test(err.message),
    );
    await refused(
      'imagepolicies',
      'ImagePolicy',
      { imageRepositoryRef: { name: 'app' }, policy: { semver: {} } },
      /spec\.policy\.semver\.range/,
    );
    await refused(
      'imagepolicies',
      'ImagePolicy',
      { imageRepositoryRef: { name: 'app' }, policy: { numerical: { order: 'newest' } } },
      /spec\.policy\.numerical\.order/,
    );
    await refused(
      'imagepolicies',
      'ImagePolicy',
      { imageRepositoryRef: { name: 'app' }, policy: { alphabetical: {} }, digestReflectionPolicy: 'Sometimes' },
      /spec\.digestReflectionPolicy/,
    );
  });

  test("the seed's inline block derives objects the server accepts unchanged", async () => {
    const seed = yaml.load(
      readFileSync(new URL('../../shared/spec/fixtures/seed-continuous-deployment.yaml', import.meta.url), 'utf8'),
    ) as ContinuousDeployment;
    const derived = readInlineImageObjects({ ...seed, metadata: { ...seed.metadata, name: 'seed', namespace: ns } });
    assert.ok(derived?.ok);
    const repo = await apply<ImageRepository>('imagerepositories', 'ImageRepository', 'seed', derived.value.imageRepository.spec);
    const policy = await apply<ImagePolicy>('imagepolicies', 'ImagePolicy', 'seed', derived.value.imagePolicy.spec);
    assert.equal(repo.spec.image, 'registry.example.com/team/app');
    assert.deepEqual(policy.spec.filterTags, { pattern: '^master-[a-f0-9]+-(?P<ts>[0-9]+)', extract: '$ts' });
    assert.deepEqual(policy.spec.policy, { numerical: { order: 'asc' } });
  });

  test('status subresource and printer columns', async () => {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const condition = { type: 'Ready', status: 'True', reason: 'Succeeded', message: 'ok', lastTransitionTime: now };
    await kube.rest.request({
      method: 'PATCH',
      path: `${path('imagerepositories', 'app')}/status`,
      contentType: 'application/merge-patch+json',
      body: {
        status: {
          canonicalImageName: 'registry.example.com/team/app',
          lastScanResult: { tagCount: 42, scanTime: now, latestTags: ['v2', 'v1'] },
          conditions: [condition],
        },
      },
    });
    await kube.rest.request({
      method: 'PATCH',
      path: `${path('imagepolicies', 'app')}/status`,
      contentType: 'application/merge-patch+json',
      body: {
        status: { latestRef: { name: 'registry.example.com/team/app', tag: 'v2.0.1' }, conditions: [condition] },
      },
    });

    const { kubectl } = await kubectlTools();
    const get = async (resource: string) =>
      (await run(kubectl, ['--kubeconfig', cluster.kubeconfigPath, 'get', resource, '--namespace', ns, '--', 'app'])).stdout;
    const repoTable = await get('imagerepositories');
    assert.match(repoTable, /^NAME\s+IMAGE\s+TAGS\s+LAST SCAN\s+READY\s+AGE\s*$/m);
    assert.match(repoTable, /^app\s+registry\.example\.com\/team\/app\s+42\s+\S+\s+True\s+\S+\s*$/m);
    const policyTable = await get('imgpol');
    assert.match(policyTable, /^NAME\s+LATEST\s+READY\s+AGE\s*$/m);
    assert.match(policyTable, /^app\s+v2\.0\.1\s+True\s+\S+\s*$/m);
  });
});
