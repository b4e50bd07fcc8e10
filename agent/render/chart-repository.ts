import { createHash } from 'node:crypto';
import { extractTar, type TarLimits } from '../../shared/archive/index.ts';
import { TidemarkError, transient } from '../../shared/errors/index.ts';
import { HttpBodyTooLarge, HttpPool } from '../../shared/http/client.ts';
import { credentialsFingerprint } from '../../shared/git/credentials.ts';
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

/** What a conditional GET sends back: the validators of the copy we hold. */
interface Validators {
  etag?: string | undefined;
  lastModified?: string | undefined;
}

/** An archive's digest as we last downloaded it, and the index (by content hash) it was last confirmed under. */
interface ArchiveMemo extends Validators {
  digest: string;
  index: string;
}

/** What one index.yaml answer (one URL, one set of credentials) leaves for the next poll; never the index itself. */
interface IndexMemo extends Validators {
  /** sha256 of the index bytes: an index sent again unchanged, without validators, needs no parse either. */
  hash: string;
  /** The version each reference (name and range) chose in this index. */
  choices: Map<string, ChosenChart>;
  /** By archive URL: the digests of archives the index gives none for. */
  archives: Map<string, ArchiveMemo>;
}

/**
 * What chart polls remember between runs, per index URL and credentials: the index's validators
 * (ETag, Last-Modified) for a conditional GET, the version each reference chose, and the digest
 * of each downloaded archive the index gives no digest for. Keyed by a fingerprint of the
 * credentials, so a poll with other (or no) credentials starts from nothing and the repository
 * judges them afresh; every poll still sends its own credentials, and a 304 is the repository's
 * word that they may read the index. Bounded: the least recently used URLs go first.
 */
export class ChartIndexCache {
  private readonly memos = new Map<string, IndexMemo>();
  private readonly maxEntries: number;

  constructor(maxEntries = 128) {
    this.maxEntries = maxEntries;
  }

  get(key: string): IndexMemo | undefined {
    const memo = this.memos.get(key);
    if (memo === undefined) return undefined;
    this.memos.delete(key);
    this.memos.set(key, memo);
    return memo;
  }

  set(key: string, memo: IndexMemo): void {
    this.memos.delete(key);
    this.memos.set(key, memo);
    for (const oldest of this.memos.keys()) {
      if (this.memos.size <= this.maxEntries) break;
      this.memos.delete(oldest);
    }
  }
}

/** Archive digests remembered per index: enough for every version a few deployments pin, never a whole repository. */
const MAX_ARCHIVE_MEMOS = 32;
/** References (name and range) remembered per index. */
const MAX_CHOICES = 64;

export interface FetchChartOptions {
  auth?: RepositoryAuth | undefined;
  signal?: AbortSignal | undefined;
  limits?: Partial<ChartRepositoryLimits>;
  /** Remembered answers: with it, an unchanged index and a known archive cost one 304 and no download. */
  cache?: ChartIndexCache | undefined;
  /** Whether the chart of this digest (`sha256:<hex>`) is already extracted: then it is not downloaded. */
  extracted?: ((digest: string) => Promise<boolean>) | undefined;
}

/**
 * Chooses the chart version, and downloads and extracts it into `target` (which must not exist)
 * unless `extracted` says its digest already is: then `dir` is undefined. The digest is the
 * index's when it gives one; otherwise the one remembered from the last download of that archive
 * while the index stays unchanged, or confirmed by a conditional GET of the archive once it has
 * changed (a 304 downloads nothing), or else taken from the bytes.
 */
