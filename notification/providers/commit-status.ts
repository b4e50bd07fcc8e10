import { createHash } from 'node:crypto';
import type { NotificationEvent } from '../alerts/event.ts';
import type { OutgoingRequest, ResolvedProvider } from './payloads.ts';

/**
 * A sync's outcome as a status on the synced commit, with each forge's own API: the event's
 * revision (`main@sha1:<hex>`) names the commit, the provider's address the repository
 * (`https://github.com/org/repo`, a self-hosted GitLab, Gitea or Bitbucket Cloud).
 */
export function commitStatusRequest(provider: ResolvedProvider, event: NotificationEvent): OutgoingRequest | undefined {
  const sha = commitOf(event.metadata.revision);
  if (!sha || event.involvedObject.kind !== 'ContinuousDeployment') return undefined;
  const repo = repositoryOf(provider.address);
  const ok = event.severity === 'info';
  // One status per deployment: a second deployment of the same commit gets a context of its own.
  const context = `tidemark/${event.involvedObject.namespace}/${event.involvedObject.name}`;
  const description = truncate(event.message, 140);
  const json = { 'content-type': 'application/json' };
  switch (provider.type) {
    case 'github': {
      const api = repo.host === 'github.com' ? 'https://api.github.com' : `${repo.origin}/api/v3`;
      return {
        url: `${api}/repos/${repo.owner}/${repo.name}/statuses/${sha}`,
        headers: { ...json, accept: 'application/vnd.github+json', ...auth('Bearer', provider.token) },
        body: JSON.stringify({ state: ok ? 'success' : 'failure', context, description }),
      };
    }
    case 'gitlab':
      return {
        url: `${repo.origin}/api/v4/projects/${encodeURIComponent(repo.path)}/statuses/${sha}`,
        headers: { ...json, ...(provider.token ? { 'private-token': provider.token } : {}) },
        body: JSON.stringify({ state: ok ? 'success' : 'failed', name: context, description }),
      };
    case 'gitea':
      return {
        url: `${repo.origin}/api/v1/repos/${repo.owner}/${repo.name}/statuses/${sha}`,
        headers: { ...json, ...auth('token', provider.token) },
        body: JSON.stringify({ state: ok ? 'success' : 'failure', context, description }),
      };
    case 'bitbucket': {
      // Bitbucket keys are at most 40 characters: a digest of the context keeps them unique.
      const key = createHash('sha1').update(context).digest('hex');
      const basic =
        provider.username && provider.password ? Buffer.from(`${provider.username}:${provider.password}`).toString('base64') : undefined;
      return {
        url: `https://api.bitbucket.org/2.0/repositories/${repo.owner}/${repo.name}/commit/${sha}/statuses/build`,
        headers: { ...json, ...auth('Basic', basic) },
        body: JSON.stringify({
          state: ok ? 'SUCCESSFUL' : 'FAILED',
          key,
          name: truncate(context, 255),
          description,
          url: provider.address,
        }),
      };
    }
    default:
      return undefined;
  }
}

function auth(scheme: string, credential: string | undefined): Record<string, string> {
  return credential ? { authorization: `${scheme} ${credential}` } : {};
}

/** The commit of `branch@sha1:<hex>` (or a bare SHA); undefined for anything else. */
export function commitOf(revision: string | undefined): string | undefined {
  const match = /(?:^|@sha(?:1|256):)([0-9a-f]{40}|[0-9a-f]{64})$/.exec(revision ?? '');
  return match?.[1];
}

interface Repository {
  origin: string;
  host: string;
  /** `org/repo` (GitLab: `group/subgroup/repo`). */
  path: string;
  owner: string;
  name: string;
}

function repositoryOf(address: string): Repository {
  const url = new URL(address);
  const path = url.pathname.replace(/^\/+|\/+$/g, '').replace(/\.git$/, '');
  const parts = path.split('/');
  if (parts.length < 2 || parts.some((p) => p === '')) throw new Error(`${url.origin}/${path} does not name a repository (owner/name)`);
  return { origin: url.origin, host: url.host, path, owner: parts.slice(0, -1).join('/'), name: parts.at(-1) as string };
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
