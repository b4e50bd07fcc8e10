import { TidemarkError, type Reason } from '../errors/index.ts';

/** The API server's metav1.Status reasons we act on. */
export type KnownKubeStatusReason =
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'Forbidden'
  | 'Unauthorized'
  | 'BadRequest'
  | 'MethodNotAllowed'
  | 'Gone'
  | 'TooManyRequests'
  | 'InternalError'
  | 'Timeout'
  | 'ServerTimeout'
  | 'ServiceUnavailable';

/**
 * A metav1.Status reason: one we know, or whatever else the server sends. `string & {}` keeps the
 * known names visible to editors instead of collapsing the union into plain `string`.
 */
export type KubeStatusReason = KnownKubeStatusReason | (string & {});

/**
 * An error answer from the API server. `code` follows Tidemark's vocabulary; `status` and
 * `statusReason` keep the server's own words so callers can branch on NotFound or Conflict.
 */
export class KubeApiError extends TidemarkError {
  readonly status: number;
  readonly statusReason: KubeStatusReason;

  constructor(status: number, statusReason: KubeStatusReason, message: string, retryAfterMs?: number, hint?: string) {
    // Server-side apply answers 500 when an object does not fit the type schema (Kubernetes 1.20:
    // "failed to create typed patch object"); retrying cannot fix the object, so it is terminal.
    const badObject = status === 500 && message.includes('failed to create typed patch object');
    const transient = !badObject && (status === 429 || status >= 500 || status === 409);
    super(badObject ? 'ObjectInvalid' : codeFor(status, statusReason), message, {
      kind: transient ? 'transient' : 'terminal',
      hint: hint ?? hintFor(status),
      retryAfterMs,
    });
    this.name = 'KubeApiError';
    this.status = status;
    this.statusReason = statusReason;
  }
}

function codeFor(status: number, reason: string): Reason {
  if (status === 404) return 'NotFound';
  if (status === 403) return 'Forbidden';
  if (status === 401) return 'Unauthorized';
  if (status === 422) return 'ObjectInvalid';
  if (status === 409) return reason === 'AlreadyExists' ? 'AlreadyExists' : 'Conflict';
  if (status === 400) return 'BadRequest';
  if (status === 429) return 'TooManyRequests';
  return 'APIServerError';
}

function hintFor(status: number): string | undefined {
  if (status === 403) return 'grant the agent RBAC rights for this resource';
  if (status === 401) return 'check the kubeconfig or service account token';
  return undefined;
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 404;
}

export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 409;
}

export function isForbidden(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 403;
}
