import { createHash } from 'node:crypto';
import { request } from 'undici';
import { extractTar } from '../../shared/archive/index.ts';
import { TidemarkError, transient } from '../../shared/errors/index.ts';
import { isObject } from '../../shared/kube/object.ts';
import { compareVersions, parseRange, parseTagVersion, satisfies, type Version } from '../../shared/semver/index.ts';
import {
  DEFAULT_CHART_REPOSITORY_LIMITS,
  type ChartReference,
  type ChartRepositoryLimits,
  type RepositoryAuth,
} from './chart-repository.ts';

/**
 * Charts from an OCI registry (`oci://host/path`, the chart's name appended, as `helm push`
 * stores it): tags listed (paged, same origin only), the newest in the semver range (a tag's `_`
 * is helm's `+`), the manifest's one chart layer downloaded within the size limit and checked
 * against its digest, then extracted by shared/archive. HTTPS, except plain HTTP to loopback
 * registries (as `helm --plain-http` for a local one). Basic auth or the registry token flow with
 * the Secret's username and password; credentials never leave the registry's origin (a blob
 * redirected to storage elsewhere is fetched without them). Failures to fetch are transient.
 */

export const HELM_CHART_LAYER = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';
const MANIFEST_TYPES = 'application/vnd.oci.image.manifest.v1+json';
const MAX_TAG_PAGES = 20;
const MAX_JSON_BYTES = 4 * 1024 * 1024;

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

export async function fetchOciChart(
  ref: ChartReference,
  target: string,
  options: { auth?: RepositoryAuth | undefined; signal?: AbortSignal | undefined; limits?: Partial<ChartRepositoryLimits> } = {},
): Promise<{ version: string; dir: string; digest: string }> {
  const limits = { ...DEFAULT_CHART_REPOSITORY_LIMITS, ...options.limits };
  const { base, path } = ociRepository(ref);
  const where = `oci://${base.host}/${path}`;
  const client = new RegistryClient(base, options.auth, options.signal, limits.timeoutMs);

  const tags: string[] = [];
  let next: URL | undefined = new URL(`/v2/${path}/tags/list?n=1000`, base);
  for (let page = 0; next && page < MAX_TAG_PAGES; page++) {
    const res = await client.get(next, 'application/json', MAX_JSON_BYTES);
    const body: unknown = JSON.parse(res.body.toString('utf8'));
    if (isObject(body) && Array.isArray(body.tags)) tags.push(...body.tags.filter((t): t is string => typeof t === 'string'));
    next = nextPage(res.link, base);
  }
  const tag = chooseTag(tags, ref.version, where);

  const manifestRes = await client.get(new URL(`/v2/${path}/manifests/${encodeURIComponent(tag)}`, base), MANIFEST_TYPES, MAX_JSON_BYTES);
  const manifest: unknown = JSON.parse(manifestRes.body.toString('utf8'));
  const layers = isObject(manifest) && Array.isArray(manifest.layers) ? manifest.layers : [];
  const layer: unknown = layers.find((l: unknown) => isObject(l) && l.mediaType === HELM_CHART_LAYER);
  if (!isObject(layer) || typeof layer.digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(layer.digest)) {
    throw new TidemarkError('ArchiveInvalid', `${where}:${tag} is not a Helm chart (no ${HELM_CHART_LAYER} layer)`, {
      kind: 'terminal',
      hint: 'push the chart with helm push',
    });
  }
  if (typeof layer.size === 'number' && layer.size > limits.maxChartBytes) {
    throw tooLarge(`${where}:${tag} has a chart layer of ${layer.size} bytes, more than ${limits.maxChartBytes}`);
  }
  const blob = await client.get(new URL(`/v2/${path}/blobs/${layer.digest}`, base), '*/*', limits.maxChartBytes, 3);
  const got = `sha256:${createHash('sha256').update(blob.body).digest('hex')}`;
  if (got !== layer.digest) throw fetchError(`${where}:${tag}: the chart layer has digest ${got}, not ${layer.digest}`);
  const result = await extractTar(blob.body, target, `${ref.name}-${tag}.tgz`, limits.tar);
  const tops = new Set(result.entries.map((e) => e.path.split('/')[0]));
  const top = [...tops][0];
  if (tops.size !== 1 || top === undefined || !result.entries.some((e) => e.path === `${top}/Chart.yaml`)) {
    throw new TidemarkError('ArchiveInvalid', `${where}:${tag} is not a chart archive (one directory with Chart.yaml)`, {
      kind: 'terminal',
      hint: 'push the chart with helm push',
    });
  }
  return { version: tag.replace(/_/g, '+'), dir: `${target}/${top}`, digest: layer.digest };
}

/** The `Link: <...>; rel="next"` of a tag page, only on the registry's own origin. */
function nextPage(link: string | undefined, base: URL): URL | undefined {
  const match = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
  if (!match?.[1]) return undefined;
  const url = new URL(match[1], base);
  return url.origin === base.origin ? url : undefined;
}

