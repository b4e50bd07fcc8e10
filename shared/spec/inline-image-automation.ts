import { Annotations, API_VERSION, Kinds } from '../api/constants.ts';
import type { ContinuousDeployment } from '../api/continuous-deployment.ts';
import type { ImagePolicy, ImagePolicySpec, ImageRepository, ImageRepositorySpec } from '../api/image.ts';
import type { CompiledForms, ImageCompilers, PlainForms } from './compile.ts';
import { DEPLOYMENT_DEFAULTS } from './continuous-deployment.ts';
import { validateImagePolicySpec, type ImagePolicyConfig } from './image-policy.ts';
import { validateImageRepositorySpec, type ImageRepositoryConfig } from './image-repository.ts';
import { namespaceProblem, objectNameProblem } from './names.ts';
import { checkKnownFields, isObject, Problems, type FieldPaths, type Validated } from './problems.ts';
import { describe, readString } from './read.ts';

/** The seed's inline block (KubeVela `imageRepository`) plus the ImageRepository options it may carry. */
export const INLINE_IMAGE_FIELDS = [
  'image',
  'secretRef',
  'filterTags',
  'policy',
  'commitMessage',
  'interval',
  'timeout',
  'certSecretRef',
  'insecure',
  'exclusionList',
  'digestReflectionPolicy',
];

/** The inline block names Secrets with a plain string where the CRDs take `{name}`. */
const INLINE_PATHS: FieldPaths = {
  prefix: 'spec.imageRepository.',
  rename: (relative) => relative.replace(/^(secretRef|certSecretRef)\.name$/, '$1'),
};

/** The same, except that a scan interval taken from the deployment is the deployment's field. */
const FROM_PULL_INTERVAL_PATHS: FieldPaths = {
  prefix: 'spec.',
  rename: (relative) => (relative === 'interval' ? 'pullInterval' : `imageRepository.${INLINE_PATHS.rename?.(relative) ?? relative}`),
};

export interface DerivedImageObjects<C extends CompiledForms = PlainForms> {
  /** Named after the ContinuousDeployment, in its namespace. */
  imageRepository: ImageRepository;
  imagePolicy: ImagePolicy;
  repository: ImageRepositoryConfig<C>;
  policy: ImagePolicyConfig<C>;
  /** The user's part of the commit message; the bot prefix is added by the automation. */
  commitMessage: string | undefined;
}

/**
 * The ImageRepository + ImagePolicy pair a ContinuousDeployment declares with its inline
 * `imageRepository` block, validated the same way as standalone objects (errors name the inline
 * fields). `undefined` when the ContinuousDeployment has no such block.
 */
export function inlineToImageObjects<C extends CompiledForms>(
  cd: ContinuousDeployment,
  compile: ImageCompilers<C>,
): Validated<DerivedImageObjects<C>> | undefined {
  const block: unknown = cd.spec?.imageRepository;
  if (block === undefined || block === null) return undefined;

  const own = new Problems({ prefix: '' });
  const name = cd.metadata?.name ?? '';
  const namespace = cd.metadata?.namespace ?? '';
  const nameProblem = objectNameProblem(name);
  if (nameProblem) own.add('metadata.name', nameProblem);
  const namespaceProblemText = namespaceProblem(namespace);
  if (namespaceProblemText) own.add('metadata.namespace', namespaceProblemText);

  const inline = new Problems(INLINE_PATHS);
  if (!isObject(block)) {
    inline.add('', `must be an object, not ${describe(block)}`);
    return { ok: false, errors: [...own.errors, ...inline.errors] };
  }
  checkKnownFields(inline, '', block, INLINE_IMAGE_FIELDS);
  const commitMessage = readString(inline, block, 'commitMessage');
  if (block.policy === undefined || block.policy === null) {
    inline.add('policy', 'is required', 'e.g. policy: {numerical: {order: asc}} or {semver: {range: ">=1.0.0"}}', 'InvalidPolicy');
  }

  const ownInterval = block.interval !== undefined && block.interval !== null;
  const repositorySpec = repositorySpecOf(block, ownInterval ? block.interval : (cd.spec.pullInterval ?? DEPLOYMENT_DEFAULTS.pullInterval));
  const policySpec = policySpecOf(block, name);
  const repository = validateImageRepositorySpec(repositorySpec, compile, ownInterval ? INLINE_PATHS : FROM_PULL_INTERVAL_PATHS);
  const policy =
    block.policy === undefined || block.policy === null
      ? undefined
      : validateImagePolicySpec(policySpec, namespace || 'default', compile, INLINE_PATHS);

  const errors = [
    ...own.errors,
    ...inline.errors,
    ...(repository.ok ? [] : repository.errors),
    ...(policy && !policy.ok ? policy.errors : []),
  ];
  if (errors.length > 0 || !repository.ok || !policy?.ok) return { ok: false, errors };

  const metadata = () => ({ name, namespace, annotations: { [Annotations.owner]: `${namespace}/${name}` } });
  // Both specs passed validation above, so they have the shapes of the API types.
  return {
    ok: true,
    value: {
      imageRepository: {
        apiVersion: API_VERSION,
        kind: Kinds.ImageRepository.kind,
        metadata: metadata(),
        spec: repositorySpec as unknown as ImageRepositorySpec,
      },
      imagePolicy: {
        apiVersion: API_VERSION,
        kind: Kinds.ImagePolicy.kind,
        metadata: metadata(),
        spec: policySpec as unknown as ImagePolicySpec,
      },
      repository: repository.value,
      policy: policy.value,
      commitMessage,
    },
  };
}

/**
 * Only what the block sets, plus the interval KubeVela always sets, so applies stay minimal.
 * KubeVela's kustomize component scans the registry at the deployment's `pullInterval` (the seed
 * says Git and the registry are both polled at it), so a new tag reaches Git within about one
 * pull interval; the block's own `interval` overrides it.
 */
function repositorySpecOf(block: Record<string, unknown>, interval: unknown): Record<string, unknown> {
  const spec: Record<string, unknown> = { image: block.image, interval };
  if (block.timeout !== undefined) spec.timeout = block.timeout;
  if (block.secretRef !== undefined && block.secretRef !== null) spec.secretRef = { name: block.secretRef };
  if (block.certSecretRef !== undefined && block.certSecretRef !== null) spec.certSecretRef = { name: block.certSecretRef };
  if (block.insecure !== undefined) spec.insecure = block.insecure;
  if (block.exclusionList !== undefined) spec.exclusionList = block.exclusionList;
  return spec;
}

function policySpecOf(block: Record<string, unknown>, name: string): Record<string, unknown> {
  const spec: Record<string, unknown> = { imageRepositoryRef: { name }, policy: block.policy };
  if (block.filterTags !== undefined) spec.filterTags = block.filterTags;
  if (block.digestReflectionPolicy !== undefined) spec.digestReflectionPolicy = block.digestReflectionPolicy;
  return spec;
}
