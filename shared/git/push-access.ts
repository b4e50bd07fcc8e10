import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isTidemarkError } from '../errors/index.ts';
import { HttpPool } from '../http/client.ts';
import { timeoutSignal } from '../time/timer.ts';
import { prepareAuth } from './credentials.ts';
import { GitErrorCode } from './errors.ts';
import { gitEnvironment, runGit } from './run.ts';
import { privateTempDir } from './temp-dirs.ts';
import { refuseCredentialsOverHttp } from './transport.ts';
import type { GitCredentials, GitOperationOptions } from './types.ts';
import { validateRepositoryUrl } from './validate.ts';

/**
 * Whether a credential may push, asked without pushing: `writable` false comes with a plain reason
 * the console shows; `undefined` means the probe could not tell (a redirect, a timeout, a server
 * that answers oddly), and the push itself will.
 */
export interface PushAccess {
  writable: boolean | undefined;
  /** Why not, or why unknown; never a secret value. */
  reason: string | undefined;
}

const PROBE_TIMEOUT_MS = 15_000;

/**
 * Asks the server what a push would be told first. Smart HTTP: the receive-pack discovery
 * (`GET info/refs?service=git-receive-pack`) with the credential — servers refuse it with 401 or
 * 403 to a credential that may only read (GitHub, GitLab, Gitea, git http-backend). SSH: `git push
 * --dry-run` of a ref that does not exist, which connects to receive-pack and sends nothing.
 */
export async function probePushAccess(
  url: string,
  creds: GitCredentials | undefined,
  options: GitOperationOptions = {},
): Promise<PushAccess> {
  const checked = validateRepositoryUrl(url);
  if (checked.kind === 'http') return probeHttp(checked.url, creds, options);
  return probeWithGit(checked.url, creds, options);
}

/** The answer for an HTTP status of the receive-pack discovery (pure: the table the console relies on). */
export function pushAccessOfStatus(status: number): PushAccess {
  if (status === 200) return { writable: true, reason: undefined };
  if (status === 401) return { writable: false, reason: 'the Git server does not accept this credential for pushing (HTTP 401)' };
  if (status === 403) return { writable: false, reason: 'the credential may read the repository but not push to it (HTTP 403)' };
  if (status === 404) return { writable: false, reason: 'the Git server has no such repository to push to (HTTP 404)' };
  return { writable: undefined, reason: `the Git server answered HTTP ${status} when asked about pushing` };
}

async function probeHttp(url: string, creds: GitCredentials | undefined, options: GitOperationOptions): Promise<PushAccess> {
  try {
    refuseCredentialsOverHttp(creds, url, options.allowInsecureHttp);
  } catch (err) {
    return { writable: false, reason: isTidemarkError(err) ? err.message : 'the credential may not be sent over plain http://' };
  }
  // A username in the URL would send other credentials than the Secret's: leave that to the push.
  if (new URL(url).username !== '') return { writable: undefined, reason: 'the URL names a user; the push will tell' };
  const pool = new HttpPool({ ...(creds?.caFile === undefined ? {} : { ca: creds.caFile }), maxSockets: 1, keepAliveMs: 1_000 });
  const deadline = timeoutSignal(options.timeoutMs ?? PROBE_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;
  try {
    const response = await pool.request(`${url.replace(/\/+$/, '')}/info/refs?service=git-receive-pack`, {
      headers: { ...authHeaders(creds), 'user-agent': 'git/2.39-tidemark' },
      signal,
    });
    await response.dump();
    return pushAccessOfStatus(response.statusCode);
  } catch {
    // The error may quote the request; only its kind leaves here.
    return {
      writable: undefined,
      reason: signal.aborted ? 'the Git server did not answer in time' : 'the Git server could not be reached',
    };
  } finally {
    await pool.close();
  }
}

async function probeWithGit(url: string, creds: GitCredentials | undefined, options: GitOperationOptions): Promise<PushAccess> {
  const temp = await privateTempDir('probe');
  let auth: Awaited<ReturnType<typeof prepareAuth>> | undefined;
  try {
    auth = await prepareAuth(creds, validateRepositoryUrl(url), options.allowInsecureHttp);
    const dir = join(temp.path, 'repo');
    await mkdir(dir);
    const local = (args: string[], operation: string) =>
      runGit(args, { ...options, cwd: dir, env: gitEnvironment(), operation, defaultTimeoutMs: PROBE_TIMEOUT_MS });
    await local(['init', '--quiet'], 'init');
    const env = gitEnvironment({
      ...auth.env,
      GIT_AUTHOR_NAME: 'probe',
      GIT_AUTHOR_EMAIL: 'probe@tidemark.invalid',
      GIT_COMMITTER_NAME: 'probe',
      GIT_COMMITTER_EMAIL: 'probe@tidemark.invalid',
    });
    await runGit(['commit', '--quiet', '--allow-empty', '--no-gpg-sign', '-m', 'probe'], {
      ...options,
      cwd: dir,
      env,
      operation: 'commit',
      defaultTimeoutMs: PROBE_TIMEOUT_MS,
    });
    // A ref nobody has: the dry run connects to receive-pack, reads its advertisement and stops.
    await runGit(['push', '--dry-run', '--porcelain', '--no-verify', '--', url, 'HEAD:refs/heads/tidemark-push-probe/dry-run'], {
      ...options,
      cwd: dir,
      env,
      operation: 'push',
      url,
      secrets: auth.secrets,
      defaultTimeoutMs: PROBE_TIMEOUT_MS,
    });
    return { writable: true, reason: undefined };
  } catch (err) {
    if (!isTidemarkError(err)) return { writable: undefined, reason: 'the push probe failed' };
    if (err.code === GitErrorCode.AuthenticationFailed)
      return { writable: false, reason: 'the Git server does not accept this credential' };
    if (err.code === GitErrorCode.PermissionDenied) return { writable: false, reason: 'the credential may not push to this repository' };
    if (err.code === GitErrorCode.RepositoryNotFound) return { writable: false, reason: 'the Git server has no such repository' };
    if (err.code === GitErrorCode.InvalidSpec || err.code === GitErrorCode.InsecureCredentials) {
      return { writable: false, reason: err.message };
    }
    return { writable: undefined, reason: `the push probe failed: ${err.code}` };
  } finally {
    await auth?.dispose();
    await temp.remove();
  }
}

function authHeaders(creds: GitCredentials | undefined): Record<string, string> {
  if (creds && 'username' in creds) {
    return { authorization: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` };
  }
  if (creds && 'bearerToken' in creds) return { authorization: `Bearer ${creds.bearerToken}` };
  return {};
}
