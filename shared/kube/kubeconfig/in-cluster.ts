import { readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { join } from 'node:path';
import { tokenFileAuth } from './auth.ts';
import type { TokenFileOptions } from './auth.ts';
import type { KubeConnection } from './types.ts';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface InClusterOptions {
  /** The environment holding KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT. */
  env: Readonly<Record<string, string | undefined>>;
  /** Where token, ca.crt and namespace are mounted; default the kubelet's path. */
  dir?: string | undefined;
  tokenFile?: TokenFileOptions | undefined;
}

/**
 * The pod's own service account, as client-go's rest.InClusterConfig: the API server from the
 * service environment variables, its CA and the token from the mounted files. The token is a
 * projected one that the kubelet rotates (hourly by default), so it is re-read as it changes.
 * Undefined when this is not a pod (no variables, or no token file).
 */
export function inClusterConnection(options: InClusterOptions): KubeConnection | undefined {
  const host = options.env.KUBERNETES_SERVICE_HOST;
  const port = options.env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) return undefined;
  const dir = options.dir ?? SERVICE_ACCOUNT_DIR;
  const tokenPath = join(dir, 'token');
  const token = readOptional(tokenPath)?.trim();
  if (!token) return undefined;
  return {
    server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
    clusterName: 'in-cluster',
    contextName: undefined,
    namespace: readOptional(join(dir, 'namespace'))?.trim() || undefined,
    tls: { ca: readOptional(join(dir, 'ca.crt')), cert: undefined, key: undefined, serverName: undefined, rejectUnauthorized: true },
    headers: {},
    auth: tokenFileAuth(tokenPath, token, options.tokenFile),
  };
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
