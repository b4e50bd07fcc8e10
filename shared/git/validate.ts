import { invalidSpec, redactUrlPassword } from './errors.ts';
import { compileSemverRange } from './refs.ts';
import type { GitRefSpec } from './types.ts';

/** The transports Tidemark lets git use; `ext::` and friends would run commands. */
export const ALLOWED_PROTOCOLS = ['http', 'https', 'ssh', 'file'] as const;

export type UrlKind = 'http' | 'ssh' | 'file';

export interface CheckedUrl {
  url: string;
  kind: UrlKind;
}

// user@host:path, the scp-like form. The host may not hold '/' (then it would be a local path).
const SCP_LIKE = /^(?:([A-Za-z0-9._~+-]+)@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(.+)$/;

/** Refuses a value that git could read as an option. */
export function refuseOptionLike(what: string, value: string): void {
  if (value.startsWith('-')) throw invalidSpec(`${what} ${JSON.stringify(redactUrlPassword(value))} must not start with "-"`);
}

/**
 * Checks a repository URL: one of https://, http://, ssh://, file:// or user@host:path; no
 * whitespace or control characters; no password in it (credentials belong in the secret); no host
 * or path that ssh or git could take for an option.
 */
export function validateRepositoryUrl(url: string): CheckedUrl {
  if (typeof url !== 'string' || url.length === 0) throw invalidSpec('the repository URL is empty');
  refuseOptionLike('repository URL', url);
  if (/\s/.test(url) || hasAsciiControl(url)) throw invalidSpec('the repository URL contains whitespace or control characters');
  if (url.length > 2048) throw invalidSpec('the repository URL is too long');

  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme !== undefined) return checkUrlForm(url, scheme);
  if (url.includes('::')) throw invalidSpec('the repository URL uses a transport that is not allowed', allowedHint());

  const scp = SCP_LIKE.exec(url);
  if (!scp) throw invalidSpec(`unsupported repository URL ${JSON.stringify(url)}`, allowedHint());
  const host = scp[2] as string;
  const path = scp[3] as string;
  if (host.startsWith('-') || path.startsWith('-')) throw invalidSpec('the repository URL has a host or path starting with "-"');
  return { url, kind: 'ssh' };
}

function checkUrlForm(url: string, scheme: string): CheckedUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The message reaches status, Events and logs: a password in the URL must not.
    throw invalidSpec(`the repository URL ${JSON.stringify(redactUrlPassword(url))} does not parse`, allowedHint());
  }
  if (parsed.password) {
    throw invalidSpec('the repository URL carries a password', 'put credentials in the Git secret, not in the URL');
  }
  const kind: UrlKind | undefined =
    scheme === 'http' || scheme === 'https' ? 'http' : scheme === 'ssh' ? 'ssh' : scheme === 'file' ? 'file' : undefined;
  if (!kind) throw invalidSpec(`the repository URL scheme ${JSON.stringify(scheme)} is not allowed`, allowedHint());
  if (kind !== 'file' && parsed.hostname === '') throw invalidSpec('the repository URL has no host');
  if (parsed.hostname.startsWith('-') || decodeURIComponent(parsed.username).startsWith('-')) {
    throw invalidSpec('the repository URL has a host or user starting with "-"');
  }
  if (kind === 'file' && parsed.hostname !== '' && parsed.hostname !== 'localhost') {
    throw invalidSpec('a file:// URL must name a local path');
  }
  if (parsed.pathname === '' || parsed.pathname === '/') throw invalidSpec('the repository URL has no path');
  return { url, kind };
}

/** True when `s` holds an ASCII control character, U+0000 to U+001F or DEL (U+007F). */
function hasAsciiControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code <= 0x1f || code === 0x7f) return true;
  }
  return false;
}

function allowedHint(): string {
  return 'use https://, http://, ssh://, file:// or git@host:path';
}

/** What git refuses in a ref name besides the control characters (hasAsciiControl finds those). */
const FORBIDDEN_REF_CHARS = /[ ~^:?*[\\]/;

/**
 * git check-ref-format's rules for one short branch or tag name, plus Tidemark's own: no leading
 * '-' (it would read as an option) and at most 255 bytes.
 */
export function validateRefName(what: 'branch' | 'tag', name: string): string {
  const bad = refNameProblem(name);
  if (bad) throw invalidSpec(`invalid ${what} name ${JSON.stringify(name)}: ${bad}`);
  return name;
}

export function refNameProblem(name: string): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'empty';
  if (name.startsWith('-')) return 'starts with "-"';
  if (Buffer.byteLength(name) > 255) return 'too long';
  if (name === '@') return 'is "@"';
  if (FORBIDDEN_REF_CHARS.test(name) || hasAsciiControl(name)) return 'contains a space, control character or one of ~^:?*[\\';
  if (name.includes('..')) return 'contains ".."';
  if (name.includes('@{')) return 'contains "@{"';
  if (name.includes('//')) return 'contains "//"';
  if (name.startsWith('/') || name.endsWith('/')) return 'starts or ends with "/"';
  if (name.endsWith('.')) return 'ends with "."';
  for (const part of name.split('/')) {
    if (part.startsWith('.')) return 'has a component starting with "."';
    if (part.endsWith('.lock')) return 'has a component ending with ".lock"';
  }
  return undefined;
}

const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

export function validateCommitSha(sha: string): string {
  const lower = typeof sha === 'string' ? sha.toLowerCase() : '';
  if (!SHA.test(lower))
    throw invalidSpec(`invalid commit ${JSON.stringify(sha)}`, 'give the full commit SHA: 40 hex digits (SHA-1) or 64 (SHA-256)');
  return lower;
}

/** Which of a ref spec's fields is followed, after validation. Flux's precedence: commit, semver, tag, branch. */
export type CheckedRef =
  | { kind: 'commit'; commit: string; branch?: string }
  | { kind: 'semver'; range: string }
  | { kind: 'tag'; tag: string }
  | { kind: 'branch'; branch: string }
  /** Nothing set: follow the branch the server's HEAD points at. */
  | { kind: 'default' };

export function validateRefSpec(ref: GitRefSpec | undefined): CheckedRef {
  const spec = ref ?? {};
  for (const field of ['branch', 'tag', 'semver', 'commit'] as const) {
    const value = spec[field];
    if (value !== undefined && (typeof value !== 'string' || value.trim() === '')) {
      throw invalidSpec(`git.${field} must be a non-empty string`);
    }
  }
  if (spec.commit !== undefined) {
    const branch = spec.branch === undefined ? undefined : validateRefName('branch', spec.branch);
    return branch === undefined
      ? { kind: 'commit', commit: validateCommitSha(spec.commit) }
      : { kind: 'commit', commit: validateCommitSha(spec.commit), branch };
  }
  if (spec.semver !== undefined) {
    // Checked here, before any network call, so a bad range is reported as the spec's fault.
    compileSemverRange(spec.semver);
    return { kind: 'semver', range: spec.semver };
  }
  if (spec.tag !== undefined) return { kind: 'tag', tag: validateRefName('tag', spec.tag) };
  if (spec.branch !== undefined) return { kind: 'branch', branch: validateRefName('branch', spec.branch) };
  return { kind: 'default' };
}
