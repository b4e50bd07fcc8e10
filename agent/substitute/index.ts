import { parse, stringify } from 'yaml';
import type { KubeObject } from '../../shared/kube/object.ts';
import { describeRef, isObject, refOf } from '../../shared/kube/object.ts';
import { terminal } from '../../shared/errors/index.ts';
import { substitute, substitutionError, SubstitutionProblem, VARIABLE_NAME } from './envsubst.ts';

export { substitute, SubstitutionProblem, VARIABLE_NAME } from './envsubst.ts';

/** Flux's opt-out, on a label or an annotation; ours is the same with our group. */
export const SUBSTITUTE_OPT_OUT = ['kustomize.toolkit.fluxcd.io/substitute', 'tidemark.dev/substitute'] as const;
const DISABLED = 'disabled';

/** The variables of one deployment, and which of them came from a Secret (never shown). */
export interface Variables {
  values: ReadonlyMap<string, string>;
  secret: ReadonlySet<string>;
}

/**
 * Builds the variables as Flux does: the substituteFrom sources in order (a later one wins), then
 * spec.postBuild.substitute over them; line breaks are removed from every value, and every name
 * must be a valid variable name.
 */
export function collectVariables(
  sources: readonly { kind: 'ConfigMap' | 'Secret'; name: string; data: Record<string, string> | undefined }[],
  inline: Readonly<Record<string, string>>,
): Variables {
  const values = new Map<string, string>();
  const secret = new Set<string>();
  for (const source of sources) {
    for (const [key, value] of Object.entries(source.data ?? {})) {
      checkName(key, `${source.kind} ${source.name}`);
      values.set(key, value.replaceAll('\n', ''));
      if (source.kind === 'Secret') secret.add(key);
      else secret.delete(key);
    }
  }
  for (const [key, value] of Object.entries(inline)) {
    values.set(key, value.replaceAll('\n', ''));
    secret.delete(key);
  }
  return { values, secret };
}

function checkName(name: string, from: string): void {
  if (VARIABLE_NAME.test(name)) return;
  throw terminal(
    'SubstitutionFailed',
    `${from}: key ${JSON.stringify(name)} is not a valid variable name (it must match ${VARIABLE_NAME.source})`,
    'rename the key, or keep the source for variables only',
  );
}

/** True when the object opts out of substitution (label or annotation set to `disabled`). */
export function substitutionDisabled(obj: KubeObject): boolean {
  const { labels, annotations } = obj.metadata ?? {};
  return SUBSTITUTE_OPT_OUT.some((key) => labels?.[key] === DISABLED || annotations?.[key] === DISABLED);
}

/**
 * Substitutes on each object's serialized YAML, as Flux does on `res.AsYAML()`, so a variable
 * can also set a number or a boolean (`replicas: ${replicas}`). The first problem stops the
 * whole set: nothing is applied and nothing is pruned when one object cannot be substituted.
 */
export function substituteObjects(objects: readonly KubeObject[], variables: Variables, options: { strict: boolean }): KubeObject[] {
  const lookup = (name: string) => variables.values.get(name);
  return objects.map((obj) => {
    if (substitutionDisabled(obj)) return obj;
    const text = stringify(obj, { lineWidth: 0 });
    if (!text.includes('$')) return obj;
    const what = describeRef(refOf(obj));
    let out: string;
    try {
      out = substitute(text, lookup, options);
    } catch (err) {
      if (err instanceof SubstitutionProblem) throw substitutionError(what, err);
      throw err;
    }
    if (out === text) return obj;
    let parsed: unknown;
    try {
      parsed = parse(out);
    } catch (err) {
      // The parser's message may quote the substituted text: name the object only.
      void err;
      throw terminal('SubstitutionFailed', `${what}: the object is no longer valid YAML after substitution`, VALUE_HINT);
    }
    if (!isObject(parsed))
      throw terminal('SubstitutionFailed', `${what}: the object is no longer an object after substitution`, VALUE_HINT);
    return parsed as KubeObject;
  });
}

const VALUE_HINT = 'a value that holds YAML syntax (": ", "#", "[") must be quoted where it is used: "${var}"';

/** The values of Secret-sourced variables, for masking in diffs; empty values mask nothing. */
export function secretValues(variables: Variables): string[] {
  return [...variables.secret].map((k) => variables.values.get(k) ?? '').filter((v) => v.length > 0);
}
