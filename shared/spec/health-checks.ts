import type { CelExpression } from '../cel/index.ts';
import { cel } from '../cel/lazy.ts';
import { splitApiVersion } from '../kube/object.ts';
import { namespaceProblem } from './names.ts';
import { checkKnownFields, isObject, type Problems } from './problems.ts';
import { describe, readString } from './read.ts';

/**
 * `spec.healthCheckExprs` and `spec.healthChecks`, with Flux Kustomization's meaning
 * (kustomize-controller v1, fluxcd/pkg runtime/cel).
 */

/** Most entries one deployment may declare in each list (the CRD's maxItems says the same). */
export const MAX_HEALTH_CHECK_EXPRS = 64;
export const MAX_HEALTH_CHECKS = 64;
/**
 * The expressions of one deployment together, in characters. A 4 KiB expression takes tens of
 * milliseconds to compile; this keeps one spec's worst case near a third of a second.
 */
export const MAX_HEALTH_CHECK_EXPR_CHARS = 32 * 1024;

export const HEALTH_CHECK_EXPR_FIELDS = ['apiVersion', 'kind', 'current', 'inProgress', 'failed'] as const;
export const HEALTH_CHECK_FIELDS = ['apiVersion', 'kind', 'name', 'namespace'] as const;

/** One compiled `spec.healthCheckExprs` entry. */
export interface HealthCheckExpr {
  /** Where it was written, for messages: `spec.healthCheckExprs[0]`. */
  at: string;
  /** Only the group of apiVersion counts: the entry covers every version of the kind (Flux). */
  group: string;
  /** Undefined: every kind of the group that has no entry of its own. */
  kind: string | undefined;
  current: CelExpression;
  inProgress: CelExpression | undefined;
  failed: CelExpression | undefined;
}

/** One `spec.healthChecks` entry: an object outside the rendered set whose health also counts. */
export interface HealthCheckRef {
  apiVersion: string;
  kind: string;
  name: string;
  /** Undefined: the object is cluster-scoped, or in the deployment's target namespace (see the reader). */
  namespace: string | undefined;
}

export function readHealthCheckExprs(problems: Problems, value: unknown, at = 'healthCheckExprs'): HealthCheckExpr[] | undefined {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    problems.add(at, `must be a list of {apiVersion, kind, current, inProgress, failed}, not ${describe(value)}`);
    return undefined;
  }
  if (value.length > MAX_HEALTH_CHECK_EXPRS) {
    problems.add(at, `has ${value.length} entries; at most ${MAX_HEALTH_CHECK_EXPRS} are allowed`);
    return undefined;
  }
  let total = 0;
  for (const item of value as unknown[]) {
    if (!isObject(item)) continue;
    for (const key of ['current', 'inProgress', 'failed']) total += typeof item[key] === 'string' ? item[key].length : 0;
  }
  if (total > MAX_HEALTH_CHECK_EXPR_CHARS) {
    problems.add(at, `has ${total} characters of expressions; at most ${MAX_HEALTH_CHECK_EXPR_CHARS} are allowed together`);
    return undefined;
  }
  const out: HealthCheckExpr[] = [];
  const seen = new Map<string, number>();
  let ok = true;
  value.forEach((item: unknown, i) => {
    const entryAt = `${at}[${i}]`;
    if (!isObject(item)) {
      problems.add(entryAt, `must be an object, not ${describe(item)}`);
      ok = false;
      return;
    }
    const before = problems.errors.length;
    checkKnownFields(problems, `${entryAt}.`, item, HEALTH_CHECK_EXPR_FIELDS);
    const apiVersion = readString(problems, item, 'apiVersion', { required: true, at: `${entryAt}.apiVersion` });
    const kind = readString(problems, item, 'kind', { at: `${entryAt}.kind` });
    if (apiVersion === '') problems.add(`${entryAt}.apiVersion`, 'must not be empty');
    const group = apiVersion ? splitApiVersion(apiVersion).group : undefined;
    if (group !== undefined) {
      const groupKind = `${group}/${kind ?? ''}`;
      const first = seen.get(groupKind);
      if (first === undefined) seen.set(groupKind, i);
      else {
        const what = kind ? `kind ${kind} of group ${JSON.stringify(group)}` : `group ${JSON.stringify(group)} (every kind)`;
        problems.add(entryAt, `repeats ${at}[${first}]: both are for ${what}`, 'keep one entry per group and kind; versions do not count');
      }
    }
    const expression = (key: 'current' | 'inProgress' | 'failed', required: boolean): CelExpression | undefined => {
      const source = readString(problems, item, key, { required, at: `${entryAt}.${key}` });
      // Flux treats an empty optional expression as absent.
      if (source === undefined || (!required && source === '')) return undefined;
      return problems.check(`${entryAt}.${key}`, () => cel().compileCel(source));
    };
    const current = expression('current', true);
    const inProgress = expression('inProgress', false);
    const failed = expression('failed', false);
    if (group === undefined || current === undefined || problems.errors.length > before) {
      ok = false;
      return;
    }
    out.push({ at: problems.path(entryAt), group, kind: kind || undefined, current, inProgress, failed });
  });
  return ok ? out : undefined;
}

export function readHealthChecks(problems: Problems, value: unknown, at = 'healthChecks'): HealthCheckRef[] | undefined {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    problems.add(at, `must be a list of {apiVersion, kind, name, namespace}, not ${describe(value)}`);
    return undefined;
  }
  if (value.length > MAX_HEALTH_CHECKS) {
    problems.add(at, `has ${value.length} entries; at most ${MAX_HEALTH_CHECKS} are allowed`);
    return undefined;
  }
  const out: HealthCheckRef[] = [];
  const before = problems.errors.length;
  value.forEach((item: unknown, i) => {
    const entryAt = `${at}[${i}]`;
    if (!isObject(item)) {
      problems.add(entryAt, `must be an object, not ${describe(item)}`);
      return;
    }
    checkKnownFields(problems, `${entryAt}.`, item, HEALTH_CHECK_FIELDS);
    // Flux's default for a reference without one (kept from Kustomization v1beta1).
    const apiVersion = readString(problems, item, 'apiVersion', { at: `${entryAt}.apiVersion` }) || 'apps/v1';
    const kind = readString(problems, item, 'kind', { required: true, at: `${entryAt}.kind` });
    const name = readString(problems, item, 'name', { required: true, at: `${entryAt}.name` });
    const namespace = readString(problems, item, 'namespace', { at: `${entryAt}.namespace` }) || undefined;
    if (kind === '') problems.add(`${entryAt}.kind`, 'must not be empty');
    const nameProblem = name === undefined ? undefined : segmentProblem(name);
    if (nameProblem) problems.add(`${entryAt}.name`, nameProblem);
    const namespaceIssue = namespace === undefined ? undefined : namespaceProblem(namespace);
    if (namespaceIssue) problems.add(`${entryAt}.namespace`, namespaceIssue);
    if (!kind || name === undefined || nameProblem || namespaceIssue) return;
    out.push({ apiVersion, kind, name, namespace });
  });
  return problems.errors.length > before ? undefined : out;
}

/** A name that can be one segment of the object's URL; kinds differ in what else they allow. */
export function segmentProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  if (name.length > 253) return 'must be at most 253 characters';
  if (name === '.' || name === '..' || /[/%]/.test(name)) return `${JSON.stringify(name)} is not a valid object name`;
  return undefined;
}
