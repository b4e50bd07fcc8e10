import { credentialsFingerprint, credentialsFromSecretData } from '../shared/git/credentials.ts';
import { fetchRevision, type FetchedRevision, type FetchRevisionOptions } from '../shared/git/fetch.ts';
import { lsRemote } from '../shared/git/remote.ts';
import type { GitRefSpec } from '../shared/git/types.ts';
import type { Logger } from '../shared/log/index.ts';
import type { DeploymentConfig } from '../shared/spec/index.ts';
import { createHelmSource } from './helm-source.ts';
import { createOciSource, ociCredentials, type ArtifactRegistry } from './oci-source.ts';
import type { GitAuth, Source } from './types.ts';

export interface GitSourceOptions {
  cacheDir: string;
  log: Logger;
  /** Checkouts kept per repository: several ContinuousDeployments may follow branches of one repo. */
  keepCheckouts?: number | undefined;
  /** Bounds of one fetch and checkout; shared/git's FETCH_LIMITS (512 MiB, 512 MiB, 100,000 files) by default. */
  limits?: Pick<FetchRevisionOptions, 'maxFetchBytes' | 'maxCheckoutBytes' | 'maxCheckoutFiles'> | undefined;
}

/**
 * The agent's Git source: one ls-remote per poll, a shallow fetch only for a new commit, and one
 * checkout per repository revision shared by every deployment that reads it.
 */
export function createGitSource(options: GitSourceOptions): Source {
  /**
   * The newest checkout of each repository, ref and credentials, kept leased until a newer commit
   * replaces it. A leased checkout is handed out without running git (fetch.ts): a thousand
   * deployments at paths of one commit check it out once, not a thousand times (each check was a
   * `git status` over the whole tree, so the cost grew with deployments × files). Only this
   * process writes under the cache directory, and renders only read.
   */
  const held = new Map<string, FetchedRevision>();
  return {
    resolve: (config, auth, signal) =>
      lsRemote(config.url, auth, refSpec(config), {
        signal,
        timeoutMs: config.timeoutMs,
        logger: options.log,
        allowInsecureHttp: config.insecure,
      }),
    async checkout(config, auth, resolved, signal) {
      const fetched = await fetchRevision(config.url, auth, refSpec(config), resolved.sha, options.cacheDir, {
        signal,
        timeoutMs: config.timeoutMs,
        logger: options.log,
        keepCheckouts: options.keepCheckouts ?? 8,
        ...options.limits,
        // A pinned commit the server did not advertise is fetched with these credentials, cached or not.
        advertised: resolved.verified,
        allowInsecureHttp: config.insecure,
      });
      const key = JSON.stringify([config.url, refSpec(config), credentialsFingerprint(auth)]);
      const previous = held.get(key);
      if (previous?.dir === fetched.dir) return { dir: fetched.dir, release: () => fetched.release() };
      // This caller's lease becomes the held one; the caller's release is the held one's business.
      held.set(key, fetched);
      previous?.release();
      return { dir: fetched.dir, release: () => undefined };
    },
  };
}

export function refSpec(config: Pick<DeploymentConfig, 'ref'>): GitRefSpec {
  return { [config.ref.kind]: config.ref.value };
}

/** The agent's sources, one per repoType; each deployment is served by the one its spec names. */
export function sourceByRepoType(sources: Record<DeploymentConfig['repoType'], Source>): Source {
  return {
    resolve: (config, auth, signal) => sources[config.repoType].resolve(config, auth, signal),
    checkout: (config, auth, resolved, signal) => sources[config.repoType].checkout(config, auth, resolved, signal),
  };
}

/** The credentials in spec.secretRef's data: Git's keys, or a dockerconfigjson for repoType oci. */
export function sourceCredentials(config: DeploymentConfig, secretData: Record<string, string>): GitAuth | undefined {
  return config.repoType === 'oci' ? ociCredentials(config, secretData) : credentialsFromSecretData(secretData);
}

/** Git and OCI sources over one cache directory: what the agent and `tidemark diff` read from. */
export function createAgentSource(options: GitSourceOptions & { registry: ArtifactRegistry }): Source {
  return sourceByRepoType({
    git: createGitSource(options),
    oci: createOciSource({ client: options.registry, cacheDir: options.cacheDir, log: options.log }),
    helm: createHelmSource({ registry: options.registry, cacheDir: options.cacheDir, log: options.log }),
  });
}
