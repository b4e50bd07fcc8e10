import { RegistryErrorCode, registryTerminal, registryTransient, safeExcerpt } from './errors.ts';
import { isValidDigest } from './reference.ts';

/** Manifest media types and validation of manifest bodies into a small typed shape. */

export const MediaType = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

/** Indexes first: asking for a tag should give the multi-platform digest, as `docker pull` sees it. */
export const MANIFEST_ACCEPT = [MediaType.ociIndex, MediaType.dockerManifestList, MediaType.ociManifest, MediaType.dockerManifest].join(
  ', ',
);

const INDEX_TYPES: ReadonlySet<string> = new Set([MediaType.ociIndex, MediaType.dockerManifestList]);
const IMAGE_TYPES: ReadonlySet<string> = new Set([MediaType.ociManifest, MediaType.dockerManifest]);

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
}

export type Manifest =
  | { kind: 'index'; mediaType: string; manifests: Descriptor[] }
  | {
      kind: 'image';
      mediaType: string;
      config: Descriptor;
      layers: Descriptor[];
      /** String annotations (an artifact's `org.opencontainers.image.source` and `.revision`); absent when none. */
      annotations?: Record<string, string>;
    };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function descriptor(value: unknown, where: string, fail: (why: string) => Error): Descriptor {
  if (!isRecord(value)) throw fail(`${where} is not an object`);
  const { mediaType, digest, size, platform } = value;
  if (typeof mediaType !== 'string') throw fail(`${where}.mediaType is missing`);
  if (typeof digest !== 'string' || !isValidDigest(digest)) throw fail(`${where}.digest is missing or malformed`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw fail(`${where}.size is not a non-negative integer`);
  const result: Descriptor = { mediaType, digest, size };
  if (isRecord(platform) && typeof platform.architecture === 'string' && typeof platform.os === 'string') {
    result.platform = { architecture: platform.architecture, os: platform.os };
    if (typeof platform.variant === 'string') result.platform.variant = platform.variant;
  }
  return result;
}

/**
 * Validates a manifest body. The media type comes from the body when it names one, else from
 * the Content-Type header (OCI manifests may omit `mediaType`).
 */
export function parseManifest(body: Buffer, contentType: string | undefined, status: number): Manifest {
  const fail = (why: string) =>
    registryTransient(
      RegistryErrorCode.RegistryBadResponse,
      `registry answered ${status} with an invalid manifest (${why}): ${safeExcerpt(body)}`,
    );
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    throw fail('not JSON');
  }
  if (!isRecord(doc)) throw fail('not a JSON object');
  const headerType = contentType?.split(';')[0]?.trim().toLowerCase();
  const mediaType = typeof doc.mediaType === 'string' ? doc.mediaType : (headerType ?? '');
  if (doc.schemaVersion !== 2) {
    throw registryTerminal(
      RegistryErrorCode.RegistryBadResponse,
      `unsupported manifest schema version ${JSON.stringify(doc.schemaVersion)} (media type ${JSON.stringify(mediaType)})`,
      'push the image with a current client: only OCI and Docker schema 2 manifests are supported',
    );
  }
  if (INDEX_TYPES.has(mediaType) || (mediaType === '' && Array.isArray(doc.manifests))) {
    if (!Array.isArray(doc.manifests)) throw fail('index without a manifests list');
    return {
      kind: 'index',
      mediaType: mediaType || MediaType.ociIndex,
      manifests: doc.manifests.map((m, i) => descriptor(m, `manifests[${i}]`, fail)),
    };
  }
  if (IMAGE_TYPES.has(mediaType) || (mediaType === '' && isRecord(doc.config))) {
    if (!Array.isArray(doc.layers)) throw fail('image manifest without a layers list');
    const image: Manifest = {
      kind: 'image',
      mediaType: mediaType || MediaType.ociManifest,
      config: descriptor(doc.config, 'config', fail),
      layers: doc.layers.map((l, i) => descriptor(l, `layers[${i}]`, fail)),
    };
    if (isRecord(doc.annotations)) {
      const annotations = Object.entries(doc.annotations).filter((e): e is [string, string] => typeof e[1] === 'string');
      if (annotations.length > 0) image.annotations = Object.fromEntries(annotations);
    }
    return image;
  }
  throw registryTerminal(
    RegistryErrorCode.RegistryBadResponse,
    `unsupported manifest media type ${JSON.stringify(safeExcerpt(mediaType, 80))}`,
    'only OCI and Docker schema 2 images and indexes are supported',
  );
}
