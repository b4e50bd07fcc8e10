export { ImageRepositoryController, type RepositoryControllerDeps } from './repository.ts';
export { ImagePolicyController, type PolicyControllerDeps, type RepositoryLookup } from './policy.ts';
export {
  InlineController,
  INLINE_FIELD_MANAGER,
  controlledBy,
  derivedTarget,
  imageObjectsDeriver,
  removalPatch,
  withOwner,
  type Derivation,
  type DerivedTarget,
  type InlineControllerDeps,
  type InlineDeriver,
} from './inline.ts';
export { MemoryTagStore, repositoryKey, type ScanRecord, type TagStore } from './tag-store.ts';
export { createAccessResolver, type AccessResolver, type AccessSpec } from './registry-access.ts';
export { latestTags, scanDue, LATEST_TAGS_COUNT } from './repository-status.ts';
export { digestPlan, nextPolicyStatus, sameRef, type PolicyOutcome } from './policy-status.ts';
export { Reason, type StatusContext } from './reasons.ts';
export type { DeploymentObject, PolicyObject, RepositoryObject } from './object-types.ts';
