import { GitErrorCode, gitError, redactUrlPassword } from './errors.ts';
import type { GitCredentials } from './types.ts';
import { validateRepositoryUrl } from './validate.ts';

/**
 * A file:// URL makes the program read its own filesystem — in a cluster, the agent's cache of
 * every tenant's checkouts and its ServiceAccount token's directory are a path away. Tests and
 * the local demo use local repositories on purpose; only they turn this on (`--allow-local-git`).
 */
export function refuseLocalRepository(url: string, allowLocal: boolean): void {
  if (allowLocal || validateRepositoryUrl(url).kind !== 'file') return;
  throw gitError(
    GitErrorCode.LocalRepositoryNotAllowed,
    `file:// repository URLs are refused: ${JSON.stringify(redactUrlPassword(url))} would be read from this program's own filesystem`,
    'use an https:// or ssh:// URL; local repositories need the --allow-local-git flag (tests and demos only)',
  );
}

/**
 * A password or a bearer token sent over plain http:// is readable by anyone on the way. Like
 * Flux, Tidemark sends them only over https://, unless the deployment opts in (`spec.insecure`),
 * or to a loopback host, which no network lies between. SSH keys and a CA need no such rule: SSH
 * encrypts, and a CA is no secret.
 */
export function refuseCredentialsOverHttp(creds: GitCredentials | undefined, url: string, allowInsecureHttp: boolean | undefined): void {
  if (allowInsecureHttp === true || creds === undefined) return;
  if (!('username' in creds) && !('bearerToken' in creds)) return;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return; // user@host:path is SSH
  }
  if (parsed.protocol !== 'http:' || isLoopback(parsed.hostname)) return;
  throw gitError(
    GitErrorCode.InsecureCredentials,
    `refusing to send the Git credentials to ${parsed.host} over plain http://`,
    'use an https:// URL, or set spec.insecure: true to send the credentials unencrypted',
  );
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}
