import { objectNameProblem } from './names.ts';
import { checkKnownFields, isObject, type Problems } from './problems.ts';
import { describe, readBoolean, readString } from './read.ts';

/**
 * `spec.postBuild` and `spec.decryption`, with Flux Kustomization's meaning (kustomize-controller
 * v1): variables substituted into every rendered object, and SOPS files decrypted with keys from
 * a Secret. Both name objects of the deployment's own namespace only (as in Flux), so lockdown
 * (`--no-cross-namespace-refs`) has nothing to refuse here.
 */

export const POST_BUILD_FIELDS = ['substitute', 'substituteFrom'] as const;
export const SUBSTITUTE_FROM_FIELDS = ['kind', 'name', 'optional'] as const;
export const DECRYPTION_FIELDS = ['provider', 'secretRef'] as const;
export const SUBSTITUTE_FROM_KINDS = ['ConfigMap', 'Secret'] as const;
/** Most substituteFrom sources (the CRD's maxItems says the same). */
export const MAX_SUBSTITUTE_FROM = 32;
/** Most inline variables (the CRD's maxProperties says the same). */
export const MAX_SUBSTITUTE_VARIABLES = 512;
/** Flux's variable names (fluxcd/pkg/kustomize varsubRegex). */
export const VARIABLE_NAME_PATTERN = '^[_a-zA-Z][_a-zA-Z0-9]*$';
const VARIABLE_NAME = new RegExp(VARIABLE_NAME_PATTERN);

export interface SubstituteSource {
  kind: (typeof SUBSTITUTE_FROM_KINDS)[number];
  name: string;
  /** A missing source is skipped instead of failing the run. */
  optional: boolean;
}

export interface PostBuild {
  substitute: Record<string, string>;
  substituteFrom: SubstituteSource[];
}

export interface Decryption {
  provider: 'sops';
  /** The Secret of this namespace whose `*.agekey` and `*.asc` values are the private keys. */
  secretRef: string;
}

export function readPostBuild(problems: Problems, value: unknown, at = 'postBuild'): PostBuild | undefined | null {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) {
    problems.add(at, `must be an object, not ${describe(value)}`);
    return null;
  }
  const before = problems.errors.length;
  checkKnownFields(problems, `${at}.`, value, POST_BUILD_FIELDS);
  const substitute: Record<string, string> = {};
  const inline = value.substitute;
  if (inline !== undefined && inline !== null) {
    if (!isObject(inline)) problems.add(`${at}.substitute`, `must be a map of variable names to strings, not ${describe(inline)}`);
    else {
      const entries = Object.entries(inline);
      if (entries.length > MAX_SUBSTITUTE_VARIABLES) {
        problems.add(`${at}.substitute`, `has ${entries.length} variables; at most ${MAX_SUBSTITUTE_VARIABLES} are allowed`);
      }
      for (const [name, v] of entries) {
        const field = `${at}.substitute.${name}`;
        if (!VARIABLE_NAME.test(name))
          problems.add(field, `${JSON.stringify(name)} is not a valid variable name (${VARIABLE_NAME_PATTERN})`);
        // The CRD has strings only; a YAML number or boolean would be a silent surprise.
        if (typeof v !== 'string') problems.add(field, `must be a string, not ${describe(v)}`, 'quote the value: "3"');
        else substitute[name] = v;
      }
    }
  }
  const substituteFrom = readSubstituteFrom(problems, value.substituteFrom, `${at}.substituteFrom`);
  if (problems.errors.length > before) return null;
  return { substitute, substituteFrom };
}

function readSubstituteFrom(problems: Problems, value: unknown, at: string): SubstituteSource[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    problems.add(at, `must be a list of {kind, name, optional}, not ${describe(value)}`);
    return [];
  }
  if (value.length > MAX_SUBSTITUTE_FROM) {
    problems.add(at, `has ${value.length} entries; at most ${MAX_SUBSTITUTE_FROM} are allowed`);
    return [];
  }
  const out: SubstituteSource[] = [];
  value.forEach((item: unknown, i) => {
    const entryAt = `${at}[${i}]`;
    if (!isObject(item)) {
      problems.add(entryAt, `must be an object, not ${describe(item)}`);
      return;
    }
    checkKnownFields(problems, `${entryAt}.`, item, SUBSTITUTE_FROM_FIELDS);
    const kind = readString(problems, item, 'kind', { required: true, at: `${entryAt}.kind` });
    const kindOk = kind !== undefined && (SUBSTITUTE_FROM_KINDS as readonly string[]).includes(kind);
    if (kind !== undefined && !kindOk) problems.add(`${entryAt}.kind`, `${JSON.stringify(kind)} is not one of ConfigMap, Secret`);
    const name = readString(problems, item, 'name', { required: true, at: `${entryAt}.name` });
    const nameProblem = name === undefined ? undefined : objectNameProblem(name);
    if (nameProblem) problems.add(`${entryAt}.name`, nameProblem);
    const optional = readBoolean(problems, item, 'optional', false, `${entryAt}.optional`);
    if (kindOk && name !== undefined && !nameProblem) out.push({ kind: kind as SubstituteSource['kind'], name, optional });
  });
  return out;
}

export function readDecryption(problems: Problems, value: unknown, at = 'decryption'): Decryption | undefined | null {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) {
    problems.add(at, `must be an object, not ${describe(value)}`);
    return null;
  }
  const before = problems.errors.length;
  checkKnownFields(problems, `${at}.`, value, DECRYPTION_FIELDS);
  const provider = readString(problems, value, 'provider', { required: true, at: `${at}.provider` });
  if (provider !== undefined && provider !== 'sops')
    problems.add(`${at}.provider`, `${JSON.stringify(provider)} is not supported`, 'set provider: sops');
  const hint = 'name the Secret that holds the private keys: secretRef: {name: sops-keys} (keys *.agekey and *.asc)';
  const ref = value.secretRef;
  let secretRef: string | undefined;
  if (ref === undefined || ref === null) problems.add(`${at}.secretRef`, 'is required (only keys from a Secret are supported)', hint);
  else if (!isObject(ref)) problems.add(`${at}.secretRef`, `must be an object, not ${describe(ref)}`, hint);
  else {
    checkKnownFields(problems, `${at}.secretRef.`, ref, ['name']);
    secretRef = readString(problems, ref, 'name', { required: true, at: `${at}.secretRef.name` });
    const nameProblem = secretRef === undefined ? undefined : objectNameProblem(secretRef);
    if (nameProblem) problems.add(`${at}.secretRef.name`, nameProblem, hint);
  }
  if (problems.errors.length > before || secretRef === undefined) return null;
  return { provider: 'sops', secretRef };
}
