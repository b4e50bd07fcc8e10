import { isTidemarkError } from '../errors/index.ts';
import { formatDuration, parseDuration } from '../time/duration.ts';
import { MAX_INTERVAL_HINT, MAX_INTERVAL_MS } from './limits.ts';
import { objectNameProblem } from './names.ts';
import { isObject, type Problems } from './problems.ts';

/** Field readers: each reports a problem and returns `undefined` for a value it cannot use. */

export interface ReadOptions {
  required?: boolean;
  /** Path of the field when `from` is nested (default: `key`). */
  at?: string;
}

export function readString(problems: Problems, from: Record<string, unknown>, key: string, options: ReadOptions = {}): string | undefined {
  const at = options.at ?? key;
  const value = from[key];
  if (value === undefined || value === null) {
    if (options.required) problems.add(at, 'is required');
    return undefined;
  }
  if (typeof value !== 'string') {
    problems.add(at, `must be a string, not ${describe(value)}`);
    return undefined;
  }
  return value;
}

/** A boolean; `fallback` (false unless given) when absent. */
export function readBoolean(problems: Problems, from: Record<string, unknown>, key: string, fallback = false, at = key): boolean {
  const value = from[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') {
    problems.add(at, `must be true or false, not ${describe(value)}`);
    return fallback;
  }
  return value;
}

export interface DurationOptions {
  /** Path of the field when `from` is nested (default: `key`). */
  at?: string;
  /** Why a duration under a second is refused. */
  hint?: string;
  /** The longest accepted (default MAX_INTERVAL_MS, a day), and how to fix a longer one. */
  max?: { ms: number; hint: string };
}

/** A Go duration of at least one second and at most `max` (a day unless given); `fallback` when absent. */
export function readDuration(
  problems: Problems,
  from: Record<string, unknown>,
  key: string,
  fallback: string | undefined,
  options: DurationOptions = {},
): number | undefined {
  const at = options.at ?? key;
  const text = readString(problems, from, key, { at }) ?? fallback;
  if (text === undefined) return undefined;
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch (err) {
    if (!isTidemarkError(err)) throw err;
    problems.add(at, err.message, err.hint, err.code);
    return undefined;
  }
  if (ms < 1000) {
    problems.add(
      at,
      `${JSON.stringify(text)} is shorter than 1s`,
      options.hint ?? 'registries are polled; use at least 1s (typically minutes)',
    );
    return undefined;
  }
  const max = options.max ?? { ms: MAX_INTERVAL_MS, hint: MAX_INTERVAL_HINT };
  if (ms > max.ms) {
    problems.add(at, `${JSON.stringify(text)} is longer than ${formatDuration(max.ms)}`, max.hint);
    return undefined;
  }
  return ms;
}

/** A nested object, or `undefined` when absent (a problem when it is something else). */
export function optionalObject(
  problems: Problems,
  from: Record<string, unknown>,
  key: string,
  at = key,
): Record<string, unknown> | undefined {
  const value = from[key];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) {
    problems.add(at, `must be an object, not ${describe(value)}`);
    return undefined;
  }
  return value;
}

/** A map of strings; `{}` when absent. */
export function readStringMap(problems: Problems, value: unknown, at: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) {
    problems.add(at, `must be a map of strings, not ${describe(value)}`);
    return {};
  }
  const out: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string') problems.add(`${at}.${key}`, `must be a string, not ${describe(entry)}`);
    else out[key] = entry;
  }
  return out;
}

/** `{name}` reference to a Secret in the same namespace. */
export function readSecretRef(problems: Problems, from: Record<string, unknown>, key: string): string | undefined {
  const value = from[key];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) {
    problems.add(key, `must be an object {name: <secret>}, not ${describe(value)}`);
    return undefined;
  }
  for (const field of Object.keys(value)) {
    if (field !== 'name') problems.add(`${key}.${field}`, 'unknown field', 'a secret reference has only name');
  }
  if (value.name === undefined || value.name === null) {
    problems.add(`${key}.name`, 'is required');
    return undefined;
  }
  return readSecretName(problems, value.name, `${key}.name`);
}

/** A Secret name (the inline block writes `secretRef: my-secret`); absent is fine. */
export function readSecretName(problems: Problems, value: unknown, at: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    problems.add(at, `must be a string, not ${describe(value)}`);
    return undefined;
  }
  const problem = objectNameProblem(value);
  if (problem) {
    problems.add(at, problem);
    return undefined;
  }
  return value;
}

export function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}
