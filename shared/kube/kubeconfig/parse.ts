import { isAbsolute, join } from 'node:path';
import { parse } from 'yaml';
import { invalidKubeconfig } from './errors.ts';

/**
 * One kubeconfig file, read into plain typed records. Fields Tidemark cannot honour (`proxy-url`)
 * are kept too, so the resolver refuses them instead of silently connecting another way.
 */
export interface KubeconfigFile {
  clusters: Map<string, KubeconfigCluster>;
  users: Map<string, KubeconfigUser>;
  contexts: Map<string, KubeconfigContext>;
  currentContext: string | undefined;
}

export interface KubeconfigCluster {
  server: string | undefined;
  tlsServerName: string | undefined;
  insecureSkipTlsVerify: boolean;
  /** certificate-authority-data, base64 as written. */
  caData: string | undefined;
  /** certificate-authority: a path, made absolute against the file's directory. */
  caFile: string | undefined;
  proxyUrl: string | undefined;
}

export interface KubeconfigUser {
  token: string | undefined;
  /** `tokenFile` (client-go's spelling) or `token-file` (client-node's). */
  tokenFile: string | undefined;
  certData: string | undefined;
  certFile: string | undefined;
  keyData: string | undefined;
  keyFile: string | undefined;
  username: string | undefined;
  password: string | undefined;
  /** The `exec` block as written, for @kubernetes/client-node. */
  exec: Record<string, unknown> | undefined;
  /** The `auth-provider` block as written, for @kubernetes/client-node. */
  authProvider: Record<string, unknown> | undefined;
  /** `as`, `as-uid`, `as-groups`, `as-user-extra`: sent as Impersonate-* headers. */
  impersonate: Impersonation;
}

export interface Impersonation {
  user: string | undefined;
  uid: string | undefined;
  groups: string[];
  extra: Record<string, string[]>;
}

export interface KubeconfigContext {
  cluster: string;
  user: string;
  namespace: string | undefined;
}

/**
 * Parses kubeconfig text (client-go's v1 Config; unknown fields such as `extensions` are ignored).
 * `dir` is the directory of the file it came from: relative paths in it resolve there, as kubectl
 * does (an exec command only when it holds a `/`, else it is looked up on PATH). `what` names the
 * source in messages ("kubeconfig /x/config", "Secret ns/name").
 */
export function parseKubeconfig(text: string, what: string, dir?: string): KubeconfigFile {
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 100 });
  } catch (err) {
    throw invalidKubeconfig(`${what} is not valid YAML: ${(err as Error).message.split('\n')[0]}`, undefined, err);
  }
  if (doc === null || doc === undefined) doc = {};
  if (!isRecord(doc)) throw invalidKubeconfig(`${what} is not a kubeconfig (a YAML mapping)`);
  const path = (value: string | undefined) => (value === undefined || dir === undefined || isAbsolute(value) ? value : join(dir, value));
  const fields = new Fields(what);

  const clusters = named(doc, 'clusters', 'cluster', what, (c, at) => ({
    server: fields.str(c, 'server', at),
    tlsServerName: fields.str(c, 'tls-server-name', at),
    insecureSkipTlsVerify: fields.bool(c, 'insecure-skip-tls-verify', at) ?? false,
    caData: fields.str(c, 'certificate-authority-data', at),
    caFile: path(fields.str(c, 'certificate-authority', at)),
    proxyUrl: fields.str(c, 'proxy-url', at),
  }));
  const users = named(doc, 'users', 'user', what, (u, at) => {
    const exec = fields.record(u, 'exec', at);
    const command = exec && typeof exec.command === 'string' ? exec.command : undefined;
    return {
      token: fields.str(u, 'token', at),
      tokenFile: path(fields.str(u, 'tokenFile', at) ?? fields.str(u, 'token-file', at)),
      certData: fields.str(u, 'client-certificate-data', at),
      certFile: path(fields.str(u, 'client-certificate', at)),
      keyData: fields.str(u, 'client-key-data', at),
      keyFile: path(fields.str(u, 'client-key', at)),
      username: fields.str(u, 'username', at),
      password: fields.str(u, 'password', at),
      exec: exec && command?.includes('/') ? { ...exec, command: path(command) } : exec,
      authProvider: fields.record(u, 'auth-provider', at),
      impersonate: {
        user: fields.str(u, 'as', at),
        uid: fields.str(u, 'as-uid', at),
        groups: fields.strings(u, 'as-groups', at),
        extra: Object.fromEntries(
          Object.keys(fields.record(u, 'as-user-extra', at) ?? {}).map((k) => [
            k,
            fields.strings(u['as-user-extra'] as Record<string, unknown>, k, `${at}.as-user-extra`),
          ]),
        ),
      },
    };
  });
  const contexts = named(doc, 'contexts', 'context', what, (c, at) => ({
    cluster: fields.str(c, 'cluster', at) ?? '',
    user: fields.str(c, 'user', at) ?? '',
    namespace: fields.str(c, 'namespace', at),
  }));
  const current = doc['current-context'];
  if (current !== undefined && current !== null && typeof current !== 'string') {
    throw invalidKubeconfig(`${what}: current-context is not a string`);
  }
  return { clusters, users, contexts, currentContext: current || undefined };
}

/** Reads `clusters`/`users`/`contexts`: a list of `{name, <inner>: {...}}`, names unique. */
function named<T>(
  doc: Record<string, unknown>,
  list: string,
  inner: string,
  what: string,
  read: (entry: Record<string, unknown>, at: string) => T,
): Map<string, T> {
  const out = new Map<string, T>();
  const items = doc[list];
  if (items === undefined || items === null) return out;
  if (!Array.isArray(items)) throw invalidKubeconfig(`${what}: ${list} is not a list`);
  items.forEach((item: unknown, i) => {
    if (!isRecord(item) || typeof item.name !== 'string' || item.name === '') {
      throw invalidKubeconfig(`${what}: ${list}[${i}] has no name`);
    }
    // client-go refuses a name twice in one file; which one wins would be a guess.
    if (out.has(item.name)) throw invalidKubeconfig(`${what}: ${list} has ${JSON.stringify(item.name)} twice`);
    const body = item[inner] ?? {};
    if (!isRecord(body)) throw invalidKubeconfig(`${what}: ${list}[${i}].${inner} is not a mapping`);
    out.set(item.name, read(body, `${list}[${JSON.stringify(item.name)}]`));
  });
  return out;
}

class Fields {
  readonly what: string;
  constructor(what: string) {
    this.what = what;
  }

  str(obj: Record<string, unknown>, key: string, at: string): string | undefined {
    const value = obj[key];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') throw invalidKubeconfig(`${this.what}: ${at}.${key} is not a string`);
    return value;
  }

  strings(obj: Record<string, unknown>, key: string, at: string): string[] {
    const value = obj[key];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string'))
      throw invalidKubeconfig(`${this.what}: ${at}.${key} is not a list of strings`);
    return value;
  }

  bool(obj: Record<string, unknown>, key: string, at: string): boolean | undefined {
    const value = obj[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') throw invalidKubeconfig(`${this.what}: ${at}.${key} is not true or false`);
    return value;
  }

  record(obj: Record<string, unknown>, key: string, at: string): Record<string, unknown> | undefined {
    const value = obj[key];
    if (value === undefined || value === null) return undefined;
    if (!isRecord(value)) throw invalidKubeconfig(`${this.what}: ${at}.${key} is not a mapping`);
    return value;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
