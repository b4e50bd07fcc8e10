import type { ContinuousDeployment } from '../shared/api/continuous-deployment.ts';
import { API_VERSION, Kinds } from '../shared/api/constants.ts';
import { terminal, transient, type TidemarkError } from '../shared/errors/index.ts';
import type { KubeObject } from '../shared/kube/object.ts';
import { isObject } from '../shared/kube/object.ts';
import { deploymentDependencyKey, type Dependency } from '../shared/spec/index.ts';
import type { HealthAssessor } from './types.ts';

/**
 * `spec.dependsOn`: a deployment applies nothing until each dependency is ready. Pure decisions
 * over objects the caller looked up; the controller does the looking and the waking.
 *
 * Default readiness, precisely:
 * - a ContinuousDeployment is ready when it is not being deleted and its `Ready` condition is
 *   `True` with the condition's `observedGeneration` (else `status.observedGeneration`) equal to
 *   its `metadata.generation`: it has synced the spec it has now, not an older one;
 * - any other object is ready when our health rules (agent/health) rate it Healthy; those rules
 *   already require the controller to have observed the current generation where the kind has one.
 * A `readyExpr` replaces the default (as in Flux): CEL over `dep` (the dependency) and `self`
 * (the waiting deployment); true is ready, false or an error is not.
 */

/** One dependency as found: a ContinuousDeployment, any object, or nothing there. */
export type Found =
  { kind: 'deployment'; object: ContinuousDeployment | undefined } | { kind: 'object'; object: KubeObject | undefined; served: boolean };

export interface Verdict {
  dep: Dependency;
  ready: boolean;
  missing: boolean;
  /** Which one, for messages: `ContinuousDeployment agent/infra`. */
  name: string;
  why: string;
}

export function describeDependency(dep: Dependency, ownNamespace: string): string {
  const namespace = dep.namespace ?? ownNamespace;
  if (!dep.object) return `ContinuousDeployment ${namespace}/${dep.name}`;
  return `${dep.object.kind} ${dep.namespace === undefined ? '' : `${dep.namespace}/`}${dep.name}`;
}

export function judgeDependency(
  dep: Dependency,
  found: Found,
  self: ContinuousDeployment,
  health: HealthAssessor,
  ownNamespace: string,
): Verdict {
  const name = describeDependency(dep, ownNamespace);
  const verdict = (ready: boolean, why: string, missing = false): Verdict => ({ dep, ready, missing, name, why });
  if (found.kind === 'object' && !found.served) return verdict(false, `the API server does not serve ${dep.object?.apiVersion}`, true);
  if (!found.object) return verdict(false, 'not found', true);
  if (dep.readyExpr) {
    const outcome = dep.readyExpr.evaluateBoolean({ dep: found.object, self });
    if (!outcome.ok) return verdict(false, `readyExpr failed: ${outcome.message}`);
    return verdict(outcome.value, outcome.value ? 'readyExpr is true' : `readyExpr is false: ${dep.readyExpr.source}`);
  }
  if (found.kind === 'deployment') {
    const why = deploymentNotReady(found.object);
    return verdict(why === undefined, why ?? 'Ready');
  }
  const rated = health(found.object);
  if (rated.status === 'Healthy') return verdict(true, 'Healthy');
  return verdict(false, `${rated.status}${rated.message ? `: ${rated.message}` : ''}`);
}

/** Why a ContinuousDeployment is not ready at its current generation; undefined when it is. */
export function deploymentNotReady(cd: ContinuousDeployment): string | undefined {
  if (cd.metadata.deletionTimestamp) return 'it is being deleted';
  const generation = cd.metadata.generation;
  const ready = cd.status?.conditions?.find((c) => c.type === 'Ready');
  if (!ready) return 'it has not reported Ready yet';
  const observed = ready.observedGeneration ?? cd.status?.observedGeneration;
  if (generation !== undefined && observed !== generation) {
    return `its Ready condition is for generation ${observed ?? 'unknown'}, not the current ${generation}`;
  }
  if (ready.status !== 'True')
    return `Ready is ${ready.status}${ready.reason ? ` (${ready.reason})` : ''}${ready.message ? `: ${ready.message}` : ''}`;
  return undefined;
}

/**
 * The condition for dependencies that are not ready: DependencyNotFound when any is missing, else
 * DependencyNotReady, naming each (up to five) and why. Transient: retried when a dependency
 * changes (the controller's watch) and with backoff.
 */
