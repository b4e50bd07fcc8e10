export type { Validated, FieldPaths } from './result.ts';
export { validateImageRepositorySpec, type ImageRepositoryConfig } from './image-repository.ts';
export { validateImagePolicySpec, type ImagePolicyConfig } from './image-policy.ts';
export { inlineToImageObjects, type DerivedImageObjects } from './inline.ts';
export { imageProblem, IMAGE_REPOSITORY_PATTERN } from './names.ts';
