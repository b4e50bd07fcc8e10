import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { Agent, request } from 'undici';

/**
 * Pushes test images over the plain distribution API: blobs once per repository, then one
 * manifest PUT per tag, many in flight at once. One tiny config and one empty layer back any
 * number of tags, so 10,000 tags cost 10,000 small PUTs and nothing else.
 */

export const MEDIA = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  fluxConfig: 'application/vnd.cncf.flux.config.v1+json',
  fluxContent: 'application/vnd.cncf.flux.content.v1.tar+gzip',
} as const;

/** One entry of a test archive; `type` and `link` let a test build what no honest tool writes. */
export interface TarEntry {
  name: string;
  content?: string;
  /** '0' file (default), '2' symlink, '5' directory. */
  type?: '0' | '2' | '5';
  link?: string;
}

/** A gzipped ustar archive of `entries`, in order, with fixed owners and times. */
export function tarGz(entries: readonly TarEntry[] | Record<string, string>): Buffer {
  const list: readonly TarEntry[] = Array.isArray(entries)
    ? entries
    : Object.entries(entries as Record<string, string>).map(([name, content]) => ({ name, content }));
  const parts: Buffer[] = [];
  for (const entry of list) {
    const body = Buffer.from(entry.content ?? '');
    const header = Buffer.alloc(512);
    header.write(entry.name, 0, 100, 'utf8');
    header.write('0000644\0', 100, 'latin1');
    header.write('0000000\0', 108, 'latin1');
    header.write('0000000\0', 116, 'latin1');
    header.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
    header.write('00000000000\0', 136, 'latin1');
    header.write(entry.type ?? '0', 156, 'latin1');
    if (entry.link) header.write(entry.link, 157, 100, 'utf8');
    header.write('ustar\0', 257, 'latin1');
    header.write('00', 263, 'latin1');
    header.fill(0x20, 148, 156);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    parts.push(header, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts));
}

export interface PushedManifest {
  digest: string;
  mediaType: string;
  size: number;
}

export interface Platform {
  architecture: string;
  os: string;
}

/** Supplies the Authorization header for a repository and the actions needed (or none). */
export type AuthHeaderFor = (repo: string, actions: string[]) => string | undefined;

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

// An empty tar archive is two zero blocks; gzipped, it is a valid (empty) image layer.
const LAYER_TAR = Buffer.alloc(1024);
const LAYER = gzipSync(LAYER_TAR);
const LAYER_DIFF_ID = sha256(LAYER_TAR);

function imageConfig(platform: Platform, label: string | undefined): Buffer {
  const config = {
    architecture: platform.architecture,
    os: platform.os,
    config: label === undefined ? {} : { Labels: { 'dev.tidemark.test': label } },
    rootfs: { type: 'layers', diff_ids: [LAYER_DIFF_ID] },
  };
  return Buffer.from(JSON.stringify(config));
}

export class RegistryPusher {
  readonly base: string;
  private readonly auth: AuthHeaderFor;
  private readonly agent: Agent;
  private readonly concurrency: number;
  private readonly blobsDone = new Set<string>();

  constructor(base: string, auth: AuthHeaderFor, concurrency = 16) {
    this.base = base;
    this.auth = auth;
    this.concurrency = concurrency;
    this.agent = new Agent({ connections: concurrency, keepAliveTimeout: 10_000 });
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private async call(method: string, url: string, repo: string, actions: string[], headers: Record<string, string>, body?: Buffer) {
    const auth = this.auth(repo, actions);
    const res = await request(url, {
      method: method as 'GET',
      headers: auth === undefined ? headers : { ...headers, authorization: auth },
      body: body ?? null,
      dispatcher: this.agent,
    });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text };
  }

