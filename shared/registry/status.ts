import type { TidemarkError } from '../errors/index.ts';
import { RegistryErrorCode, registryTerminal, registryTransient, safeExcerpt } from './errors.ts';
import type { HttpReply } from './http.ts';
import { parseRetryAfter } from './retry-after.ts';

/** The first `{errors: [{code, message}]}` entry of a distribution-spec error body, if any. */
export function registryErrorCode(body: Buffer): { code: string; message: string } | undefined {
  if (body.length === 0 || body.length > 64 * 1024) return undefined;
  try {
    const doc: unknown = JSON.parse(body.toString('utf8'));
    if (typeof doc !== 'object' || doc === null) return undefined;
    const errors = (doc as { errors?: unknown }).errors;
    if (!Array.isArray(errors)) return undefined;
    const first: unknown = errors[0];
    if (typeof first !== 'object' || first === null) return undefined;
    const { code, message } = first as { code?: unknown; message?: unknown };
    if (typeof code !== 'string') return undefined;
    return { code, message: typeof message === 'string' ? message : '' };
  } catch {
    return undefined;
  }
}

/** What the registry said, short and safe: its error code and message, or an excerpt of the body. */
export function replySummary(reply: HttpReply): string {
  const parsed = registryErrorCode(reply.body);
  if (parsed) return safeExcerpt(`${parsed.code}: ${parsed.message}`);
  return safeExcerpt(reply.body);
}

/**
 * Maps a non-success reply (other than a 401, which the auth flow handles) to an error.
 * `what` names the operation and image, e.g. `listing tags of ghcr.io/org/app`.
 */
export function statusError(reply: HttpReply, what: string, missing: 'repository' | 'manifest', nowMs: number): TidemarkError {
  const summary = replySummary(reply);
  const said = `${what}: registry answered ${reply.status}${summary ? ` (${summary})` : ''}`;
  const status = reply.status;
  if (status === 403) {
    return registryTerminal(RegistryErrorCode.RegistryForbidden, said, 'the credentials are valid but lack pull access to this repository');
  }
  if (status === 404) {
    const code = registryErrorCode(reply.body)?.code;
    const manifest = code === 'MANIFEST_UNKNOWN' || (code !== 'NAME_UNKNOWN' && missing === 'manifest');
    return manifest
      ? registryTerminal(RegistryErrorCode.ManifestNotFound, said, 'check the tag or digest')
      : registryTerminal(
          RegistryErrorCode.RepositoryNotFound,
          said,
          'check the image name; private repositories may also answer 404 without credentials',
        );
  }
  const retryAfterMs = parseRetryAfter(reply.headers['retry-after'], nowMs);
  if (status === 408) return registryTransient(RegistryErrorCode.RegistryTimeout, said, undefined, retryAfterMs);
  if (status === 429) return registryTransient(RegistryErrorCode.RegistryRateLimited, said, undefined, retryAfterMs);
  if (status >= 500 && status <= 599) return registryTransient(RegistryErrorCode.RegistryUnavailable, said, undefined, retryAfterMs);
  if (status === 400) return registryTerminal(RegistryErrorCode.RegistryBadRequest, said);
  if (status >= 300 && status <= 399) {
    return registryTransient(RegistryErrorCode.RegistryBadResponse, `${what}: registry answered with an unexpected redirect (${status})`);
  }
  return registryTransient(RegistryErrorCode.RegistryBadResponse, said);
}
