import { readFileSync } from 'node:fs';
import { basicAuth, bearerAuth, NO_AUTH, pluginAuth, tokenFileAuth } from './auth.ts';
import type { TokenFileOptions } from './auth.ts';
import { invalidKubeconfig } from './errors.ts';
import type { Impersonation, KubeconfigCluster, KubeconfigFile, KubeconfigUser } from './parse.ts';
import type { KubeAuth, KubeConnection, TlsMaterial } from './types.ts';

/**
 * Whose kubeconfig this is. `operator`: the file the agent or the CLI was started with, trusted
 * like kubectl trusts ~/.kube/config (it may read files and run credential plugins). `secret`: a
 * tenant's Secret (spec.kubeConfig.secretRef); it may hold static credentials only, because
 * anything else would let whoever writes the Secret run a command or read a file in the agent.
 */
export type KubeconfigOrigin = 'operator' | 'secret';

export interface ResolveOptions {
  origin: KubeconfigOrigin;
  /** Names the source in messages: `file /home/me/.kube/config`, `Secret ns/name`. */
  what: string;
  /** Use this context instead of current-context. */
  context?: string | undefined;
  /** Reads a file named by an operator kubeconfig (CA, client certificate and key, token file). */
  readFile?: ((path: string) => string) | undefined;
  tokenFile?: TokenFileOptions | undefined;
}

const SECRET_HINT =
  'a kubeconfig in a Secret may hold only static credentials: token, ' +
  'client-certificate-data with client-key-data, certificate-authority-data';