export function dependencyError(verdicts: readonly Verdict[]): TidemarkError | undefined {
  const waiting = verdicts.filter((v) => !v.ready);
  if (waiting.length === 0) return undefined;
  const listed = waiting
    .slice(0, 5)
    .map((v) => `${v.name}: ${v.why}`)
    .join('; ');
  const more = waiting.length > 5 ? `; and ${waiting.length - 5} more` : '';
  const missing = waiting.some((v) => v.missing);
  return transient(
    missing ? 'DependencyNotFound' : 'DependencyNotReady',
    `nothing applied: waiting for ${waiting.length === 1 ? 'a dependency' : `${waiting.length} dependencies`}: ${listed}${more}`,
    missing ? 'create the dependency, or fix spec.dependsOn' : undefined,
  );
}

export function cycleError(cycle: readonly string[]): TidemarkError {
  return terminal(
    'DependencyCycle',
    `spec.dependsOn: dependency cycle: ${cycle.join(' → ')}; nothing applied`,
    'remove one of the dependsOn entries that close the cycle',
  );
}

/**
 * The ContinuousDeployments a spec depends on, `namespace/name`, read leniently from the raw spec
 * (a spec with other problems still counts for cycles and deletion order).
 */
export function deploymentEdges(cd: ContinuousDeployment): string[] {
  const raw: unknown = cd.spec?.dependsOn;
  if (!Array.isArray(raw)) return [];
  const namespace = cd.metadata.namespace ?? 'default';
  const out = new Set<string>();
  for (const item of raw as unknown[]) {
    if (!isObject(item) || typeof item.name !== 'string' || item.name === '') continue;
    const kind = typeof item.kind === 'string' && item.kind !== '' ? item.kind : undefined;
    if (kind !== undefined && !(kind === Kinds.ContinuousDeployment.kind && item.apiVersion === API_VERSION)) continue;
    out.add(`${typeof item.namespace === 'string' && item.namespace !== '' ? item.namespace : namespace}/${item.name}`);
  }
  return [...out];
}

export function configEdges(dependsOn: readonly Dependency[], namespace: string): string[] {
  return [...new Set(dependsOn.map((d) => deploymentDependencyKey(d, namespace)).filter((k): k is string => k !== undefined))];
}

/**
 * A cycle through `start`, as the keys along it (`a → b → a`), or undefined. Only cycles through
 * `start` are its problem; every member finds the same cycle through itself, so each reports it.
 */
export function findCycle(start: string, edgesOf: (key: string) => readonly string[]): string[] | undefined {
  const visited = new Set<string>();
  const path: string[] = [start];
  const walk = (key: string): boolean => {
    for (const next of edgesOf(key)) {
      if (next === start) return true;
      if (visited.has(next)) continue;
      visited.add(next);
      path.push(next);
      if (walk(next)) return true;
      path.pop();
    }
    return false;
  };
  return walk(start) ? [...path, start] : undefined;
}

/** True when `to` is reachable from `from` along the edges (a dependency, direct or not). */
export function reaches(from: string, to: string, edgesOf: (key: string) => readonly string[]): boolean {
  const seen = new Set<string>([from]);
  const stack = [from];
  while (stack.length > 0) {
    for (const next of edgesOf(stack.pop() as string)) {
      if (next === to) return true;
      if (!seen.has(next)) {
        seen.add(next);
        stack.push(next);
      }
    }
  }
  return false;
}

/**
 * Who depends on whom among the ContinuousDeployments the controller watches, kept from each
 * watched spec: it wakes dependents when a dependency changes, finds cycles, and holds the
 * deletion of a deployment others still depend on.
 */
export class DependencyIndex {
  private readonly edges = new Map<string, readonly string[]>();
  private readonly reverse = new Map<string, Set<string>>();

  set(key: string, dependencies: readonly string[]): void {
    this.remove(key);
    if (dependencies.length === 0) return;
    this.edges.set(key, dependencies);
    for (const dep of dependencies) {
      let set = this.reverse.get(dep);
      if (!set) this.reverse.set(dep, (set = new Set()));
      set.add(key);
    }
  }

  remove(key: string): void {
    for (const dep of this.edges.get(key) ?? []) {
      const set = this.reverse.get(dep);
      set?.delete(key);
      if (set?.size === 0) this.reverse.delete(dep);
    }
    this.edges.delete(key);
  }

  dependenciesOf(key: string): readonly string[] {
    return this.edges.get(key) ?? [];
  }

  dependentsOf(key: string): string[] {
    return [...(this.reverse.get(key) ?? [])];
  }
}
