import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tarGz } from '../test/harness/registry-push.ts';
import { TidemarkError } from '../shared/errors/index.ts';
import { silentLogger } from '../shared/log/index.ts';
import { validateContinuousDeploymentSpec, type DeploymentConfig } from '../shared/spec/index.ts';
import {
  artifactRevision,
  contentLayer,
  createOciSource,
  FLUX_CONTENT_MEDIA_TYPE,
  ociCredentials,
  type ArtifactRegistry,
} from './oci-source.ts';

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const layer = (mediaType: string, c: string) => ({ mediaType, digest: digest(c), size: 10 });

function refusal(fn: () => unknown, code: string): TidemarkError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TidemarkError, String(err));
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail('expected a refusal');
}

describe('OCI source', () => {
  it("picks Flux's content layer, else the only tar.gz layer", () => {
    const flux = layer(FLUX_CONTENT_MEDIA_TYPE, 'a');
    assert.equal(contentLayer([layer('application/vnd.oci.image.layer.v1.tar+gzip', 'b'), flux], 'x'), flux);
    const plain = layer('application/vnd.oci.image.layer.v1.tar+gzip', 'c');
    assert.equal(contentLayer([layer('application/json', 'd'), plain], 'x'), plain);
  });

  it('refuses an artifact with no tar.gz layer, or several without Flux', () => {
    const err = refusal(() => contentLayer([layer('application/vnd.cncf.helm.config.v1+json', 'a')], 'the artifact'), 'ArtifactInvalid');
    assert.match(err.message, /has no tar.gz layer \(layers: application\/vnd.cncf.helm.config.v1\+json\)/);
    assert.equal(err.kind, 'terminal');
    const two = [layer('application/vnd.oci.image.layer.v1.tar+gzip', 'a'), layer('application/vnd.oci.image.layer.v1.tar+gzip', 'b')];
    assert.match(refusal(() => contentLayer(two, 'the artifact'), 'ArtifactInvalid').message, /2 tar.gz layers/);
  });

  it("reports Flux's revision: tag@digest, or the digest alone", () => {
    assert.deepEqual(artifactRevision('v1.2.0', digest('a')), {
      ref: 'v1.2.0',
      sha: digest('a'),
      revision: `v1.2.0@${digest('a')}`,
      verified: true,
    });
    assert.equal(artifactRevision(undefined, digest('b')).revision, digest('b'));
  });

  it("reads the registry's entry of a dockerconfigjson Secret, anonymous when there is none", () => {
    const auth = Buffer.from('robot:s3cret').toString('base64');
    const data = { '.dockerconfigjson': JSON.stringify({ auths: { 'registry.example:5000': { auth }, 'other.example': { auth } } }) };
    assert.deepEqual(ociCredentials({ url: 'oci://registry.example:5000/team/app' }, data), { username: 'robot', password: 's3cret' });
    assert.equal(ociCredentials({ url: 'oci://ghcr.io/org/app' }, data), undefined);
    const err = refusal(
      () => ociCredentials({ url: 'oci://ghcr.io/org/app' }, { username: 'git', password: 'x' }),
      'InvalidRegistryCredentials',
    );
    assert.doesNotMatch(err.message, /git|x\b/);
  });
});