/** Picks the context, its cluster and its user, and turns them into a connection. */
export function resolveConnection(file: KubeconfigFile, options: ResolveOptions): KubeConnection {
  const { what } = options;
  const contextName = options.context ?? file.currentContext;
  if (!contextName) {
    throw invalidKubeconfig(`${what} has no current-context`, 'set current-context, or name a context with --context');
  }
  const context = file.contexts.get(contextName);
  if (!context) throw invalidKubeconfig(`${what} has no context ${JSON.stringify(contextName)}`);
  const cluster = file.clusters.get(context.cluster);
  if (!cluster)
    throw invalidKubeconfig(
      `${what}: context ${JSON.stringify(contextName)} names cluster ${JSON.stringify(context.cluster)}, which is not in it`,
    );
  // A context without a user means anonymous, as in kubectl; a named user must exist.
  const user = context.user ? file.users.get(context.user) : undefined;
  if (context.user && !user)
    throw invalidKubeconfig(
      `${what}: context ${JSON.stringify(contextName)} names user ${JSON.stringify(context.user)}, which is not in it`,
    );
  if (options.origin === 'secret') refuseLocalReferences(cluster, user, context.user, what);

  const read = (path: string, field: string) => {
    try {
      return (options.readFile ?? ((p: string) => readFileSync(p, 'utf8')))(path);
    } catch (err) {
      throw invalidKubeconfig(
        `${what}: cannot read ${field} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        undefined,
        err,
      );
    }
  };
  const server = serverUrl(cluster, context.cluster, what);
  return {
    server,
    clusterName: context.cluster,
    contextName,
    namespace: context.namespace,
    tls: tlsMaterial(cluster, user, read, what),
    headers: impersonationHeaders(user?.impersonate),
    auth: user ? authFor(context.user, user, server, read, options) : NO_AUTH,
  };
}

/** The Secret rule: no command to run, no file to read. Checked before anything is read. */
function refuseLocalReferences(cluster: KubeconfigCluster, user: KubeconfigUser | undefined, userName: string, what: string): void {
  const refused: string[] = [];
  if (cluster.caFile) refused.push('certificate-authority (a file; use certificate-authority-data)');
  if (user?.exec) refused.push('exec (runs a command; use a token)');
  if (user?.authProvider) refused.push('auth-provider (runs a plugin; use a token)');
  if (user?.tokenFile) refused.push('tokenFile (a file; use token)');
  if (user?.certFile) refused.push('client-certificate (a file; use client-certificate-data)');
  if (user?.keyFile) refused.push('client-key (a file; use client-key-data)');
  if (refused.length > 0) {
    const whose = userName ? `user ${JSON.stringify(userName)} and its cluster` : 'its cluster';
    throw invalidKubeconfig(`${what}: ${whose} use ${refused.join('; ')}, which a kubeconfig from a Secret may not`, SECRET_HINT);
  }
}

function serverUrl(cluster: KubeconfigCluster, name: string, what: string): string {
  if (!cluster.server) throw invalidKubeconfig(`${what}: cluster ${JSON.stringify(name)} has no server`);
  let url: URL;
  try {
    url = new URL(cluster.server);
  } catch {
    throw invalidKubeconfig(`${what}: cluster ${JSON.stringify(name)} has an invalid server URL ${JSON.stringify(cluster.server)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw invalidKubeconfig(
      `${what}: cluster ${JSON.stringify(name)} server must be an https:// URL, not ${JSON.stringify(cluster.server)}`,
    );
  }
  if (url.username || url.password || url.search || url.hash) {
    throw invalidKubeconfig(`${what}: cluster ${JSON.stringify(name)} server URL may not carry credentials, a query or a fragment`);
  }
  // The REST client talks to the server directly; a proxy in the kubeconfig would be silently bypassed.
  if (cluster.proxyUrl)
    throw invalidKubeconfig(
      `${what}: cluster ${JSON.stringify(name)} sets proxy-url, which Tidemark does not support`,
      'reach the API server directly',
    );
  return cluster.server.replace(/\/+$/, '');
}

function tlsMaterial(
  cluster: KubeconfigCluster,
  user: KubeconfigUser | undefined,
  read: (path: string, field: string) => string,
  what: string,
): TlsMaterial {
  if (cluster.insecureSkipTlsVerify && (cluster.caData || cluster.caFile)) {
    // client-go refuses the same: one of the two settings is a mistake, and it is not ours to pick.
    throw invalidKubeconfig(`${what}: a cluster cannot have both insecure-skip-tls-verify and a certificate authority`);
  }
  const ca = cluster.caData
    ? pemData(cluster.caData, 'certificate-authority-data', what)
    : cluster.caFile
      ? pemFile(read(cluster.caFile, 'certificate-authority'), cluster.caFile, what)
      : undefined;
  const cert = user?.certData
    ? pemData(user.certData, 'client-certificate-data', what)
    : user?.certFile
      ? pemFile(read(user.certFile, 'client-certificate'), user.certFile, what)
      : undefined;
  const key = user?.keyData
    ? pemData(user.keyData, 'client-key-data', what)
    : user?.keyFile
      ? pemFile(read(user.keyFile, 'client-key'), user.keyFile, what)
      : undefined;
  if ((cert === undefined) !== (key === undefined)) {
    throw invalidKubeconfig(
      `${what}: a client certificate needs its key and a key its certificate`,
      'set both client-certificate(-data) and client-key(-data)',
    );
  }
  return { ca, cert, key, serverName: cluster.tlsServerName, rejectUnauthorized: !cluster.insecureSkipTlsVerify };
}

function authFor(
  name: string,
  user: KubeconfigUser,
  server: string,
  read: (path: string, field: string) => string,
  options: ResolveOptions,
): KubeAuth {
  const methods = [
    user.token || user.tokenFile ? 'token' : undefined,
    user.username || user.password ? 'username/password' : undefined,
    user.exec ? 'exec' : undefined,
    user.authProvider ? 'auth-provider' : undefined,
  ].filter((m) => m !== undefined);
  if (methods.length > 1) {
    throw invalidKubeconfig(
      `${options.what}: user ${JSON.stringify(name)} has more than one way to authenticate (${methods.join(', ')})`,
      'keep one of them',
    );
  }
  if (user.exec || user.authProvider) return pluginAuth(name, user, server);
  if (user.tokenFile) {
    // client-go: a token file wins over an inline token, and is re-read as it rotates.
    const initial = read(user.tokenFile, 'tokenFile').trim();
    if (!initial) throw invalidKubeconfig(`${options.what}: the tokenFile ${user.tokenFile} of user ${JSON.stringify(name)} is empty`);
    return tokenFileAuth(user.tokenFile, initial, options.tokenFile);
  }
  if (user.token) return bearerAuth(user.token);
  if (user.username !== undefined || user.password !== undefined) return basicAuth(user.username ?? '', user.password ?? '');
  return NO_AUTH;
}

function impersonationHeaders(as: Impersonation | undefined): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  if (!as) return headers;
  if (as.user) headers['impersonate-user'] = as.user;
  if (as.uid) headers['impersonate-uid'] = as.uid;
  if (as.groups.length > 0) headers['impersonate-group'] = as.groups;
  for (const [key, values] of Object.entries(as.extra)) {
    if (values.length > 0) headers[`impersonate-extra-${encodeURIComponent(key)}`] = values;
  }
  return headers;
}

const PEM = /-----BEGIN [A-Z0-9 ]+-----/;

/** `*-data` fields hold base64 of PEM text. */
function pemData(base64: string, field: string, what: string): string {
  const compact = base64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) throw invalidKubeconfig(`${what}: ${field} is not base64`);
  const text = Buffer.from(compact, 'base64').toString('utf8');
  if (!PEM.test(text))
    throw invalidKubeconfig(`${what}: ${field} does not decode to PEM (-----BEGIN ...)`, `put base64 of the PEM file in ${field}`);
  return text;
}

function pemFile(text: string, path: string, what: string): string {
  if (!PEM.test(text)) throw invalidKubeconfig(`${what}: ${path} is not a PEM file`);
  return text;
}
