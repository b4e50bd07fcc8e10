import { createHash } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { terminal, transient } from '../shared/errors/index.ts';
import type { Logger } from '../shared/log/index.ts';
import type { DeploymentConfig } from '../shared/spec/index.ts';
import { fetchChart, type ChartReference, type RepositoryAuth } from './render/chart-repository.ts';
import { fetchOciChart, type ChartRegistry } from './render/chart-oci.ts';
import type { Checkout, GitAuth, ResolvedRevision, Source } from './types.ts';

export interface HelmSourceOptions {
  /** The shared registry client, for oci:// chart repositories. */
  registry: ChartRegistry;
  /** Extracted charts live under `<cacheDir>/helm/`. */
  cacheDir: string;
  log: Logger;
}

/**
 * repoType helm: the chart alone, from a Helm repository or an OCI registry (Argo CD's Helm
 * source). The revision is `<chart version>@sha256:<digest of the chart archive>`, so a new
 * version — or the same version republished — is a new revision: hooks run, status and history
 * show it. Resolving downloads and extracts the chosen chart (the archive's digest is only known
 * from its bytes when the index gives none, and an OCI chart's layer digest is what `helm push`
 * printed); a digest already extracted is not extracted again. Failures to reach the repository
 * are transient (chart-repository.ts, chart-oci.ts) and stop the run before anything is pruned.
 */
export function createHelmSource(options: HelmSourceOptions): Source {
  const fetchInto = async (config: DeploymentConfig, auth: GitAuth | undefined, target: string, signal: AbortSignal | undefined) => {
    const ref = chartReference(config);
    const fetchOptions = { auth: repositoryAuth(auth), signal, limits: { timeoutMs: config.timeoutMs } };
    return ref.repository.startsWith('oci://')
      ? fetchOciChart(ref, target, { ...fetchOptions, registry: options.registry })
      : fetchChart(ref, target, fetchOptions);
  };

  return {
    async resolve(config, auth, signal): Promise<ResolvedRevision> {
      const base = join(options.cacheDir, 'helm', repositoryKey(config));
      await mkdir(base, { recursive: true });
      const temp = join(base, `.tmp-${process.pid}-${createHash('sha256').update(String(Math.random())).digest('hex').slice(0, 8)}`);
      try {
        const fetched = await fetchInto(config, auth, temp, signal);
        const dir = join(base, fetched.digest.replace(':', '-'));
        if (!(await isDirectory(dir))) {
          await rename(temp, dir).catch(async (err: unknown) => {
            // Another deployment of the same chart extracted it meanwhile: the same bytes.
            if (!(await isDirectory(dir))) throw err;
          });
          options.log.info({ chart: config.helm?.chart?.name, version: fetched.version, digest: fetched.digest }, 'chart extracted');
        }
        return chartRevision(fetched.version, fetched.digest);
      } finally {
        await rm(temp, { recursive: true, force: true });
      }
    },

    async checkout(config, auth, resolved, signal): Promise<Checkout> {
      const dir = join(options.cacheDir, 'helm', repositoryKey(config), resolved.sha.replace(':', '-'));
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
      return { dir: join(dir, top.name), release: () => undefined };
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
