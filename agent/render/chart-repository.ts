import { createHash } from 'node:crypto';
import { extractTar, type TarLimits } from '../../shared/archive/index.ts';
import { TidemarkError, transient } from '../../shared/errors/index.ts';
import { HttpBodyTooLarge, HttpPool } from '../../shared/http/client.ts';
import { isObject } from '../../shared/kube/object.ts';
import { compareVersions, parseRange, parseTagVersion, satisfies, type Version } from '../../shared/semver/index.ts';
import { parseYaml } from './yaml.ts';

/**
 * Charts from a Helm repository: `index.yaml` over HTTP(S), the newest version in a semver range
 * (shared/semver, Flux's meaning), the `.tgz` downloaded within a size limit, checked against the
 * index's digest, and extracted by the bounded extractor (shared/archive) — never by helm's
 * downloader. Credentials go to the repository's own origin only (helm's default without
 * --pass-credentials); redirects are not followed. A repository that cannot be read, or has no
 * matching version yet, is transient (retried); an archive that is not a chart is terminal.
 */

export interface ChartReference {
  /** The repository's base URL (where index.yaml lives). */
  repository: string;
  name: string;
  /** A semver range; `*` for the newest release. */
  version: string;
}

export interface RepositoryAuth {
  username: string;
  password: string;
}

export interface ChartRepositoryLimits {
  /** Bytes of index.yaml. */
  maxIndexBytes: number;
  /** Bytes of the chart archive as downloaded. */
  maxChartBytes: number;
  /** The extracted chart. */
  tar: Partial<TarLimits>;
  timeoutMs: number;
}

export const DEFAULT_CHART_REPOSITORY_LIMITS: Readonly<ChartRepositoryLimits> = {
  maxIndexBytes: 32 * 1024 * 1024,
  maxChartBytes: 16 * 1024 * 1024,
  tar: { maxFiles: 10_000, maxBytes: 64 * 1024 * 1024 },
  timeoutMs: 60_000,
};

export interface ChosenChart {
  version: string;
  url: string;
  /** sha256 hex from the index, when it gives one. */
  digest: string | undefined;
}

/** The newest version of `name` in the index that the range admits. Pure. */
export function chooseChartVersion(indexText: string, ref: ChartReference): ChosenChart {
  const where = `${ref.repository} index.yaml`;
  const parsed = parseYaml(indexText);
  if (!parsed.ok) throw fetchError(`${where} does not parse: ${parsed.error.message}`);
  const index = parsed.documents[0]?.value;
  if (!isObject(index) || !isObject(index.entries)) throw fetchError(`${where} has no entries`);
  const entries = index.entries[ref.name];
  if (!Array.isArray(entries) || entries.length === 0) throw fetchError(`${where} has no chart named ${JSON.stringify(ref.name)}`);
  const range = parseRange(ref.version, 'spec.helm.chart.version');
  let best: { version: Version; chart: ChosenChart } | undefined;
  for (const entry of entries) {
    if (!isObject(entry) || typeof entry.version !== 'string' || !Array.isArray(entry.urls)) continue;
    const version = parseTagVersion(entry.version);
    const url: unknown = entry.urls[0];
    if (!version || typeof url !== 'string' || !satisfies(range, version)) continue;
    if (best && compareVersions(version, best.version) <= 0) continue;
    best = {
      version,
      chart: { version: entry.version, url, digest: typeof entry.digest === 'string' ? entry.digest.toLowerCase() : undefined },
    };
  }
  if (!best) throw fetchError(`${where}: no version of ${ref.name} matches ${JSON.stringify(ref.version)}`);
  return best.chart;
}

/**
 * Downloads and extracts the chart into `target` (which must not exist). Returns the chosen
 * version and the directory of the chart inside `target` (a chart archive holds one top directory).
 */
