/**
 * Typed errors with stable codes. The code doubles as the condition reason and the Event reason,
 * so one word names a failure everywhere (status, Events, logs, metrics).
 *
 * - transient: the outside world failed (network, 5xx, conflict); retry with backoff.
 * - terminal: the configuration or the content is wrong; retrying cannot help until a human
 *   changes something, and `hint` says what.
 */
import type { Reason } from './reasons.ts';

export { REASONS } from './reasons.ts';
export type { Reason } from './reasons.ts';

export type ErrorKind = 'transient' | 'terminal';

export interface TidemarkErrorOptions {
  kind: ErrorKind;
  hint?: string | undefined;
  cause?: unknown;
  /** Milliseconds the peer asked us to wait (Retry-After), when it said so. */
  retryAfterMs?: number | undefined;
}

export class TidemarkError extends Error {
  readonly code: Reason;
  readonly kind: ErrorKind;
  readonly hint: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(code: Reason, message: string, options: TidemarkErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TidemarkError';
    this.code = code;
    this.kind = options.kind;
    this.hint = options.hint;
    this.retryAfterMs = options.retryAfterMs;
  }

  get transient(): boolean {
    return this.kind === 'transient';
  }
}

export function terminal(code: Reason, message: string, hint?: string, cause?: unknown): TidemarkError {
  return new TidemarkError(code, message, { kind: 'terminal', hint, cause });
}

export function transient(code: Reason, message: string, cause?: unknown, retryAfterMs?: number): TidemarkError {
  return new TidemarkError(code, message, { kind: 'transient', cause, retryAfterMs });
}

export function isTidemarkError(err: unknown): err is TidemarkError {
  return err instanceof TidemarkError;
}

/**
 * Normalises anything thrown into a TidemarkError. Unknown errors are treated as transient:
 * a bug or an unexpected reply should be retried with backoff, not stall the object forever.
 */
export function toTidemarkError(err: unknown, fallbackCode: Reason = 'InternalError'): TidemarkError {
  if (err instanceof TidemarkError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new TidemarkError(fallbackCode, message, { kind: 'transient', cause: err });
}

/** A one-line message for status and Events: the message plus, for terminal errors, the hint. */
export function describeError(err: TidemarkError): string {
  return err.hint ? `${err.message} (${err.hint})` : err.message;
}
