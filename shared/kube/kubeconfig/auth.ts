import { readFile } from 'node:fs/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import { credentialsFailed } from './errors.ts';
import type { KubeconfigUser } from './parse.ts';
import type { KubeAuth, KubeCredentials } from './types.ts';

export const NO_AUTH: KubeAuth = { kind: 'none', credentials: () => Promise.resolve({}) };

export function bearerAuth(token: string): KubeAuth {
  const credentials: KubeCredentials = { authorization: `Bearer ${token}` };
  return { kind: 'static', credentials: () => Promise.resolve(credentials) };
}

export function basicAuth(username: string, password: string): KubeAuth {
  const credentials: KubeCredentials = { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
  return { kind: 'basic', credentials: () => Promise.resolve(credentials) };
}

export interface TokenFileOptions {
  /** How long a token read from the file is used before the file is read again; default 1 min. */
  refreshMs?: number | undefined;
  now?: (() => number) | undefined;
  read?: ((path: string) => Promise<string>) | undefined;
}

/** client-go re-reads a token file once a minute; a kubelet rotates projected tokens well before they expire. */
export const TOKEN_FILE_REFRESH_MS = 60_000;

/**
 * A bearer token from a file that someone else rotates (a projected service account token, a
 * `tokenFile` user). `initial` is the token read when the kubeconfig was loaded, so a missing file
 * fails the load, not the first request. A failed re-read keeps the last token: the kubelet
 * replaces the file atomically, so a failure is momentary and the old token is still valid.
 */
export function tokenFileAuth(path: string, initial: string, options: TokenFileOptions = {}): KubeAuth {
  const refreshMs = options.refreshMs ?? TOKEN_FILE_REFRESH_MS;
  const now = options.now ?? Date.now;
  const read = options.read ?? ((p: string) => readFile(p, 'utf8'));
  let token = initial;
  let readAt = now();
  let reading: Promise<void> | undefined;
  const reread = async () => {
    try {
      const fresh = (await read(path)).trim();
      if (fresh) token = fresh;
    } catch {
      // Keep the last good token (see above).
    } finally {
      readAt = now();
      reading = undefined;
    }
  };
  return {
    kind: 'token-file',
    async credentials() {
      if (now() - readAt >= refreshMs) await (reading ??= reread());
      return { authorization: `Bearer ${token}` };
    },
  };
}

type ClientNode = typeof import('@kubernetes/client-node');

/**
 * An `exec` or `auth-provider` user of the operator's own kubeconfig. Only these need
 * @kubernetes/client-node (its plugins: exec credentials, OIDC refresh, the cloud providers), and
 * importing it costs ~80 MiB of resident memory, so it is imported on the first request of such a
 * user and never otherwise. client-node caches the plugin's token until it expires.
 */
export function pluginAuth(
  userName: string,
  user: KubeconfigUser,
  server: string,
  load: () => Promise<ClientNode> = () => import('@kubernetes/client-node'),
): KubeAuth {
  let config: Promise<KubeConfig> | undefined;
  const make = async () => {
    const { KubeConfig: Config } = await load();
    const kc = new Config();
    // Only the plugin: TLS material and static credentials stay with Tidemark's own loader, so
    // client-node reads no file here. The cluster is needed only to name a current context.
    kc.loadFromOptions({
      clusters: [{ name: 'cluster', server, skipTLSVerify: false }],
      users: [{ name: userName, exec: user.exec, authProvider: user.authProvider }],
      contexts: [{ name: 'context', cluster: 'cluster', user: userName }],
      currentContext: 'context',
    });
    return kc;
  };
  return {
    kind: 'plugin',
    async credentials() {
      const kc = await (config ??= make());
      const options: { headers?: Record<string, string>; cert?: unknown; key?: unknown } = {};
      try {
        await kc.applyToHTTPSOptions(options);
      } catch (err) {
        const kind = user.exec ? 'exec' : 'auth-provider';
        const why = (err as Error).message.trim().split('\n')[0];
        throw credentialsFailed(`the ${kind} credential plugin of kubeconfig user ${JSON.stringify(userName)} failed: ${why}`, err);
      }
      return {
        authorization: options.headers?.Authorization ?? options.headers?.authorization,
        cert: pem(options.cert),
        key: pem(options.key),
      };
    },
  };
}

function pem(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return undefined;
}
