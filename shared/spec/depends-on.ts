import { API_VERSION, Kinds } from '../api/constants.ts';
import type { CelExpression } from '../cel/index.ts';
import { cel } from '../cel/lazy.ts';
import { namespaceProblem, objectNameProblem } from './names.ts';
import { segmentProblem } from './health-checks.ts';
import { checkKnownFields, isObject, type Problems } from './problems.ts';
import { describe, readString } from './read.ts';

/**
 * `spec.dependsOn`, with Flux Kustomization's meaning (kustomize-controller v1 `dependsOn` with
 * `readyExpr`) extended to any object as Flux plans it: nothing is applied until every dependency
 * is ready.
 */

/** Most entries one deployment may declare (the CRD's maxItems says the same). */
export const MAX_DEPENDS_ON = 64;
export const DEPENDS_ON_FIELDS = ['apiVersion', 'kind', 'name', 'namespace', 'readyExpr'] as const;

/** One `spec.dependsOn` entry. */
export interface Dependency {
  /** Where it was written, for messages: `spec.dependsOn[0]`. */
  at: string;
  /** Undefined: another ContinuousDeployment; else any object of this kind. */
  object: { apiVersion: string; kind: string } | undefined;
  name: string;
  /** Undefined: the deployment's own namespace (a ContinuousDeployment or namespaced object), or cluster-scoped. */
  namespace: string | undefined;
  /** Replaces the default readiness (as in Flux): CEL over `dep` (the dependency) and `self` (this deployment). */
  readyExpr: CelExpression | undefined;
}

export function readDependsOn(problems: Problems, value: unknown, at = 'dependsOn'): Dependency[] | undefined {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    problems.add(at, `must be a list of {name, namespace} or {apiVersion, kind, name, namespace}, not ${describe(value)}`);
    return undefined;
  }
  if (value.length > MAX_DEPENDS_ON) {
    problems.add(at, `has ${value.length} entries; at most ${MAX_DEPENDS_ON} are allowed`);
    return undefined;
  }
  const out: Dependency[] = [];
  const seen = new Map<string, number>();
  const before = problems.errors.length;
  value.forEach((item: unknown, i) => {
    const entryAt = `${at}[${i}]`;
    if (!isObject(item)) {
      problems.add(entryAt, `must be an object, not ${describe(item)}`);
      return;
    }
    const start = problems.errors.length;
    checkKnownFields(problems, `${entryAt}.`, item, DEPENDS_ON_FIELDS);
    const apiVersion = readString(problems, item, 'apiVersion', { at: `${entryAt}.apiVersion` }) || undefined;
    const kind = readString(problems, item, 'kind', { at: `${entryAt}.kind` }) || undefined;
    const name = readString(problems, item, 'name', { required: true, at: `${entryAt}.name` });
    const namespace = readString(problems, item, 'namespace', { at: `${entryAt}.namespace` }) || undefined;
    if ((apiVersion === undefined) !== (kind === undefined)) {
      const missing = apiVersion === undefined ? 'apiVersion' : 'kind';
      problems.add(
        `${entryAt}.${missing}`,
        'is required with ' + (missing === 'kind' ? 'apiVersion' : 'kind'),
        'name a ContinuousDeployment with {name, namespace}, or any object with {apiVersion, kind, name, namespace}',
      );
    }
    const isDeployment = kind === undefined || (kind === Kinds.ContinuousDeployment.kind && apiVersion === API_VERSION);
    const nameIssue = name === undefined ? undefined : isDeployment ? objectNameProblem(name) : segmentProblem(name);
    if (nameIssue) problems.add(`${entryAt}.name`, nameIssue);
    const namespaceIssue = namespace === undefined ? undefined : namespaceProblem(namespace);
    if (namespaceIssue) problems.add(`${entryAt}.namespace`, namespaceIssue);
    const source = readString(problems, item, 'readyExpr', { at: `${entryAt}.readyExpr` });
    const readyExpr =
      source === undefined || source === '' ? undefined : problems.check(`${entryAt}.readyExpr`, () => cel().compileCel(source));
    if (problems.errors.length > start || name === undefined) return;
    const object = isDeployment || apiVersion === undefined || kind === undefined ? undefined : { apiVersion, kind };
    const key = `${object ? `${object.apiVersion}|${object.kind}` : 'cd'}|${namespace ?? ''}|${name}`;
    const first = seen.get(key);
    if (first !== undefined) {
      problems.add(entryAt, `repeats ${problems.path(`${at}[${first}]`)}`, 'name each dependency once');
      return;
    }
    seen.set(key, i);
    out.push({ at: problems.path(entryAt), object, name, namespace, readyExpr });
  });
  return problems.errors.length > before ? undefined : out;
}

/**
 * Lockdown (`--no-cross-namespace-refs`): a dependency in another namespace is a problem of the
 * spec, reported with the others' field paths.
 */
export function crossNamespaceDependencies(problems: Problems, dependencies: readonly Dependency[], namespace: string): void {
  dependencies.forEach((dep, i) => {
    if (dep.namespace === undefined || dep.namespace === namespace) return;
    problems.add(
      `dependsOn[${i}].namespace`,
      `${JSON.stringify(dep.namespace)} is another namespace, and cross-namespace references are disabled (--no-cross-namespace-refs)`,
      `depend only on objects in ${JSON.stringify(namespace)}`,
    );
  });
}

/** `namespace/name` of a dependency that is a ContinuousDeployment; undefined for any other object. */
export function deploymentDependencyKey(dep: Dependency, ownNamespace: string): string | undefined {
  return dep.object ? undefined : `${dep.namespace ?? ownNamespace}/${dep.name}`;
}
