/**
 * The image updater's face: what the CLI, the bench and the demo use. Everything else under
 * image-updater/ is its own business.
 */
export { startImageUpdater, type ImageUpdaterOptions, type RunningImageUpdater } from './main.ts';
/** The policy decision: tags in, the newest by the policy out (pure). */
export { compileDecideOptions, decide, type CompiledDecideOptions, type DecideOptions, type Decision } from './policy/index.ts';
/** The exclusion list an ImageRepository's scan applies to the listing before any policy sees it. */
export { ExclusionList } from './policy/index.ts';
/** The registry client the scans use, for listing tags the same way. */
export {
  RegistryClient,
  parseImageReference,
  type ImageReference,
  type ListTagsResult,
  type RegistryClientOptions,
} from '../shared/registry/index.ts';
/** One update run over a checkout: markers rewritten from the policies' choices, the commit message rendered. */
export { runUpdate, type PolicyView, type UpdateRunInput, type UpdateRunResult } from './automation/index.ts';
export type { ImageUpdateAutomationStatus } from './automation/index.ts';