export async function fetchChart(
  ref: ChartReference,
  target: string,
  options: { auth?: RepositoryAuth | undefined; signal?: AbortSignal | undefined; limits?: Partial<ChartRepositoryLimits> } = {},
): Promise<{ version: string; dir: string; digest: string }> {
  const limits = { ...DEFAULT_CHART_REPOSITORY_LIMITS, ...options.limits };
  const base = new URL(ref.repository.endsWith('/') ? ref.repository : `${ref.repository}/`);
  if (base.protocol !== 'https:' && base.protocol !== 'http:') throw fetchError(`${ref.repository} is not an http(s) URL`);
  const indexUrl = new URL('index.yaml', base);
  const indexText = (await download(indexUrl, base, limits.maxIndexBytes, limits.timeoutMs, options)).toString('utf8');
  const chosen = chooseChartVersion(indexText, ref);
  const chartUrl = new URL(chosen.url, base);
  if (chartUrl.protocol !== 'https:' && chartUrl.protocol !== 'http:')
    throw fetchError(`the index names ${chosen.url}, not an http(s) URL`);
  const archive = await download(chartUrl, base, limits.maxChartBytes, limits.timeoutMs, options);
  const got = createHash('sha256').update(archive).digest('hex');
  if (chosen.digest) {
    if (got !== chosen.digest) throw fetchError(`${chartUrl.href} has sha256 ${got}, but the index says ${chosen.digest}`);
  }
  const result = await extractTar(archive, target, `${ref.name}-${chosen.version}.tgz`, limits.tar);
  const tops = new Set(result.entries.map((e) => e.path.split('/')[0]));
  const top = [...tops][0];
  if (tops.size !== 1 || top === undefined || !result.entries.some((e) => e.path === `${top}/Chart.yaml`)) {
    throw new TidemarkError('ArchiveInvalid', `${chartUrl.href} is not a chart archive (one directory with Chart.yaml)`, {
      kind: 'terminal',
      hint: 'publish the chart with helm package',
    });
  }
  return { version: chosen.version, dir: `${target}/${top}`, digest: `sha256:${got}` };
}

/** Chart repositories are public HTTPS or plain HTTP: one pool with the default roots, made on the first download. */
let pool: HttpPool | undefined;

async function download(
  url: URL,
  base: URL,
  maxBytes: number,
  timeoutMs: number,
  options: { auth?: RepositoryAuth | undefined; signal?: AbortSignal | undefined },
): Promise<Buffer> {
  const headers: Record<string, string> = { accept: '*/*', 'user-agent': 'tidemark' };
  // helm's default: credentials for the repository's own origin, never for a chart hosted elsewhere.
  if (options.auth && url.origin === base.origin) {
    headers.authorization = `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`;
  }
  const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])]);
  let res;
  try {
    res = await (pool ??= new HttpPool()).request(url.href, { method: 'GET', headers, signal });
  } catch (err) {
    if (options.signal?.aborted) throw err;
    throw fetchError(`GET ${url.href}: ${(err as Error).message}`, err);
  }
  if (res.statusCode !== 200) {
    await res.dump().catch(() => undefined);
    const why = res.statusCode === 401 || res.statusCode === 403 ? ' (check spec.helm.chart.secretRef)' : '';
    throw fetchError(`GET ${url.href}: HTTP ${res.statusCode}${why}`);
  }
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.dump(0).catch(() => undefined);
    throw tooLarge(url, maxBytes);
  }
  try {
    return await res.bytes(maxBytes);
  } catch (err) {
    if (err instanceof HttpBodyTooLarge) throw tooLarge(url, maxBytes);
    if (options.signal?.aborted) throw err;
    throw fetchError(`GET ${url.href}: ${(err as Error).message}`, err);
  }
}

function tooLarge(url: URL, maxBytes: number): TidemarkError {
  return new TidemarkError('ArchiveTooLarge', `${url.href} is larger than ${maxBytes} bytes`, {
    kind: 'terminal',
    hint: 'publish a smaller chart',
  });
}

function fetchError(message: string, cause?: unknown): TidemarkError {
  return transient('HelmRepositoryFailed', message, cause);
}
