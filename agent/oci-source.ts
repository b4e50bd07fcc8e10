import { createHash } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { extractTar, type TarLimits } from '../shared/archive/index.ts';
import { isTidemarkError, terminal, TidemarkError, type Reason } from '../shared/errors/index.ts';
import { pickSemverTag } from '../shared/git/refs.ts';
import type { Logger } from '../shared/log/index.ts';
// The modules themselves, not the index: it loads the registry client, which an agent without OCI
// sources never needs (agent/lazy-registry.ts).
import { credentialsFor, dockerConfigFromSecret } from '../shared/registry/credentials.ts';
import type { Descriptor, ImageReference, RegistryAccess, RegistryClient } from '../shared/registry/index.ts';
import { parseImageReference } from '../shared/registry/reference.ts';
import type { DeploymentConfig } from '../shared/spec/index.ts';
import type { Checkout, GitAuth, ResolvedRevision, Source } from './types.ts';

/** Flux's artifact format (`flux push artifact`): this config type and one layer of this type. */
export const FLUX_CONFIG_MEDIA_TYPE = 'application/vnd.cncf.flux.config.v1+json';
export const FLUX_CONTENT_MEDIA_TYPE = 'application/vnd.cncf.flux.content.v1.tar+gzip';
/** The OCI annotations `flux push artifact` sets from `--source` and `--revision`. */
export const SOURCE_ANNOTATION = 'org.opencontainers.image.source';
export const REVISION_ANNOTATION = 'org.opencontainers.image.revision';

/** What the source needs of the registry client (a fake in unit tests). */
export type ArtifactRegistry = Pick<RegistryClient, 'getDigest' | 'getManifest' | 'getBlob' | 'listTags'>;

export interface OciSourceOptions {
  client: ArtifactRegistry;
  /** Extracted artifacts live under `<cacheDir>/oci/`. */
  cacheDir: string;
  log: Logger;
  /** Largest layer downloaded; default 64 MiB (compressed). */
  maxLayerBytes?: number | undefined;
  /** Bounds of the extracted content; shared/archive's DEFAULT_TAR_LIMITS by default. */
  limits?: Partial<TarLimits> | undefined;
  /** Extracted artifacts kept per repository besides those in use; default 2. */
  keep?: number | undefined;
}

/**
 * The agent's OCI source. A poll is one HEAD of the manifest (a tag list first for a semver
 * range): an unchanged digest downloads nothing. A new digest costs the manifest and one layer,
 * extracted once into a directory named by repository and digest and shared by every deployment
 * that reads it. Errors reaching the registry are transient (the artifact may be pushed yet);
 * an artifact that is not what we can read is terminal. Neither gets past the fetch phase, so
 * neither prunes anything.
 */
