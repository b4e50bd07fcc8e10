import { TidemarkError } from './index.ts';

/**
 * Validation finds every problem at once; status and Events carry them as one terminal error
 * with the first problem's code and hint and every message.
 */
export function combineErrors(errors: readonly TidemarkError[]): TidemarkError {
  const first = errors[0];
  if (!first) return new TidemarkError('InvalidSpec', 'the spec is invalid', { kind: 'terminal' });
  if (errors.length === 1) return first;
  return new TidemarkError(first.code, errors.map((e) => e.message).join('; '), { kind: 'terminal', hint: first.hint });
}