  private async ensureBlob(repo: string, data: Buffer): Promise<string> {
    const digest = sha256(data);
    const key = `${repo}@${digest}`;
    if (this.blobsDone.has(key)) return digest;
    const head = await this.call('HEAD', `${this.base}/v2/${repo}/blobs/${digest}`, repo, ['pull'], {});
    if (head.status !== 200) {
      const start = await this.call('POST', `${this.base}/v2/${repo}/blobs/uploads/`, repo, ['pull', 'push'], {});
      const location = start.headers.location;
      if (start.status !== 202 || typeof location !== 'string') {
        throw new Error(`blob upload start for ${repo} answered ${start.status}: ${start.text.slice(0, 200)}`);
      }
      const upload = new URL(location, this.base);
      upload.searchParams.set('digest', digest);
      const put = await this.call(
        'PUT',
        upload.toString(),
        repo,
        ['pull', 'push'],
        {
          'content-type': 'application/octet-stream',
          'content-length': String(data.length),
        },
        data,
      );
      if (put.status !== 201) throw new Error(`blob upload for ${repo} answered ${put.status}: ${put.text.slice(0, 200)}`);
    }
    this.blobsDone.add(key);
    return digest;
  }

  async putManifest(repo: string, reference: string, mediaType: string, body: Buffer): Promise<PushedManifest> {
    const res = await this.call(
      'PUT',
      `${this.base}/v2/${repo}/manifests/${reference}`,
      repo,
      ['pull', 'push'],
      { 'content-type': mediaType },
      body,
    );
    if (res.status !== 201) throw new Error(`manifest PUT ${repo}:${reference} answered ${res.status}: ${res.text.slice(0, 300)}`);
    const digest = sha256(body);
    const answered = res.headers['docker-content-digest'];
    if (typeof answered === 'string' && answered !== digest) throw new Error(`registry computed ${answered}, expected ${digest}`);
    return { digest, mediaType, size: body.length };
  }

  /** Builds (and uploads the blobs of) one single-platform image manifest without tagging it. */
  private async imageManifest(repo: string, format: 'docker' | 'oci', platform: Platform, label: string | undefined) {
    const config = imageConfig(platform, label);
    const configDigest = await this.ensureBlob(repo, config);
    const layerDigest = await this.ensureBlob(repo, LAYER);
    const mediaType = format === 'docker' ? MEDIA.dockerManifest : MEDIA.ociManifest;
    const manifest = {
      schemaVersion: 2,
      mediaType,
      config: {
        mediaType: format === 'docker' ? MEDIA.dockerConfig : MEDIA.ociConfig,
        size: config.length,
        digest: configDigest,
      },
      layers: [
        {
          mediaType: format === 'docker' ? MEDIA.dockerLayer : MEDIA.ociLayer,
          size: LAYER.length,
          digest: layerDigest,
        },
      ],
    };
    return { mediaType, body: Buffer.from(JSON.stringify(manifest)) };
  }

  /**
   * Tags one image under every name in `tags`. `label` changes the config (and so the digest),
   * for tests that need tags pointing at different images.
   */
  async pushImage(repo: string, tags: string[], options: { label?: string; format?: 'docker' | 'oci' } = {}): Promise<PushedManifest> {
    const platform = { architecture: 'amd64', os: 'linux' };
    const { mediaType, body } = await this.imageManifest(repo, options.format ?? 'docker', platform, options.label);
    const result: PushedManifest = { digest: sha256(body), mediaType, size: body.length };
    await pool(tags, this.concurrency, (tag) => this.putManifest(repo, tag, mediaType, body));
    return result;
  }

