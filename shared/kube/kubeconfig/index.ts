import { parseKubeconfig } from './parse.ts';
import { resolveConnection } from './resolve.ts';
import type { KubeConnection } from './types.ts';

export type { KubeAuth, KubeConnection, KubeCredentials, TlsMaterial } from './types.ts';
export type { KubeconfigOrigin } from './resolve.ts';
export type { KubeconfigSource } from './load.ts';
export { loadKubeconfig } from './load.ts';
export { inClusterConnection, SERVICE_ACCOUNT_DIR } from './in-cluster.ts';
export { TOKEN_FILE_REFRESH_MS } from './auth.ts';
export { parseKubeconfig, resolveConnection };

/**
 * A kubeconfig a tenant put in a Secret (spec.kubeConfig.secretRef): static credentials only,
 * nothing that runs a command or reads a file (see resolveConnection).
 */
export function connectionFromSecret(text: string, what: string): KubeConnection {
  return resolveConnection(parseKubeconfig(text, what), { origin: 'secret', what });
}

/** Kubeconfig text the operator trusts (tests, a file read elsewhere); relative paths resolve against `dir`. */
export function connectionFromText(text: string, options: { what?: string; context?: string; dir?: string } = {}): KubeConnection {
  const what = options.what ?? 'kubeconfig';
  return resolveConnection(parseKubeconfig(text, what, options.dir), { origin: 'operator', what, context: options.context });
}
