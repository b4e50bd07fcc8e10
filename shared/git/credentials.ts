import { createHmac, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { invalidSpec } from './errors.ts';
import { privateTempDir } from './temp-dirs.ts';
import { refuseCredentialsOverHttp } from './transport.ts';
import type { GitCredentials } from './types.ts';
import type { CheckedUrl, UrlKind } from './validate.ts';

/**
 * Reads credentials from a Secret's decoded data, with Flux's key names: `username`+`password`,
 * `bearerToken`, `identity`+`known_hosts` (+`password` as the key's passphrase), and `ca.crt`
 * (or `caFile`) for a private CA.
 */
export function credentialsFromSecretData(data: Readonly<Record<string, string | undefined>>): GitCredentials | undefined {
  const ca = data['ca.crt'] ?? data['caFile'];
  const withCa = <T extends object>(c: T): T & { caFile?: string } => (ca ? { ...c, caFile: ca } : c);
  if (data['identity'] !== undefined) {
    const knownHosts = data['known_hosts'] ?? data['knownHosts'];
    if (!knownHosts) throw invalidSpec('the Git secret has an identity but no known_hosts', 'add the server host keys as known_hosts');
    const ssh = { identity: data['identity'], knownHosts };
    return withCa(data['password'] ? { ...ssh, passphrase: data['password'] } : ssh);
  }
  if (data['bearerToken'] !== undefined) return withCa({ bearerToken: data['bearerToken'] });
  if (data['username'] !== undefined || data['password'] !== undefined) {
    if (data['username'] === undefined || data['password'] === undefined) {
      throw invalidSpec('the Git secret needs both username and password');
    }
    return withCa({ username: data['username'], password: data['password'] });
  }
  return ca ? { caFile: ca } : undefined;
}

/** Keys the fingerprints below; new in every process, so a fingerprint cannot be checked against guesses elsewhere. */
const FINGERPRINT_KEY = randomBytes(32);

/**
 * The identity of a set of credentials, for cache keys that must not be shared between
 * credentials: a keyed hash of their whole content (`anonymous` for none), never a secret value.
 * Equal content gives the same fingerprint inside this process, whichever Secret held it.
 */
export function credentialsFingerprint(creds: GitCredentials | undefined): string {
  if (creds === undefined) return 'anonymous';
  const fields = Object.entries(creds)
    .filter(([, value]) => value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHmac('sha256', FINGERPRINT_KEY).update(JSON.stringify(fields)).digest('hex');
}

/** Rejects values git could not carry safely (a newline would end the askpass answer early). */
export function validateCredentials(creds: GitCredentials | undefined, kind: UrlKind): void {
  if (creds === undefined) {
    if (kind === 'ssh') throw sshNeedsKeys();
    return;
  }
  const line = (what: string, value: unknown) => {
    if (typeof value !== 'string' || value.length === 0) throw invalidSpec(`the Git credentials have an empty ${what}`);
    if (/[\r\n\0]/.test(value)) throw invalidSpec(`the Git credentials' ${what} contains a line break`);
  };
  if ('username' in creds) {
    line('username', creds.username);
    line('password', creds.password);
  } else if ('bearerToken' in creds) {
    line('bearer token', creds.bearerToken);
  } else if ('identity' in creds) {
    if (typeof creds.identity !== 'string' || !creds.identity.includes('PRIVATE KEY')) {
      throw invalidSpec('the Git credentials identity is not a private key');
    }
    if (typeof creds.knownHosts !== 'string' || creds.knownHosts.trim() === '') throw sshNeedsKeys();
    if (creds.passphrase !== undefined) line('passphrase', creds.passphrase);
  }
  if (kind === 'ssh' && !('identity' in creds)) throw sshNeedsKeys();
  if (creds.caFile !== undefined && !creds.caFile.includes('BEGIN CERTIFICATE')) {
    throw invalidSpec('the Git credentials caFile is not a PEM certificate');
  }
}

function sshNeedsKeys() {
  return invalidSpec('an SSH repository needs an identity and known_hosts', 'add identity and known_hosts to the Git secret');
}

/** What one git invocation needs to authenticate, and the temp files to remove afterwards. */
export interface AuthContext {
  /** Extra environment for the git child process: paths only, never a secret value. */
  env: Record<string, string>;
  /** Secret values to scrub from anything git prints. */
  secrets: string[];
  dispose(): Promise<void>;
}

/**
 * Writes what credentials need into a fresh private directory (0700, files 0600) and returns the
 * environment that points git at it. Secret values live only in those files: not in argv (`ps`),
 * not in the child's environment (/proc/<pid>/environ is readable by the same user, and debug
 * logs print environments), not in URLs. The askpass script reads them when git or ssh asks. The
 * directory's name carries our pid, so a killed process's is swept at the next start. A password
 * or token bound for plain http:// is refused unless `allowInsecureHttp` (see transport.ts).
 */
export async function prepareAuth(
  creds: GitCredentials | undefined,
  target: CheckedUrl,
  allowInsecureHttp?: boolean,
): Promise<AuthContext> {
  validateCredentials(creds, target.kind);
  refuseCredentialsOverHttp(creds, target.url, allowInsecureHttp);
  const temp = await privateTempDir('auth');
  const dir = temp.path;
  const env: Record<string, string> = {};
  const secrets: string[] = [];
  const config: string[] = ['[credential]', '\thelper =', '[http]'];
  const dispose = () => temp.remove();
  const file = async (name: string, content: string, mode = 0o600) => {
    const path = join(dir, name);
    await writeFile(path, content, { mode });
    return path;
  };
  const askpass = async (username: string | undefined, password: string) => {
    const user = await file('username', `${username ?? ''}\n`);
    const pass = await file('password', `${password}\n`);
    return file('askpass.sh', askpassScript(user, pass), 0o700);
  };
  try {
    if (creds && 'username' in creds) {
      env['GIT_ASKPASS'] = await askpass(creds.username, creds.password);
      secrets.push(creds.password);
    } else if (creds && 'bearerToken' in creds) {
      config.push(`\textraHeader = ${configValue(`Authorization: Bearer ${creds.bearerToken}`)}`);
      secrets.push(creds.bearerToken);
    } else if (creds && 'identity' in creds) {
      const key = await file('identity', creds.identity.endsWith('\n') ? creds.identity : `${creds.identity}\n`);
      const hosts = await file('known_hosts', creds.knownHosts.endsWith('\n') ? creds.knownHosts : `${creds.knownHosts}\n`);
      const ssh = [
        'ssh',
        '-F',
        '/dev/null',
        '-i',
        shellQuote(key),
        '-o',
        'IdentitiesOnly=yes',
        '-o',
        `UserKnownHostsFile=${shellQuote(hosts)}`,
        '-o',
        'GlobalKnownHostsFile=/dev/null',
        '-o',
        'StrictHostKeyChecking=yes',
        '-o',
        'UpdateHostKeys=no',
        '-o',
        'ConnectTimeout=30',
        '-o',
        'SendEnv=GIT_PROTOCOL',
      ];
      if (creds.passphrase !== undefined) {
        env['SSH_ASKPASS'] = await askpass(undefined, creds.passphrase);
        env['SSH_ASKPASS_REQUIRE'] = 'force';
        secrets.push(creds.passphrase);
      } else {
        ssh.push('-o', 'BatchMode=yes');
      }
      env['GIT_SSH_COMMAND'] = ssh.join(' ');
      env['GIT_SSH_VARIANT'] = 'ssh';
      secrets.push(creds.identity);
    }
    if (creds?.caFile !== undefined) {
      config.push(`\tsslCAInfo = ${configValue(await file('ca.pem', creds.caFile))}`);
    }
    // Replaces the empty global config gitEnvironment() sets; system config stays off.
    env['GIT_CONFIG_GLOBAL'] = await file('gitconfig', `${config.join('\n')}\n`);
  } catch (err) {
    await dispose();
    throw err;
  }
  return { env, secrets, dispose };
}

/** Answers git's and ssh's prompts from files beside it; the paths are ours, the values never inline. */
function askpassScript(usernameFile: string, passwordFile: string): string {
  return `#!/bin/sh
case "$1" in
  [Uu]sername*) cat ${shellQuote(usernameFile)} ;;
  *) cat ${shellQuote(passwordFile)} ;;
esac
`;
}

/** A git config value in double quotes, with the escapes git's parser knows. */
function configValue(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