export function createOciSource(options: OciSourceOptions): Source {
  const extracting = new Map<string, Promise<string>>();
  const leases = new Map<string, number>();
  /** Extracted directories per repository, oldest first. */
  const kept = new Map<string, string[]>();
  const keep = options.keep ?? 2;

  /** Removes released artifacts of `repo` beyond `keep`, oldest first; the newest always stays. */
  const prune = async (repo: string) => {
    const dirs = kept.get(repo) ?? [];
    while (dirs.length > keep) {
      const index = dirs.findIndex((d) => (leases.get(d) ?? 0) <= 0);
      if (index < 0 || index >= dirs.length - 1) break;
      const [old] = dirs.splice(index, 1);
      if (old === undefined) break;
      leases.delete(old);
      await rm(old, { recursive: true, force: true });
    }
  };

  return {
    async resolve(config, auth, signal) {
      const image = artifactImage(config);
      const access = registryAccess(config, auth);
      const ref = config.ociRef ?? { kind: 'tag', value: 'latest' };
      return fetching(async () => {
        let tag: string | undefined;
        let reference: string;
        if (ref.kind === 'semver') {
          const { tags } = await options.client.listTags(image, { access, signal });
          tag = pickSemverTag(tags, ref.value);
          if (tag === undefined) {
            throw new TidemarkError('ManifestNotFound', `no tag of ${image.name} matches the semver range ${JSON.stringify(ref.value)}`, {
              kind: 'transient',
              hint: 'push a matching tag, or check spec.ref.semver',
            });
          }
          reference = tag;
        } else {
          if (ref.kind === 'tag') tag = ref.value;
          reference = ref.value;
        }
        // A HEAD for a digest too: it proves these credentials may read the artifact before a
        // directory extracted for another deployment is handed out.
        const { digest } = await options.client.getDigest(image, reference, { access, signal });
        return artifactRevision(tag, digest);
      });
    },

    async checkout(config, auth, resolved, signal): Promise<Checkout> {
      const image = artifactImage(config);
      const repo = repositoryKey(image);
      const dir = join(options.cacheDir, 'oci', repo, resolved.sha.replace(':', '-'));
      let pending = extracting.get(dir);
      if (!pending) {
        pending = (async () => {
          if (await isDirectory(dir)) return dir;
          await pull(options, image, registryAccess(config, auth), resolved.sha, dir, signal);
          return dir;
        })();
        extracting.set(dir, pending);
        void pending.finally(() => extracting.delete(dir)).catch(() => undefined);
      }
      await pending;
      leases.set(dir, (leases.get(dir) ?? 0) + 1);
      const dirs = kept.get(repo) ?? [];
      if (!dirs.includes(dir)) {
        dirs.push(dir);
        kept.set(repo, dirs);
        // A new digest is the moment older ones may go: those still leased stay until a later one.
        await prune(repo).catch((err: unknown) => options.log.warn({ err: String(err), repo }, 'could not remove an old artifact'));
      }
      let released = false;
      return {
        dir,
        release: () => {
          if (released) return;
          released = true;
          leases.set(dir, (leases.get(dir) ?? 1) - 1);
        },
      };
    },
  };
}