/** A registry at the port boundary: tags to layers, counting what the source asks for. */
function fakeRegistry(tags: Record<string, Buffer>) {
  const calls: string[] = [];
  const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
  const manifestOf = (layer: Buffer) => ({
    kind: 'image' as const,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.cncf.flux.config.v1+json', digest: sha(Buffer.from('{}')), size: 2 },
    layers: [{ mediaType: FLUX_CONTENT_MEDIA_TYPE, digest: sha(layer), size: layer.length }],
  });
  const digestOf = (layer: Buffer) => sha(Buffer.from(JSON.stringify(manifestOf(layer))));
  const byDigest = () => new Map(Object.values(tags).map((l) => [digestOf(l), l]));
  const usage = { requests: 1, bytes: 0 };
  const registry: ArtifactRegistry = {
    listTags: () => {
      calls.push('tags');
      return Promise.resolve({ tags: Object.keys(tags), pages: 1, ...usage });
    },
    getDigest: (_image, reference) => {
      calls.push(`HEAD ${reference}`);
      const layer = reference === undefined ? undefined : (tags[reference] ?? byDigest().get(reference));
      if (!layer) return Promise.reject(new TidemarkError('ManifestNotFound', `no ${reference}`, { kind: 'terminal' }));
      return Promise.resolve({ digest: digestOf(layer), mediaType: 'application/vnd.oci.image.manifest.v1+json', ...usage });
    },
    getManifest: (_image, reference) => {
      calls.push(`GET manifest ${reference}`);
      const layer = byDigest().get(reference ?? '') as Buffer;
      return Promise.resolve({
        digest: digestOf(layer),
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        manifest: manifestOf(layer),
        ...usage,
      });
    },
    getBlob: (_image, digest) => {
      calls.push(`GET blob`);
      const layer = Object.values(tags).find((l) => sha(l) === digest) as Buffer;
      return Promise.resolve({ data: layer, ...usage });
    },
  };
  return { registry, calls, digestOf };
}

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function ociConfig(ref: Record<string, string>): DeploymentConfig {
  const read = validateContinuousDeploymentSpec({ repoType: 'oci', url: 'oci://registry.example/team/app', ref });
  assert.ok(read.ok);
  return read.value;
}

describe('createOciSource', () => {
  it('resolves with one HEAD, extracts a digest once, and removes a released older artifact when a new one arrives', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'tidemark-oci-source-'));
    dirs.push(cacheDir);
    const tags: Record<string, Buffer> = { stable: tarGz({ 'deploy/a.yaml': 'a: 1\n' }) };
    const { registry, calls, digestOf } = fakeRegistry(tags);
    const source = createOciSource({ client: registry, cacheDir, log: silentLogger, keep: 1 });
    const config = ociConfig({ tag: 'stable' });

    const first = await source.resolve(config, undefined);
    assert.equal(first.revision, `stable@${digestOf(tags.stable as Buffer)}`);
    const a = await source.checkout(config, undefined, first);
    const b = await source.checkout(config, undefined, await source.resolve(config, undefined));
    assert.equal(a.dir, b.dir);
    assert.equal(await readFile(join(a.dir, 'deploy/a.yaml'), 'utf8'), 'a: 1\n');
    assert.deepEqual(calls, ['HEAD stable', `GET manifest ${first.sha}`, 'GET blob', 'HEAD stable']);
    a.release();
    b.release();

    tags.stable = tarGz({ 'deploy/a.yaml': 'a: 2\n' });
    const second = await source.resolve(config, undefined);
    assert.notEqual(second.sha, first.sha);
    const c = await source.checkout(config, undefined, second);
    assert.equal(await readFile(join(c.dir, 'deploy/a.yaml'), 'utf8'), 'a: 2\n');
    c.release();
    const repoDir = join(cacheDir, 'oci', (await readdir(join(cacheDir, 'oci')))[0] as string);
    assert.deepEqual(await readdir(repoDir), [second.sha.replace(':', '-')], 'the released older artifact is removed');
  });

  it('picks the highest tag of a semver range; a missing tag is transient', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'tidemark-oci-source-'));
    dirs.push(cacheDir);
    const layer = tarGz({ 'x.yaml': 'x: 1\n' });
    const { registry } = fakeRegistry({ '1.0.0': layer, 'v1.4.2': layer, '2.0.0': layer, latest: layer });
    const source = createOciSource({ client: registry, cacheDir, log: silentLogger });
    assert.equal((await source.resolve(ociConfig({ semver: '^1.0.0' }), undefined)).ref, 'v1.4.2');
    for (const ref of [{ semver: '>=3.0.0' }, { tag: 'nope' }]) {
      const err = await source.resolve(ociConfig(ref), undefined).then(
        () => assert.fail('resolved'),
        (e: unknown) => e as TidemarkError,
      );
      assert.equal(err.code, 'ManifestNotFound');
      assert.equal(err.kind, 'transient', 'an artifact that cannot be fetched may be pushed later');
    }
  });
});
