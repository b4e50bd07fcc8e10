/**
 * The image updater's spec readers: shared/spec's readers with the updater's own compilers handed
 * in (RE2 tag filters and exclusion lists, policies), so a spec is still judged in one pass and
 * its configuration arrives compiled. The automation's reader, with the commit template check,
 * is in automation/spec.ts.
 */
import type { ContinuousDeployment } from '../shared/api/continuous-deployment.ts';
import {
  inlineToImageObjects,
  validateImagePolicySpec,
  validateImageRepositorySpec,
  type DerivedImageObjects,
  type ImageCompilers,
  type ImagePolicyConfig as SharedImagePolicyConfig,
  type ImageRepositoryConfig as SharedImageRepositoryConfig,
  type Validated,
} from '../shared/spec/index.ts';
import { createPolicy, ExclusionList, TagFilter, type Policy } from './policy/index.ts';

export type { Validated } from '../shared/spec/index.ts';

/** What the updater compiles from an image spec. */
export interface UpdaterForms {
  exclusionList: ExclusionList;
  filterTags: TagFilter;
  policy: Policy;
}

export const imageCompilers: ImageCompilers<UpdaterForms> = {
  exclusionList: (patterns) => new ExclusionList(patterns),
  filterTags: (spec) => new TagFilter(spec),
  policy: (choice) => createPolicy(choice),
};

/** An ImageRepository spec, checked and defaulted, with its exclusion list compiled. */
export type ImageRepositoryConfig = SharedImageRepositoryConfig<UpdaterForms>;
/** An ImagePolicy spec, checked and defaulted, with its filter and policy compiled. */
export type ImagePolicyConfig = SharedImagePolicyConfig<UpdaterForms>;
export type InlineImageObjects = DerivedImageObjects<UpdaterForms>;

export function readImageRepositorySpec(spec: unknown): Validated<ImageRepositoryConfig> {
  return validateImageRepositorySpec(spec, imageCompilers);
}

/**
 * `namespace` is the ImagePolicy's own: the default for `imageRepositoryRef.namespace`, and under
 * lockdown (`noCrossNamespaceRefs`) the only one allowed.
 */
export function readImagePolicySpec(
  spec: unknown,
  namespace: string,
  options: { noCrossNamespaceRefs?: boolean } = {},
): Validated<ImagePolicyConfig> {
  return validateImagePolicySpec(spec, namespace, imageCompilers, undefined, options);
}

/** The ImageRepository + ImagePolicy a ContinuousDeployment's inline block declares; `undefined` without one. */
export function readInlineImageObjects(cd: ContinuousDeployment): Validated<InlineImageObjects> | undefined {
  return inlineToImageObjects(cd, imageCompilers);
}
