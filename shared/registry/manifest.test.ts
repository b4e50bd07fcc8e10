import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseManifest } from './manifest.ts';

const descriptor = (mediaType: string, c: string) => ({ mediaType, digest: `sha256:${c.repeat(64)}`, size: 2 });

describe('parseManifest', () => {
  it("keeps an artifact's string annotations (Flux's source and revision) and drops the rest", () => {
    const body = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: descriptor('application/vnd.cncf.flux.config.v1+json', 'a'),
        layers: [descriptor('application/vnd.cncf.flux.content.v1.tar+gzip', 'b')],
        annotations: {
          'org.opencontainers.image.source': 'https://github.com/org/repo',
          'org.opencontainers.image.revision': 'main@sha1:1234',
          odd: 7,
        },
      }),
    );
    const manifest = parseManifest(body, undefined, 200);
    assert.equal(manifest.kind, 'image');
    assert.deepEqual(manifest.kind === 'image' ? manifest.annotations : undefined, {
      'org.opencontainers.image.source': 'https://github.com/org/repo',
      'org.opencontainers.image.revision': 'main@sha1:1234',
    });
    const plain = parseManifest(
      Buffer.from(JSON.stringify({ schemaVersion: 2, config: descriptor('x', 'a'), layers: [] })),
      undefined,
      200,
    );
    assert.equal(plain.kind === 'image' && 'annotations' in plain, false);
  });
});
