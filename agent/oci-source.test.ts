import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TidemarkError } from '../shared/errors/index.ts';
import { artifactRevision, contentLayer, FLUX_CONTENT_MEDIA_TYPE, ociCredentials } from './oci-source.ts';

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
