import type { RegistryClient, RegistryClientOptions } from '../shared/registry/index.ts';
import type { ArtifactRegistry } from './oci-source.ts';

/** The registry client OCI sources use, loaded on their first call, and closed with the agent. */
export interface LazyRegistry extends ArtifactRegistry {
  /** Whether the client has been loaded (an OCI source has asked for something). */
  readonly loaded: boolean;
  close(): Promise<void>;
}

type Client = Pick<RegistryClient, 'getDigest' | 'getManifest' | 'getBlob' | 'listTags' | 'close'>;

/**
 * Only deployments with `repoType: oci` need the registry client: the agent imports it on the
 * first OCI call, never at start (agent/idle-imports.test.ts checks).
 */
export function lazyRegistry(
  options: RegistryClientOptions,
  load: () => Promise<{ RegistryClient: new (options: RegistryClientOptions) => Client }> = () => import('../shared/registry/client.ts'),
): LazyRegistry {
  let client: Promise<Client> | undefined;
  const get = () => (client ??= load().then(({ RegistryClient }) => new RegistryClient(options)));
  return {
    get loaded() {
      return client !== undefined;
    },
    getDigest: async (...args) => (await get()).getDigest(...args),
    getManifest: async (...args) => (await get()).getManifest(...args),
    getBlob: async (...args) => (await get()).getBlob(...args),
    listTags: async (...args) => (await get()).listTags(...args),
    close: async () => {
      if (client) await (await client).close();
    },
  };
}
