import { TidemarkError, terminal, transient, type Reason } from '../errors/index.ts';

/**
 * The registry client's stable error codes. Terminal: retrying cannot help until someone changes
 * the reference, the credentials, the TLS settings or the limits. Transient: the registry or the
 * network failed and a later attempt may succeed.
 */
export const RegistryErrorCode = {
  InvalidImageReference: 'InvalidImageReference',
  InvalidRegistryCredentials: 'InvalidRegistryCredentials',
  InvalidRegistryTLS: 'InvalidRegistryTLS',
  InvalidRegistryOptions: 'InvalidRegistryOptions',
  RegistryUnauthorized: 'RegistryUnauthorized',
  RegistryForbidden: 'RegistryForbidden',
  RepositoryNotFound: 'RepositoryNotFound',
  ManifestNotFound: 'ManifestNotFound',
  RegistryInsecureRealm: 'RegistryInsecureRealm',
  RegistryRealmRefused: 'RegistryRealmRefused',
  RegistryTLSError: 'RegistryTLSError',
  RegistryTooManyTags: 'RegistryTooManyTags',
  RegistryResponseTooLarge: 'RegistryResponseTooLarge',
  RegistryPaginationError: 'RegistryPaginationError',
  RegistryBadRequest: 'RegistryBadRequest',
  RegistryBadResponse: 'RegistryBadResponse',
  RegistryDigestMismatch: 'RegistryDigestMismatch',
  RegistryRateLimited: 'RegistryRateLimited',
  RegistryUnavailable: 'RegistryUnavailable',
  RegistryUnreachable: 'RegistryUnreachable',
  RegistryTimeout: 'RegistryTimeout',
} as const satisfies Record<string, Reason>;

export type RegistryErrorCode = (typeof RegistryErrorCode)[keyof typeof RegistryErrorCode];

/** Codes worth another attempt within one call: the registry asked us to wait, or it or the path to it failed. */
const RETRYABLE: ReadonlySet<Reason> = new Set<Reason>([
  RegistryErrorCode.RegistryRateLimited,
  RegistryErrorCode.RegistryUnavailable,
  RegistryErrorCode.RegistryUnreachable,
  RegistryErrorCode.RegistryTimeout,
]);

export function isRetryable(err: unknown): boolean {
  return err instanceof TidemarkError && RETRYABLE.has(err.code);
}

export function registryTerminal(code: RegistryErrorCode, message: string, hint?: string, cause?: unknown): TidemarkError {
  return terminal(code, message, hint, cause);
}

export function registryTransient(code: RegistryErrorCode, message: string, cause?: unknown, retryAfterMs?: number): TidemarkError {
  return transient(code, message, cause, retryAfterMs);
}

const SECRETISH = /[A-Za-z0-9+/_=.-]{32,}/g;

/**
 * A short, single-line, printable excerpt of a reply body for error messages. Long opaque runs
 * (tokens, base64) are masked so a misbehaving peer cannot smuggle secrets into status or Events.
 */
export function safeExcerpt(body: Buffer | string, max = 120): string {
  const text = typeof body === 'string' ? body : body.subarray(0, max * 8).toString('utf8');
  const flat = text
    .replace(/<[^>]{0,200}>/g, ' ')
    .replace(/[^\x20-\x7e]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(SECRETISH, '[…]');
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