/** Downloads the manifest and its content layer and extracts it, via a temporary directory renamed into place. */
async function pull(
  options: OciSourceOptions,
  image: ImageReference,
  access: RegistryAccess,
  digest: string,
  dir: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  const what = `the artifact ${image.name}@${digest}`;
  const { manifest } = await fetching(() => options.client.getManifest(image, digest, { access, signal }));
  if (manifest.kind !== 'image') {
    throw artifactInvalid(
      `${what} is an image index, not an artifact`,
      'push the manifests as one artifact (flux push artifact, or oras push)',
    );
  }
  const layer = contentLayer(manifest.layers, what);
  const maxBytes = Math.min(layer.size, options.maxLayerBytes ?? 64 * 1024 * 1024);
  if (layer.size > maxBytes) {
    throw new TidemarkError('ArchiveTooLarge', `${what}: its layer is ${layer.size} bytes, more than ${maxBytes}`, {
      kind: 'terminal',
      hint: 'push a smaller artifact',
    });
  }
  const { data } = await fetching(() => options.client.getBlob(image, layer.digest, { access, signal, maxBytes }));
  const temp = `${dir}.tmp-${process.pid}-${createHash('sha256').update(String(Math.random())).digest('hex').slice(0, 8)}`;
  await mkdir(join(dir, '..'), { recursive: true });
  try {
    await extractTar(data, temp, what, options.limits);
    signal?.throwIfAborted();
    await rename(temp, dir).catch(async (err: unknown) => {
      // Another process extracted it meanwhile: theirs is the same content (same digest).
      if (!(await isDirectory(dir))) throw err;
    });
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
  // Flux's push records where the content came from; said in the log, it ties a digest to a commit.
  const origin = manifest.annotations ?? {};
  options.log.info(
    {
      image: image.name,
      digest,
      layer: layer.digest,
      bytes: layer.size,
      source: origin[SOURCE_ANNOTATION],
      sourceRevision: origin[REVISION_ANNOTATION],
    },
    'artifact extracted',
  );
}

/**
 * Flux's content layer when there is one; else the only gzip tar layer (a plain `oras push` of a
 * tar.gz). Several candidates without Flux's type are ambiguous: refused rather than guessed.
 */
export function contentLayer(layers: readonly Descriptor[], what: string): Descriptor {
  const flux = layers.find((l) => l.mediaType === FLUX_CONTENT_MEDIA_TYPE);
  if (flux) return flux;
  const tars = layers.filter((l) => /(tar\+gzip|tar\.gzip|tar\+gz)$/.test(l.mediaType));
  if (tars.length === 1 && tars[0]) return tars[0];
  const types = layers.map((l) => l.mediaType).join(', ') || 'none';
  throw artifactInvalid(
    tars.length > 1
      ? `${what} has ${tars.length} tar.gz layers; which to deploy is ambiguous`
      : `${what} has no tar.gz layer (layers: ${types})`,
    `push the manifests with flux push artifact, or as one layer of type ${FLUX_CONTENT_MEDIA_TYPE}`,
  );
}

/** Flux's revision for an OCI source: `<tag>@sha256:<hex>`, or the digest alone for a digest ref. */
export function artifactRevision(tag: string | undefined, digest: string): ResolvedRevision {
  return { ref: tag ?? '', sha: digest, revision: tag ? `${tag}@${digest}` : digest, verified: true };
}

export function artifactImage(config: Pick<DeploymentConfig, 'url'>): ImageReference {
  return parseImageReference(config.url.replace(/^oci:\/\//, ''));
}

/**
 * The registry credentials for repoType oci, from a `kubernetes.io/dockerconfigjson` Secret (the
 * same Secrets the image updater reads), matched to the artifact's registry host. They travel as
 * a username and password, the shape Git credentials also have; none for the host: anonymous.
 */
export function ociCredentials(config: Pick<DeploymentConfig, 'url'>, secretData: Record<string, string>): GitAuth | undefined {
  if (secretData['.dockerconfigjson'] === undefined && secretData['.dockercfg'] === undefined) {
    throw terminal(
      'InvalidRegistryCredentials',
      'spec.secretRef: the Secret has no .dockerconfigjson key',
      'for repoType oci, name a kubernetes.io/dockerconfigjson Secret (kubectl create secret docker-registry)',
    );
  }
  const parsed = dockerConfigFromSecret({ data: secretData });
  return credentialsFor(parsed, artifactImage(config).registry);
}

function registryAccess(config: Pick<DeploymentConfig, 'insecure'>, auth: GitAuth | undefined): RegistryAccess {
  const access: RegistryAccess = { insecure: config.insecure };
  if (auth && 'username' in auth) access.credentials = { username: auth.username, password: auth.password };
  if (auth?.caFile !== undefined) access.tls = { ca: auth.caFile };
  return access;
}

function repositoryKey(image: ImageReference): string {
  const slug = image.name.replace(/[^a-zA-Z0-9.-]+/g, '_').slice(0, 80);
  return `${slug}-${createHash('sha256').update(image.name).digest('hex').slice(0, 12)}`;
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** Registry codes that a person must fix (the spec, the Secret, the artifact's size): kept terminal. */
const CONFIG_CODES: ReadonlySet<Reason> = new Set<Reason>([
  'InvalidImageReference',
  'InvalidRegistryCredentials',
  'InvalidRegistryTLS',
  'RegistryResponseTooLarge',
]);

/**
 * Runs a registry call; its terminal failures (not found, unauthorized, forbidden, a bad reply)
 * become transient with the same reason and hint: an artifact that cannot be fetched may be
 * pushed, or access granted, without a change to the deployment.
 */
async function fetching<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!isTidemarkError(err) || err.kind === 'transient' || CONFIG_CODES.has(err.code)) throw err;
    throw new TidemarkError(err.code, err.message, { kind: 'transient', hint: err.hint, cause: err.cause });
  }
}

function artifactInvalid(message: string, hint: string): TidemarkError {
  return terminal('ArtifactInvalid', message, hint);
}
