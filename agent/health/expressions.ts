import { cel } from '../../shared/cel/lazy.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { splitApiVersion } from '../../shared/kube/object.ts';
import type { HealthCheckExpr } from '../../shared/spec/index.ts';
import { rec, result } from './fields.ts';
import type { HealthResult } from './types.ts';

/**
 * The user's `spec.healthCheckExprs` entry for an object: the one for its group and kind, else
 * the group's kind-less one (Flux's StatusReader.Supports and its lookup order). Versions do not
 * count.
 */
export function findHealthCheckExpr(obj: KubeObject, exprs: readonly HealthCheckExpr[]): HealthCheckExpr | undefined {
  const { group } = splitApiVersion(obj.apiVersion);
  return exprs.find((e) => e.group === group && e.kind === obj.kind) ?? exprs.find((e) => e.group === group && e.kind === undefined);
}

const ORDER = [
  ['inProgress', 'Progressing'],
  ['failed', 'Degraded'],
  ['current', 'Healthy'],
] as const;

/**
 * Health by the user's CEL expressions, exactly as Flux evaluates them (fluxcd/pkg runtime/cel
 * StatusEvaluator, RFC 0009):
 * 1. an integer `status.observedGeneration` that differs from an integer `metadata.generation` →
 *    Progressing, before any expression;
 * 2. `inProgress`, then `failed`, then `current`, each only when given: the first true one decides
 *    (InProgress → Progressing, Failed → Degraded, Current → Healthy);
 * 3. none true → Progressing.
 * The variables in scope are the object's top-level fields (`apiVersion`, `kind`, `metadata`,
 * `spec`, `status`, `data`, …), so `status.conditions` is written as is. An expression that
 * cannot be evaluated (a field that does not exist yet, a result that is not a bool) is Unknown
 * with the reason, as kstatus reports a status function's error; like Flux, the deployment keeps
 * waiting for it until its timeout.
 */
export function exprHealth(obj: KubeObject, check: HealthCheckExpr): HealthResult {
  const status = rec(obj.status);
  const observed = status?.observedGeneration;
  const generation = obj.metadata.generation;
  if (Number.isSafeInteger(observed) && Number.isSafeInteger(generation) && observed !== generation) {
    return result('Progressing', `Waiting for the controller to observe generation ${generation} (observed ${String(observed)})`);
  }
  const bindings = new (cel().CelBindings)(obj);
  for (const [key, health] of ORDER) {
    const expression = check[key];
    if (!expression) continue;
    const outcome = expression.evaluateBoolean(bindings);
    if (!outcome.ok) return result('Unknown', `${check.at}.${key}: ${outcome.message}`);
    if (outcome.value) return result(health, `${check.at}.${key} is true`);
  }
  return result('Progressing', `${check.at}: no expression is true yet`);
}
