import { GitErrorCode, gitError } from './errors.ts';
import { prepareAuth } from './credentials.ts';
import { parseLsRemote, pickSemverTag, requireRef, tagNames } from './refs.ts';
import type { RemoteRefs } from './refs.ts';
import { recordGitOperation } from '../metrics/index.ts';
import { failureReason, gitEnvironment, runGit } from './run.ts';
import { listRefsOverHttp } from './smart-http.ts';
import { privateTempDir } from './temp-dirs.ts';
import type { GitCredentials, GitOperationOptions, GitRefSpec, ResolvedRevision } from './types.ts';
import { validateRefSpec, validateRepositoryUrl } from './validate.ts';
import type { CheckedRef } from './validate.ts';

const LS_REMOTE_TIMEOUT_MS = 60_000;

/**
 * Resolves a ref to a commit with one `git ls-remote`, without fetching: the cheap poll the agent
 * makes every interval. Annotated tags are peeled; `semver` picks the newest matching tag.
 */
export async function lsRemote(
  url: string,
  creds: GitCredentials | undefined,
  ref: GitRefSpec | undefined,
  options: GitOperationOptions = {},
): Promise<ResolvedRevision> {
  const checked = validateRepositoryUrl(url);
  const want = validateRefSpec(ref);
  const remote = await listRemote(checked.url, checked.kind, creds, patternsFor(want), want.kind === 'default', options);
  return resolveFromRefs(remote, want);
}

/** Exact-match patterns keep the answer small; ls-remote matches them as ref-name tails. */
function patternsFor(want: CheckedRef): string[] {
  switch (want.kind) {
    case 'branch':
      return [`refs/heads/${want.branch}`];
    case 'tag':
      return [`refs/tags/${want.tag}`, `refs/tags/${want.tag}^{}`];
    case 'semver':
      return ['refs/tags/*'];
    case 'default':
      return ['HEAD'];
    case 'commit':
      return [];
  }
}

/** Picks the revision out of an ls-remote answer. Pure. */
export function resolveFromRefs(remote: RemoteRefs, want: CheckedRef): ResolvedRevision {
  switch (want.kind) {
    case 'branch':
      return revision(want.branch, requireRef(remote, `refs/heads/${want.branch}`, `branch ${JSON.stringify(want.branch)}`));
    case 'tag':
      return revision(want.tag, requireRef(remote, `refs/tags/${want.tag}`, `tag ${JSON.stringify(want.tag)}`));
    case 'semver': {
      const tag = pickSemverTag(tagNames(remote), want.range);
      if (tag === undefined) {
        throw gitError(
          GitErrorCode.RefNotFound,
          `no tag matches the semver range ${JSON.stringify(want.range)}`,
          'check git.semver and the tags in the repository',
        );
      }
      return revision(tag, requireRef(remote, `refs/tags/${tag}`, `tag ${JSON.stringify(tag)}`));
    }
    case 'default': {
      const target = remote.headTarget;
      const sha = remote.refs.get('HEAD');
      if (!sha) throw gitError(GitErrorCode.RefNotFound, 'the repository has no default branch (HEAD)', 'set git.branch');
      const branch = target?.startsWith('refs/heads/') ? target.slice('refs/heads/'.length) : 'HEAD';
      return revision(branch, sha);
    }
    case 'commit': {
      const advertised = [...remote.refs.values(), ...remote.peeled.values()].includes(want.commit);
      return { ...revision(want.branch ?? '', want.commit), verified: advertised };
    }
  }
}

function revision(ref: string, sha: string): ResolvedRevision {
  return { ref, sha, revision: ref ? `${ref}@sha1:${sha}` : `sha1:${sha}`, verified: true };
}

/** ls-remote's exact-name patterns as protocol v2 `ref-prefix` arguments (`refs/tags/*` → `refs/tags/`). */
function prefixesOf(patterns: readonly string[]): string[] {
  return [...new Set(patterns.map((pattern) => pattern.replace(/\^\{\}$/, '').replace(/\*$/, '')))];
}

/**
 * Lists a remote's refs: in process over smart HTTP (smart-http.ts) where it can, else with
 * `git ls-remote` outside any repository and credentials from the environment.
 */
export async function listRemote(
  url: string,
  kind: 'http' | 'ssh' | 'file',
  creds: GitCredentials | undefined,
  patterns: readonly string[],
  symref: boolean,
  options: GitOperationOptions,
): Promise<RemoteRefs> {
  if (kind === 'http') {
    const refs = await listRefsOverHttp(url, creds, { prefixes: prefixesOf(patterns) }, options).catch((err: unknown) => {
      if (!options.signal?.aborted) recordGitOperation('ls-remote', failureReason(err));
      throw err;
    });
    if (refs) {
      recordGitOperation('ls-remote', undefined);
      return refs;
    }
  }
  const auth = await prepareAuth(creds, { url, kind }, options.allowInsecureHttp);
  const temp = await privateTempDir('ls').catch(async (err: unknown) => {
    await auth.dispose();
    throw err;
  });
  const cwd = temp.path;
  try {
    const args = ['ls-remote', ...(symref ? ['--symref'] : []), '--', url, ...patterns];
    const stdout = await runGit(args, {
      ...options,
      cwd,
      env: gitEnvironment(auth.env),
      operation: 'ls-remote',
      url,
      secrets: auth.secrets,
      defaultTimeoutMs: LS_REMOTE_TIMEOUT_MS,
    });
    return parseLsRemote(stdout);
  } finally {
    await Promise.all([auth.dispose(), temp.remove()]);
  }
}