export async function pullChart(
  ref: ChartReference,
  target: string,
  options: FetchChartOptions = {},
): Promise<{ version: string; dir: string | undefined; digest: string }> {
  const limits = { ...DEFAULT_CHART_REPOSITORY_LIMITS, ...options.limits };
  const base = new URL(ref.repository.endsWith('/') ? ref.repository : `${ref.repository}/`);
  if (base.protocol !== 'https:' && base.protocol !== 'http:') throw fetchError(`${ref.repository} is not an http(s) URL`);
  const indexUrl = new URL('index.yaml', base);
  const key = `${indexUrl.href}\n${credentialsFingerprint(options.auth)}`;
  const { memo, chosen } = await readIndex(indexUrl, base, ref, key, limits, options);
  const chartUrl = new URL(chosen.url, base);
  if (chartUrl.protocol !== 'https:' && chartUrl.protocol !== 'http:')
    throw fetchError(`the index names ${chosen.url}, not an http(s) URL`);

  const known = chosen.digest === undefined ? memo?.archives.get(chartUrl.href) : undefined;
  if (chosen.digest !== undefined && (await options.extracted?.(`sha256:${chosen.digest}`))) {
    return { version: chosen.version, dir: undefined, digest: `sha256:${chosen.digest}` };
  }
  const reusable = known !== undefined && (await options.extracted?.(known.digest)) === true;
  if (reusable && memo !== undefined && known.index === memo.hash) return { version: chosen.version, dir: undefined, digest: known.digest };

  const answer = await download(chartUrl, base, limits.maxChartBytes, limits.timeoutMs, options, reusable ? known : undefined);
  if (answer.body === undefined) {
    // The archive answered 304 to the validators of the copy whose digest we hold.
    if (!known || !memo) throw fetchError(`GET ${chartUrl.href}: HTTP 304 to an unconditional request`);
    remember(memo.archives, chartUrl.href, { ...known, index: memo.hash }, MAX_ARCHIVE_MEMOS);
    return { version: chosen.version, dir: undefined, digest: known.digest };
  }
  const archive = answer.body;
  const got = createHash('sha256').update(archive).digest('hex');
  if (chosen.digest) {
    if (got !== chosen.digest) throw fetchError(`${chartUrl.href} has sha256 ${got}, but the index says ${chosen.digest}`);
  } else if (memo) {
    remember(memo.archives, chartUrl.href, { digest: `sha256:${got}`, index: memo.hash, ...answer.validators }, MAX_ARCHIVE_MEMOS);
  }
  if (await options.extracted?.(`sha256:${got}`)) return { version: chosen.version, dir: undefined, digest: `sha256:${got}` };
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

/**
 * Downloads and extracts the chart into `target` (which must not exist). Returns the chosen
 * version and the directory of the chart inside `target` (a chart archive holds one top directory).
 */
export async function fetchChart(
  ref: ChartReference,
  target: string,
  options: Omit<FetchChartOptions, 'extracted'> = {},
): Promise<{ version: string; dir: string; digest: string }> {
  const got = await pullChart(ref, target, options);
  // Without `extracted`, nothing counts as extracted already: pullChart always extracts.
  if (got.dir === undefined) throw new TidemarkError('InternalError', `${ref.name} ${got.version} was not extracted`, { kind: 'terminal' });
  return { version: got.version, dir: got.dir, digest: got.digest };
}

/**
 * The chosen chart from index.yaml: a conditional GET with what `cache` holds for `key`; an
 * unchanged index (304, or the same bytes) answers from the choices remembered for it.
 */
async function readIndex(
  indexUrl: URL,
  base: URL,
  ref: ChartReference,
  key: string,
  limits: ChartRepositoryLimits,
  options: FetchChartOptions,
): Promise<{ memo: IndexMemo | undefined; chosen: ChosenChart }> {
  const choiceKey = `${ref.name}\n${ref.version}`;
  const held = options.cache?.get(key);
  // Validators only when the memo can answer this reference: a 304 would leave us without the index.
  const conditional = held?.choices.has(choiceKey) ? held : undefined;
  const answer = await download(indexUrl, base, limits.maxIndexBytes, limits.timeoutMs, options, conditional);
  if (answer.body === undefined) {
    const chosen = conditional?.choices.get(choiceKey);
    if (!conditional || !chosen) throw fetchError(`GET ${indexUrl.href}: HTTP 304 to an unconditional request`);
    return { memo: conditional, chosen };
  }
  const hash = createHash('sha256').update(answer.body).digest('hex');
  const memo: IndexMemo =
    held?.hash === hash
      ? { ...held, ...answer.validators }
      : { hash, ...answer.validators, choices: new Map(), archives: held?.archives ?? new Map<string, ArchiveMemo>() };
  const chosen = memo.choices.get(choiceKey) ?? chooseChartVersion(answer.body.toString('utf8'), ref);
  remember(memo.choices, choiceKey, chosen, MAX_CHOICES);
  options.cache?.set(key, memo);
  return { memo: options.cache ? memo : undefined, chosen };
}

/** Sets `key` as the newest entry of `map`, dropping the oldest beyond `max`. */
function remember<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  for (const oldest of map.keys()) {
    if (map.size <= max) break;
    map.delete(oldest);
  }
}

/** A GET within `maxBytes`; with `held` validators, a 304 comes back as no body. */
async function download(
  url: URL,
  base: URL,
  maxBytes: number,
  timeoutMs: number,
  options: { auth?: RepositoryAuth | undefined; signal?: AbortSignal | undefined },
  held?: Validators,
): Promise<{ body: Buffer; validators: Validators } | { body: undefined }> {
  const headers: Record<string, string> = { accept: '*/*', 'user-agent': 'tidemark' };
  // helm's default: credentials for the repository's own origin, never for a chart hosted elsewhere.
  if (options.auth && url.origin === base.origin) {
    headers.authorization = `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`;
  }
  if (held?.etag !== undefined) headers['if-none-match'] = held.etag;
  if (held?.lastModified !== undefined) headers['if-modified-since'] = held.lastModified;
  const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(options.signal ? [options.signal] : [])]);
  let res;
  try {
    res = await (pool ??= new HttpPool()).request(url.href, { method: 'GET', headers, signal });
  } catch (err) {
    if (options.signal?.aborted) throw err;
    throw fetchError(`GET ${url.href}: ${(err as Error).message}`, err);
  }
  if (res.statusCode === 304 && held !== undefined && (held.etag !== undefined || held.lastModified !== undefined)) {
    await res.dump().catch(() => undefined);
    return { body: undefined };
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
  let body: Buffer;
  try {
    body = await res.bytes(maxBytes);
  } catch (err) {
    if (err instanceof HttpBodyTooLarge) throw tooLarge(url, maxBytes);
    if (options.signal?.aborted) throw err;
    throw fetchError(`GET ${url.href}: ${(err as Error).message}`, err);
  }
  return { body, validators: { etag: header(res.headers.etag), lastModified: header(res.headers['last-modified']) } };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
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