  /**
   * Pushes one image per platform (untagged, by digest) and an index over them under `tag`:
   * an OCI image index, or a Docker manifest list over Docker manifests.
   */
  async pushIndex(
    repo: string,
    tag: string,
    options: { format?: 'docker' | 'oci'; platforms?: Platform[]; label?: string } = {},
  ): Promise<{ index: PushedManifest; children: PushedManifest[] }> {
    const format = options.format ?? 'oci';
    const platforms = options.platforms ?? [
      { architecture: 'amd64', os: 'linux' },
      { architecture: 'arm64', os: 'linux' },
    ];
    const children: Array<PushedManifest & { platform: Platform }> = [];
    for (const platform of platforms) {
      const { mediaType, body } = await this.imageManifest(repo, format, platform, options.label);
      const pushed = await this.putManifest(repo, sha256(body), mediaType, body);
      children.push({ ...pushed, platform });
    }
    const mediaType = format === 'oci' ? MEDIA.ociIndex : MEDIA.dockerList;
    const index = {
      schemaVersion: 2,
      mediaType,
      manifests: children.map((c) => ({
        mediaType: c.mediaType,
        size: c.size,
        digest: c.digest,
        platform: c.platform,
      })),
    };
    const pushed = await this.putManifest(repo, tag, mediaType, Buffer.from(JSON.stringify(index)));
    return {
      index: pushed,
      children: children.map(({ digest, mediaType: m, size }) => ({ digest, mediaType: m, size })),
    };
  }

  /**
   * Tags a runnable image: `layers` are gzipped tars in order, `config` the OCI image config
   * whose `rootfs.diff_ids` match them. Returns the manifest every tag points at.
   */
  async pushBuiltImage(
    repo: string,
    tags: readonly string[],
    image: { config: Buffer; layers: readonly Buffer[] },
  ): Promise<PushedManifest> {
    const configDigest = await this.ensureBlob(repo, image.config);
    const layers = [];
    for (const layer of image.layers) {
      layers.push({ mediaType: MEDIA.ociLayer, size: layer.length, digest: await this.ensureBlob(repo, layer) });
    }
    const manifest = {
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      config: { mediaType: MEDIA.ociConfig, size: image.config.length, digest: configDigest },
      layers,
    };
    const body = Buffer.from(JSON.stringify(manifest));
    await pool(tags, this.concurrency, (tag) => this.putManifest(repo, tag, MEDIA.ociManifest, body));
    return { digest: sha256(body), mediaType: MEDIA.ociManifest, size: body.length };
  }

  /**
   * Pushes an artifact whose one layer is `layer` (a tar.gz) under every tag: in Flux's format
   * (`flux push artifact`: Flux's config and content media types, source and revision
   * annotations), or as a plain OCI image layer (`oras push` of a tar.gz).
   */
  async pushArtifact(
    repo: string,
    tags: readonly string[],
    layer: Buffer,
    options: { format?: 'flux' | 'plain'; revision?: string } = {},
  ): Promise<PushedManifest> {
    const flux = (options.format ?? 'flux') === 'flux';
    const config = Buffer.from('{}');
    const manifest = {
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      config: { mediaType: flux ? MEDIA.fluxConfig : MEDIA.ociConfig, size: config.length, digest: await this.ensureBlob(repo, config) },
      layers: [{ mediaType: flux ? MEDIA.fluxContent : MEDIA.ociLayer, size: layer.length, digest: await this.ensureBlob(repo, layer) }],
      annotations: {
        'org.opencontainers.image.created': '2026-01-01T00:00:00Z',
        'org.opencontainers.image.source': 'https://git.example.com/org/manifests',
        'org.opencontainers.image.revision': options.revision ?? 'main@sha1:0000000000000000000000000000000000000000',
      },
    };
    const body = Buffer.from(JSON.stringify(manifest));
    await pool(tags, this.concurrency, (tag) => this.putManifest(repo, tag, MEDIA.ociManifest, body));
    return { digest: sha256(body), mediaType: MEDIA.ociManifest, size: body.length };
  }

  /** DELETE by tag; distribution answers 202 and drops only that tag. */
  async deleteTag(repo: string, tag: string): Promise<number> {
    const res = await this.call('DELETE', `${this.base}/v2/${repo}/manifests/${tag}`, repo, ['delete'], {});
    return res.status;
  }
}

/** Runs `fn` over `items` with at most `limit` in flight; the first failure rejects. */
export async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed !== undefined) throw failed instanceof Error ? failed : new Error('a pool task failed', { cause: failed });
}
