import { createHash } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { terminal, transient } from '../shared/errors/index.ts';
import type { Logger } from '../shared/log/index.ts';
import type { DeploymentConfig } from '../shared/spec/index.ts';
import { ChartIndexCache, pullChart, type ChartReference, type RepositoryAuth } from './render/chart-repository.ts';
import { pullOciChart, type ChartRegistry } from './render/chart-oci.ts';
import type { Checkout, GitAuth, ResolvedRevision, Source } from './types.ts';

export interface HelmSourceOptions {
  /** The shared registry client, for oci:// chart repositories. */
  registry: ChartRegistry;
  /** Extracted charts live under `<cacheDir>/helm/`. */
  cacheDir: string;
  log: Logger;
  /** Extracted versions kept per chart besides those in use; default 3. */
  keep?: number | undefined;
  /**
   * A released version resolved this recently is kept even beyond `keep`: other deployments on
   * this agent may use other versions of the chart and come back at their next poll. Default 1 h.
   */
  minIdleMs?: number | undefined;
  /** The clock of `minIdleMs` (milliseconds); default Date.now. */
  now?: (() => number) | undefined;
}

/**
 * repoType helm: the chart alone, from a Helm repository or an OCI registry (Argo CD's Helm
 * source). The revision is `<chart version>@sha256:<digest of the chart archive>`, so a new
 * version — or the same version republished — is a new revision: hooks run, status and history
 * show it. A poll reads the index with a conditional GET (its ETag and Last-Modified remembered
 * per URL and credentials, chart-repository.ts) or the registry's tags and manifest, and
 * downloads the archive only when its digest is not extracted yet; an index without digests
 * costs one download per archive, its digest remembered after. Extracted charts are kept per
 * chart, the few most recently resolved and those in use; older ones are removed. Failures to
 * reach the repository are transient (chart-repository.ts, chart-oci.ts) and stop the run before
 * anything is pruned.
 */
