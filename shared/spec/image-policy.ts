import type { DigestReflectionPolicy } from '../api/image.ts';
import type { CompiledForms, ImageCompilers, PlainForms } from './compile.ts';
import { namespaceProblem, objectNameProblem } from './names.ts';
import { checkKnownFields, isObject, Problems, SPEC_PATHS, type FieldPaths, type Validated } from './problems.ts';
import { describe, readString } from './read.ts';

/** An ImagePolicy spec, checked and defaulted, with its filter and policy compiled. */
export interface ImagePolicyConfig<C extends CompiledForms = PlainForms> {
  imageRepositoryRef: { name: string; namespace: string };
  filterTags: C['filterTags'];
  policy: C['policy'];
  digestReflectionPolicy: DigestReflectionPolicy;
}

export const IMAGE_POLICY_FIELDS = ['imageRepositoryRef', 'filterTags', 'policy', 'digestReflectionPolicy'];
const POLICY_HINT = 'set one of numerical {order: asc|desc}, semver {range}, alphabetical {order: asc|desc}';
const REFLECTION_POLICIES: readonly DigestReflectionPolicy[] = ['Never', 'IfNotPresent', 'Always'];

/**
 * `namespace` is the ImagePolicy's own: the default for `imageRepositoryRef.namespace`. With
 * `noCrossNamespaceRefs` (lockdown) another namespace there is a problem of the spec, whatever
 * that repository grants.
 */
export function validateImagePolicySpec<C extends CompiledForms>(
  spec: unknown,
  namespace: string,
  compile: ImageCompilers<C>,
  paths: FieldPaths = SPEC_PATHS,
  options: { noCrossNamespaceRefs?: boolean } = {},
): Validated<ImagePolicyConfig<C>> {
  const problems = new Problems(paths);
  if (!isObject(spec)) {
    problems.add('', `must be an object, not ${describe(spec)}`);
    return problems.result(() => undefined as never);
  }
  checkKnownFields(problems, '', spec, IMAGE_POLICY_FIELDS);

  const imageRepositoryRef = readRepositoryRef(problems, spec.imageRepositoryRef, namespace);
  if (options.noCrossNamespaceRefs && imageRepositoryRef && imageRepositoryRef.namespace !== namespace) {
    problems.add(
      'imageRepositoryRef.namespace',
      `${JSON.stringify(imageRepositoryRef.namespace)} is another namespace; cross-namespace references are disabled (lockdown)`,
      `use an ImageRepository in namespace ${namespace}`,
    );
  }
  const filterTags = readFilterTags(problems, spec.filterTags, compile);
  let policy: C['policy'] | undefined;
  if (spec.policy === undefined || spec.policy === null) {
    problems.add('policy', 'is required', POLICY_HINT, 'InvalidPolicy');
  } else if (!isObject(spec.policy)) {
    problems.add('policy', `must be an object, not ${describe(spec.policy)}`, POLICY_HINT, 'InvalidPolicy');
  } else {
    const choice = spec.policy;
    policy = problems.attempt(() => compile.policy(choice));
  }
  const digestReflectionPolicy = readString(problems, spec, 'digestReflectionPolicy') ?? 'Never';
  if (!(REFLECTION_POLICIES as readonly string[]).includes(digestReflectionPolicy)) {
    problems.add('digestReflectionPolicy', `${JSON.stringify(digestReflectionPolicy)} is not one of ${REFLECTION_POLICIES.join(', ')}`);
  }

  return problems.result(() => ({
    imageRepositoryRef: imageRepositoryRef as ImagePolicyConfig['imageRepositoryRef'],
    filterTags,
    policy,
    digestReflectionPolicy: digestReflectionPolicy as DigestReflectionPolicy,
  }));
}

function readRepositoryRef(problems: Problems, value: unknown, namespace: string): ImagePolicyConfig['imageRepositoryRef'] | undefined {
  if (value === undefined || value === null) {
    problems.add('imageRepositoryRef', 'is required', 'name the ImageRepository to choose tags from: {name: <imagerepository>}');
    return undefined;
  }
  if (!isObject(value)) {
    problems.add('imageRepositoryRef', `must be an object {name, namespace?}, not ${describe(value)}`);
    return undefined;
  }
  checkKnownFields(problems, 'imageRepositoryRef.', value, ['name', 'namespace']);
  let ok = true;
  const name = value.name;
  if (typeof name !== 'string') {
    problems.add('imageRepositoryRef.name', name === undefined ? 'is required' : `must be a string, not ${describe(name)}`);
    ok = false;
  } else {
    const problem = objectNameProblem(name);
    if (problem) {
      problems.add('imageRepositoryRef.name', problem);
      ok = false;
    }
  }
  const ns = value.namespace ?? namespace;
  if (typeof ns !== 'string') {
    problems.add('imageRepositoryRef.namespace', `must be a string, not ${describe(ns)}`);
    ok = false;
  } else {
    const problem = namespaceProblem(ns);
    if (problem) {
      problems.add('imageRepositoryRef.namespace', problem);
      ok = false;
    }
  }
  return ok ? { name: name as string, namespace: ns as string } : undefined;
}

function readFilterTags<C extends CompiledForms>(
  problems: Problems,
  value: unknown,
  compile: ImageCompilers<C>,
): C['filterTags'] | undefined {
  if (value === undefined || value === null) return problems.attempt(() => compile.filterTags(undefined));
  if (!isObject(value)) {
    problems.add('filterTags', `must be an object {pattern, extract}, not ${describe(value)}`);
    return undefined;
  }
  checkKnownFields(problems, 'filterTags.', value, ['pattern', 'extract']);
  const before = problems.errors.length;
  const pattern = readString(problems, value, 'pattern', { at: 'filterTags.pattern' });
  const extract = readString(problems, value, 'extract', { at: 'filterTags.extract' });
  if (problems.errors.length > before) return undefined;
  return problems.attempt(() =>
    compile.filterTags({ ...(pattern === undefined ? {} : { pattern }), ...(extract === undefined ? {} : { extract }) }),
  );
}
