/** Commit messages: Go's own text/template + Sprig (WebAssembly) over Flux's template data. */
export {
  DEFAULT_COMMIT_TEMPLATE,
  buildCommitMessage,
  prepareCommitMessage,
  renderCommitMessage,
  validateCommitTemplate,
} from './commit-message.ts';
export type { CommitChange, CommitDataInput, CommitMessageInput } from './commit-message.ts';
// The engine itself is shared with the notification program's alert messages.
export { DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_TIMEOUT_MS, defaultModuleDir, engineLoaded } from '../../shared/template/index.ts';
export type { EngineOptions } from '../../shared/template/index.ts';
export { TemplateError } from '../../shared/template/index.ts';
export type { TemplateErrorCode } from '../../shared/template/index.ts';
