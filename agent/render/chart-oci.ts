import { extractTar } from '../../shared/archive/index.ts';
import { isTidemarkError, TidemarkError, transient, type Reason } from '../../shared/errors/index.ts';
import type { RegistryAccess, RegistryClient } from '../../shared/registry/index.ts';
// The module, not the index: the index loads the registry client (agent/lazy-registry.ts).
import { parseImageReference } from '../../shared/registry/reference.ts';
import { compareVersions, parseRange, parseTagVersion, satisfies, type Version } from '../../shared/semver/index.ts';
import {
  DEFAULT_CHART_REPOSITORY_LIMITS,
  type ChartReference,
  type ChartRepositoryLimits,
  type RepositoryAuth,
} from './chart-repository.ts';

/**
 * Charts from an OCI registry (`oci://host/path`, the chart's name appended, as `helm push`
 * stores it), through the shared registry client (shared/registry: auth flow, realm guard,
 * paging, Retry-After, digests, redirects without credentials): the newest tag in the semver range
 * (a tag's `_` is helm's `+`), the manifest's one chart layer downloaded within the size limit,
 * then extracted by shared/archive. HTTPS, except plain HTTP to loopback registries (as
 * `helm --plain-http` for a local one). Failures to fetch are transient.
 */

export const HELM_CHART_LAYER = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';

export function ociRepository(ref: ChartReference): { base: URL; path: string } {
  const url = new URL(ref.repository.replace(/^oci:\/\//, 'https://'));
  const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
  const base = new URL(`${loopback ? 'http' : 'https'}://${url.host}`);
  const path = `${url.pathname.replace(/^\/+|\/+$/g, '')}/${ref.name}`.replace(/^\//, '');
  return { base, path };
}

/** The newest tag the range admits; tags that are no version are ignored. Pure. */
export function chooseTag(tags: readonly string[], range: string, where: string): string {
  const parsed = parseRange(range, 'spec.helm.chart.version');
  let best: { version: Version; tag: string } | undefined;
  for (const tag of tags) {
    const version = parseTagVersion(tag.replace(/_/g, '+'));
    if (!version || !satisfies(parsed, version)) continue;
    if (!best || compareVersions(version, best.version) > 0) best = { version, tag };
  }
  if (!best) throw fetchError(`${where}: no tag matches ${JSON.stringify(range)}`);
  return best.tag;
}

/** What a chart pull needs of the shared registry client (shared/registry), so tests can pass their own. */
export type ChartRegistry = Pick<RegistryClient, 'listTags' | 'getManifest' | 'getBlob'>;

export interface FetchOciChartOptions {
  registry: ChartRegistry;
  auth?: RepositoryAuth | undefined;
  signal?: AbortSignal | undefined;
  limits?: Partial<ChartRepositoryLimits>;
  /** Whether the chart layer of this digest is already extracted: then it is not downloaded. */
  extracted?: ((digest: string) => Promise<boolean>) | undefined;
}

export async function fetchOciChart(
  ref: ChartReference,
  target: string,
  options: Omit<FetchOciChartOptions, 'extracted'>,
): Promise<{ version: string; dir: string; digest: string }> {
  const got = await pullOciChart(ref, target, options);
  // Without `extracted`, nothing counts as extracted already: pullOciChart always extracts.
  if (got.dir === undefined) throw new TidemarkError('InternalError', `${ref.name} ${got.version} was not extracted`, { kind: 'terminal' });
  return { version: got.version, dir: got.dir, digest: got.digest };
}

/**
 * The newest chart in the range, extracted into `target` unless `extracted` says its layer digest
 * already is (then `dir` is undefined): a poll of an unchanged chart costs the tag list and the
 * manifest, which still prove these credentials may read it, and no layer download.
 */
export async function pullOciChart(
  ref: ChartReference,
  target: string,
  options: FetchOciChartOptions,
): Promise<{ version: string; dir: string | undefined; digest: string }> {
  const limits = { ...DEFAULT_CHART_REPOSITORY_LIMITS, ...options.limits };
  const { base, path } = ociRepository(ref);
  const where = `oci://${base.host}/${path}`;
  const image = parseImageReference(`${base.host}/${path}`);
  const access: RegistryAccess = { insecure: base.protocol === 'http:' };
  if (options.auth) access.credentials = { username: options.auth.username, password: options.auth.password };
  const { signal } = options;

  const { tags } = await fetching(() => options.registry.listTags(image, { access, signal }));
  const tag = chooseTag(tags, ref.version, where);
  const { manifest } = await fetching(() => options.registry.getManifest(image, tag, { access, signal }));
  const layer = manifest.kind === 'image' ? manifest.layers.find((l) => l.mediaType === HELM_CHART_LAYER) : undefined;
  if (!layer) {
    throw new TidemarkError('ArchiveInvalid', `${where}:${tag} is not a Helm chart (no ${HELM_CHART_LAYER} layer)`, {
      kind: 'terminal',
      hint: 'push the chart with helm push',
    });
  }
  if (layer.size > limits.maxChartBytes) {
    throw new TidemarkError(
      'ArchiveTooLarge',
      `${where}:${tag} has a chart layer of ${layer.size} bytes, more than ${limits.maxChartBytes}`,
      {
        kind: 'terminal',
        hint: 'publish a smaller chart',
      },
    );
  }
  const version = tag.replace(/_/g, '+');
  if (await options.extracted?.(layer.digest)) return { version, dir: undefined, digest: layer.digest };
  // getBlob checks the bytes against the digest, and leaves the credentials behind on a redirect to storage.
  const { data } = await fetching(() => options.registry.getBlob(image, layer.digest, { access, signal, maxBytes: layer.size }));
  const result = await extractTar(data, target, `${ref.name}-${tag}.tgz`, limits.tar);
  const tops = new Set(result.entries.map((e) => e.path.split('/')[0]));
  const top = [...tops][0];
  if (tops.size !== 1 || top === undefined || !result.entries.some((e) => e.path === `${top}/Chart.yaml`)) {
    throw new TidemarkError('ArchiveInvalid', `${where}:${tag} is not a chart archive (one directory with Chart.yaml)`, {
      kind: 'terminal',
      hint: 'push the chart with helm push',
    });
  }
  return { version, dir: `${target}/${top}`, digest: layer.digest };
}

/** A registry that cannot be read now is retried (the brief of every source); a malformed spec is not. */
const CONFIG_CODES: ReadonlySet<Reason> = new Set<Reason>(['InvalidImageReference', 'InvalidRegistryCredentials', 'InvalidRegistryTLS']);

async function fetching<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (!isTidemarkError(err) || err.kind === 'transient' || CONFIG_CODES.has(err.code)) throw err;
    throw new TidemarkError(err.code, err.message, { kind: 'transient', hint: err.hint, cause: err.cause });
  }
}

function fetchError(message: string, cause?: unknown): TidemarkError {
  return transient('HelmRepositoryFailed', message, cause);
}
