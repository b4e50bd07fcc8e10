/**
 * CEL (the Common Expression Language) for what users write into specs: health checks today,
 * dependency readiness later. Expressions are compiled once when the spec is read (a bad one is
 * a problem of the spec, not a crash) and evaluated over plain JSON with a bounded cost.
 */
export type { CelOutcome, EvaluateOptions } from './expression.ts';
export {
  CelBindings,
  CelExpression,
  compileCel,
  DEFAULT_MAX_ITERATIONS,
  MAX_CACHED_SOURCE_CHARS,
  MAX_EXPRESSION_LENGTH,
} from './expression.ts';