class RegistryClient {
  private authorization: string | undefined;
  private readonly base: URL;
  private readonly auth: RepositoryAuth | undefined;
  private readonly signal: AbortSignal | undefined;
  private readonly timeoutMs: number;

  constructor(base: URL, auth: RepositoryAuth | undefined, signal: AbortSignal | undefined, timeoutMs: number) {
    this.base = base;
    this.auth = auth;
    this.signal = signal;
    this.timeoutMs = timeoutMs;
  }

  async get(url: URL, accept: string, maxBytes: number, redirects = 0): Promise<{ body: Buffer; link: string | undefined }> {
    let res = await this.send(url, accept, maxBytes);
    if (res.status === 401 && res.challenge) {
      await this.answer(res.challenge, url);
      res = await this.send(url, accept, maxBytes);
    }
    for (let hop = 0; res.status >= 300 && res.status < 400 && res.location && hop < redirects; hop++) {
      url = new URL(res.location, url);
      res = await this.send(url, accept, maxBytes);
    }
    if (res.status !== 200) {
      const why = res.status === 401 || res.status === 403 ? ' (check spec.helm.chart.secretRef)' : '';
      throw fetchError(`GET ${url.href}: HTTP ${res.status}${why}`);
    }
    return { body: res.body, link: res.link };
  }

  private async answer(challenge: string, url: URL): Promise<void> {
    const basic = () => `Basic ${Buffer.from(`${this.auth!.username}:${this.auth!.password}`).toString('base64')}`;
    if (/^basic\b/i.test(challenge)) {
      if (!this.auth) throw fetchError(`GET ${url.href}: the registry asks for credentials (set spec.helm.chart.secretRef)`);
      this.authorization = basic();
      return;
    }
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!.toLowerCase(), m[2]!]));
    if (!/^bearer\b/i.test(challenge) || !params.realm)
      throw fetchError(`GET ${url.href}: unsupported challenge ${challenge.slice(0, 100)}`);
    const realm = new URL(params.realm);
    if (realm.protocol !== 'https:' && !(realm.protocol === 'http:' && this.base.protocol === 'http:')) {
      throw fetchError(`the registry's token realm ${realm.href} is not HTTPS`);
    }
    if (params.service) realm.searchParams.set('service', params.service);
    if (params.scope) realm.searchParams.set('scope', params.scope);
    const headers: Record<string, string> = {};
    if (this.auth) headers.authorization = basic();
    const res = await bounded(realm, headers, MAX_JSON_BYTES, this.timeoutMs, this.signal);
    if (res.status !== 200)
      throw fetchError(`token from ${realm.origin}${realm.pathname}: HTTP ${res.status} (check spec.helm.chart.secretRef)`);
    const body: unknown = JSON.parse(res.body.toString('utf8'));
    const token = isObject(body) ? (body.token ?? body.access_token) : undefined;
    if (typeof token !== 'string' || token === '') throw fetchError(`token from ${realm.origin}${realm.pathname}: no token in the answer`);
    this.authorization = `Bearer ${token}`;
  }

  private send(url: URL, accept: string, maxBytes: number) {
    const headers: Record<string, string> = { accept };
    // Credentials stay with the registry: a blob redirected to storage elsewhere goes without them.
    if (this.authorization && url.origin === this.base.origin) headers.authorization = this.authorization;
    return bounded(url, headers, maxBytes, this.timeoutMs, this.signal);
  }
}

async function bounded(
  url: URL,
  headers: Record<string, string>,
  maxBytes: number,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<{ status: number; body: Buffer; challenge?: string; location?: string; link: string | undefined }> {
  let res;
  try {
    res = await request(url, {
      method: 'GET',
      headers: { 'user-agent': 'tidemark', ...headers },
      signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])]),
    });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw fetchError(`GET ${url.href}: ${(err as Error).message}`, err);
  }
  const header = (name: string) => {
    const v = res.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  if (res.statusCode !== 200) {
    await res.body.dump().catch(() => undefined);
    const challenge = header('www-authenticate');
    const location = header('location');
    return {
      status: res.statusCode,
      body: Buffer.alloc(0),
      ...(challenge ? { challenge } : {}),
      ...(location ? { location } : {}),
      link: undefined,
    };
  }
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > maxBytes) {
      res.body.destroy();
      throw tooLarge(`${url.href} is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return { status: 200, body: Buffer.concat(chunks, length), link: header('link') };
}

function tooLarge(message: string): TidemarkError {
  return new TidemarkError('ArchiveTooLarge', message, { kind: 'terminal', hint: 'publish a smaller chart' });
}

function fetchError(message: string, cause?: unknown): TidemarkError {
  return transient('HelmRepositoryFailed', message, cause);
}
