import { RegistryErrorCode, registryTerminal } from './errors.ts';
import { DOCKER_HUB, DOCKER_HUB_API } from './reference.ts';

/**
 * Registry credentials from a `kubernetes.io/dockerconfigjson` Secret (or the legacy
 * `kubernetes.io/dockercfg`), matched to a registry host the way Docker matches them. Error
 * messages name keys and hosts, never the values.
 */

export interface RegistryCredentials {
  username: string;
  password: string;
}

/** One entry per `auths` key, in file order. */
export interface DockerConfig {
  entries: Array<{ key: string; host: string; credentials: RegistryCredentials }>;
}

const HUB_ALIASES: ReadonlySet<string> = new Set([DOCKER_HUB, 'index.docker.io', DOCKER_HUB_API]);

function invalid(message: string) {
  return registryTerminal(
    RegistryErrorCode.InvalidRegistryCredentials,
    message,
    'the image pull secret must be a kubernetes.io/dockerconfigjson Secret with {"auths": {"<host>": {"auth": "<base64 user:password>"}}}',
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `https://index.docker.io/v1/` → `index.docker.io`, as Docker's ConvertToHostname does. */
export function credentialHost(key: string): string {
  let host = key.trim();
  if (host.startsWith('http://')) host = host.slice(7);
  else if (host.startsWith('https://')) host = host.slice(8);
  const slash = host.indexOf('/');
  return (slash >= 0 ? host.slice(0, slash) : host).toLowerCase();
}

function entryCredentials(key: string, entry: unknown): RegistryCredentials | undefined {
  if (!isRecord(entry)) throw invalid(`registry credentials for ${JSON.stringify(key)} are not an object`);
  const { auth, username, password } = entry;
  if (typeof auth === 'string' && auth !== '') {
    const decoded = Buffer.from(auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(auth.trim()) || colon <= 0) {
      throw invalid(`the "auth" field for ${JSON.stringify(key)} is not base64 of username:password`);
    }
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof username === 'string' && username !== '') {
    if (typeof password !== 'string') throw invalid(`registry credentials for ${JSON.stringify(key)} have a username but no password`);
    return { username, password };
  }
  // identitytoken-only entries need an OAuth2 refresh flow that is not supported; treated as absent.
  return undefined;
}

function fromAuthMap(auths: unknown, where: string): DockerConfig {
  if (!isRecord(auths)) throw invalid(`${where} is not an object`);
  const entries: DockerConfig['entries'] = [];
  for (const [key, entry] of Object.entries(auths)) {
    const credentials = entryCredentials(key, entry);
    if (credentials) entries.push({ key, host: credentialHost(key), credentials });
  }
  return { entries };
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw invalid(`${what} is not valid JSON`);
  }
}

/** Parses the text of `.dockerconfigjson`. */
export function parseDockerConfigJson(text: string): DockerConfig {
  const doc = parseJson(text, '.dockerconfigjson');
  if (!isRecord(doc)) throw invalid('.dockerconfigjson is not a JSON object');
  if (doc.auths === undefined) return { entries: [] };
  return fromAuthMap(doc.auths, '.dockerconfigjson "auths"');
}

/** The parts of a Secret this reads; `data` values decoded, as shared/kube/secrets.ts returns them. */
export interface SecretLike {
  type?: string | undefined;
  data?: Record<string, string> | undefined;
}

/** Reads a `kubernetes.io/dockerconfigjson` or `kubernetes.io/dockercfg` Secret. */
export function dockerConfigFromSecret(secret: SecretLike): DockerConfig {
  const data = secret.data ?? {};
  const json = data['.dockerconfigjson'];
  if (typeof json === 'string') return parseDockerConfigJson(json);
  const legacy = data['.dockercfg'];
  if (typeof legacy === 'string') return fromAuthMap(parseJson(legacy, '.dockercfg'), '.dockercfg');
  throw invalid(`the Secret (type ${JSON.stringify(secret.type ?? '')}) has no .dockerconfigjson key`);
}

/**
 * The credentials for `registry` (an ImageReference's registry, e.g. `docker.io`, `ghcr.io`,
 * `127.0.0.1:5000`): an entry for exactly that host first, then Docker Hub's aliases.
 */
export function credentialsFor(config: DockerConfig, registry: string): RegistryCredentials | undefined {
  const host = registry.toLowerCase();
  const exact = config.entries.find((e) => e.host === host);
  if (exact) return exact.credentials;
  if (HUB_ALIASES.has(host)) {
    // Docker writes Hub logins under https://index.docker.io/v1/; prefer that, then the others.
    for (const alias of ['index.docker.io', DOCKER_HUB, DOCKER_HUB_API]) {
      const found = config.entries.find((e) => e.host === alias);
      if (found) return found.credentials;
    }
  }
  return undefined;
}