export function createHelmSource(options: HelmSourceOptions): Source {
  const indexes = new ChartIndexCache();
  const keep = Math.max(1, options.keep ?? 3);
  const minIdleMs = options.minIdleMs ?? 60 * 60_000;
  const now = options.now ?? Date.now;
  /** When each extracted directory was last resolved (its mtime for one found on disk). */
  const resolvedAt = new Map<string, number>();
  /** Checkouts in use per extracted directory. */
  const leases = new Map<string, number>();
  /** Extracted directories per chart, least recently resolved first; read from disk on first use. */
  const kept = new Map<string, string[]>();

  const keptIn = async (base: string): Promise<string[]> => {
    let dirs = kept.get(base);
    if (dirs) return dirs;
    // Charts a previous process extracted are swept too, oldest first.
    const found = await readdir(base, { withFileTypes: true });
    const aged = await Promise.all(
      found
        .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
        .map(async (e) => ({ dir: join(base, e.name), at: (await stat(join(base, e.name))).mtimeMs })),
    );
    for (const d of aged) if (!resolvedAt.has(d.dir)) resolvedAt.set(d.dir, d.at);
    dirs = aged.sort((a, b) => a.at - b.at).map((d) => d.dir);
    kept.set(base, dirs);
    return dirs;
  };

  /**
   * `dir` is now the most recently resolved chart of `base`; released ones beyond `keep` that no
   * deployment resolved for `minIdleMs` go, oldest first.
   */
  const track = async (base: string, dir: string): Promise<void> => {
    const dirs = await keptIn(base);
    const at = dirs.indexOf(dir);
    if (at >= 0) dirs.splice(at, 1);
    dirs.push(dir);
    const time = now();
    resolvedAt.set(dir, time);
    const free = dirs.filter((d) => (leases.get(d) ?? 0) <= 0);
    // The oldest released ones beyond `keep`; `dir`, the newest, is never among them.
    for (const old of free.slice(0, Math.max(0, free.length - keep))) {
      if (time - (resolvedAt.get(old) ?? 0) < minIdleMs) continue;
      dirs.splice(dirs.indexOf(old), 1);
      leases.delete(old);
      resolvedAt.delete(old);
      await rm(old, { recursive: true, force: true });
    }
  };

  const fetchInto = async (
    config: DeploymentConfig,
    auth: GitAuth | undefined,
    target: string,
    signal: AbortSignal | undefined,
    extracted: (digest: string) => Promise<boolean>,
  ) => {
    const ref = chartReference(config);
    const fetchOptions = { auth: repositoryAuth(auth), signal, limits: { timeoutMs: config.timeoutMs }, extracted };
    return ref.repository.startsWith('oci://')
      ? pullOciChart(ref, target, { ...fetchOptions, registry: options.registry })
      : pullChart(ref, target, { ...fetchOptions, cache: indexes });
  };

  return {
    async resolve(config, auth, signal): Promise<ResolvedRevision> {
      const base = join(options.cacheDir, 'helm', repositoryKey(config));
      await mkdir(base, { recursive: true });
      const dirOf = (digest: string) => join(base, digest.replace(':', '-'));
      const temp = join(base, `.tmp-${process.pid}-${createHash('sha256').update(String(Math.random())).digest('hex').slice(0, 8)}`);
      try {
        const fetched = await fetchInto(config, auth, temp, signal, (digest) => isDirectory(dirOf(digest)));
        const dir = dirOf(fetched.digest);
        if (fetched.dir !== undefined && !(await isDirectory(dir))) {
          await rename(temp, dir).catch(async (err: unknown) => {
            // Another deployment of the same chart extracted it meanwhile: the same bytes.
            if (!(await isDirectory(dir))) throw err;
          });
          options.log.info({ chart: config.helm?.chart?.name, version: fetched.version, digest: fetched.digest }, 'chart extracted');
        }
        await track(base, dir).catch((err: unknown) => options.log.warn({ err: String(err), base }, 'could not remove an old chart'));
        return chartRevision(fetched.version, fetched.digest);
      } finally {
        await rm(temp, { recursive: true, force: true });
      }
    },

    async checkout(config, auth, resolved, signal): Promise<Checkout> {
      const dir = join(options.cacheDir, 'helm', repositoryKey(config), resolved.sha.replace(':', '-'));
      // Held before the look below, so no other deployment's sweep removes it in between.
      leases.set(dir, (leases.get(dir) ?? 0) + 1);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        leases.set(dir, (leases.get(dir) ?? 1) - 1);
      };
      try {
        if (!(await isDirectory(dir))) {
          // Removed since it was resolved (a cleaned cache): fetched again, and only the same bytes do.
          const again = await this.resolve(config, auth, signal);
          if (again.sha !== resolved.sha) {
            throw transient('HelmRepositoryFailed', `the chart ${resolved.revision} changed to ${again.revision} while it was fetched`);
          }
        }
        const tops = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory());
        const top = tops[0];
        if (tops.length !== 1 || !top) throw terminal('InternalError', `${dir} does not hold one chart directory`);
        return { dir: join(dir, top.name), release };
      } catch (err) {
        release();
        throw err;
      }
    },
  };
}

/** `<version>@sha256:<hex>`: what `kubectl get cd` shows, as Flux shows an OCI source's revision. */
export function chartRevision(version: string, digest: string): ResolvedRevision {
  return { ref: version, sha: digest, revision: `${version}@${digest}`, verified: true };
}

function chartReference(config: DeploymentConfig): ChartReference {
  const chart = config.helm?.chart;
  if (!chart) throw terminal('InternalError', 'repoType helm without spec.helm.chart');
  return { repository: config.url, name: chart.name, version: chart.version };
}

/** spec.secretRef's username and password; a token or SSH key means nothing to a chart repository. */
function repositoryAuth(auth: GitAuth | undefined): RepositoryAuth | undefined {
  return auth && 'username' in auth ? { username: auth.username, password: auth.password } : undefined;
}

function repositoryKey(config: DeploymentConfig): string {
  const name = config.helm?.chart?.name ?? '';
  const slug = name.replace(/[^a-zA-Z0-9.-]+/g, '_').slice(0, 60);
  return `${slug}-${createHash('sha256').update(`${config.url}\n${name}`).digest('hex').slice(0, 12)}`;
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}
