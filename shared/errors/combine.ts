import { describeError, terminal, type TidemarkError } from './index.ts';

/**
 * Every problem a validation found, as one terminal error for one condition and one Event. One
 * problem keeps its own code and hint; several are counted and listed, each with its hint, under
 * the code they share, or InvalidSpec when they differ:
 * `3 problems: spec.url: is required (set spec.url ...); spec.pullInterval: invalid duration "soon" (...); ...`.
 */
export function combineErrors(errors: readonly TidemarkError[]): TidemarkError {
  const first = errors[0];
  if (!first) return terminal('InvalidSpec', 'the spec is invalid');
  if (errors.length === 1) return first;
  const code = errors.every((e) => e.code === first.code) ? first.code : 'InvalidSpec';
  return terminal(code, `${errors.length} problems: ${errors.map(describeError).join('; ')}`);
}
