/** Commit messages: Go's own text/template + Sprig (WebAssembly) over Flux's template data. */
export { DEFAULT_COMMIT_TEMPLATE, buildCommitMessage, renderCommitMessage, validateCommitTemplate } from './commit-message.ts';
export type { CommitChange, CommitDataInput, CommitMessageInput } from './commit-message.ts';
export { DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_TIMEOUT_MS, defaultModuleDir, engineLoaded } from './go-engine.ts';
export type { EngineOptions } from './go-engine.ts';
export { TemplateError } from './errors.ts';
export type { TemplateErrorCode } from './errors.ts';
