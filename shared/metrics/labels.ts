import { REASONS } from '../errors/reasons.ts';

const KNOWN_REASONS: ReadonlySet<string> = new Set(REASONS);

/** What a reconcile ended in. */
export type ReconcileResultLabel = 'success' | 'retry' | 'failure';

/** A Reason, or `Other` for anything else: the label never takes free text. */
export function reasonLabel(code: string | undefined): string {
  if (code === undefined) return 'none';
  return KNOWN_REASONS.has(code) ? code : 'Other';
}

const VERBS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'WATCH']);

export function verbLabel(method: string): string {
  const verb = method.toUpperCase();
  return VERBS.has(verb) ? verb : 'OTHER';
}

/** An HTTP status code as the server sent it, or `error` when none came back. */
export function codeLabel(status: number | undefined): string {
  if (status === undefined || !Number.isInteger(status) || status < 100 || status > 599) return 'error';
  return String(status);
}

const GIT_OPERATIONS = new Set(['clone', 'fetch', 'ls-remote', 'push', 'commit', 'rebase']);

export function gitOperationLabel(operation: string): string {
  return GIT_OPERATIONS.has(operation) ? operation : 'other';
}

/**
 * A registry's host:port, lower-cased. Hosts come from the cluster's own ImageRepositories and the
 * token realms they name, so there are as many as configured registries, not as many as images.
 */
export function hostLabel(host: string): string {
  const lower = host.toLowerCase();
  return /^[a-z0-9.-]{1,253}(:\d{1,5})?$/.test(lower) ? lower : 'invalid';
}

/** A Kubernetes kind as Tidemark names it (`ContinuousDeployment`). */
export function kindLabel(kind: string): string {
  return /^[A-Z][A-Za-z0-9]{0,62}$/.test(kind) ? kind : 'Other';
}

/**
 * What a webhook call ended in: a small fixed set, whatever the caller sent. `unmatched`: a valid
 * call that selected nothing (a push of an image no selected ImageRepository watches).
 */
export const WEBHOOK_RESULTS = [
  'accepted',
  'ignored',
  'unmatched',
  'replayed',
  'unauthorized',
  'not_found',
  'bad_request',
  'method_not_allowed',
  'too_large',
  'rate_limited',
  'failed',
] as const;
export type WebhookResultLabel = (typeof WEBHOOK_RESULTS)[number];
