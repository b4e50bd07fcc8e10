/** Go's own text/template + Sprig (WebAssembly, in a worker) for commit and alert messages. */
export {
  ALERT_MESSAGE,
  COMMIT_MESSAGE,
  COMPACT_COMMIT_MESSAGE,
  DEFAULT_IDLE_MS,
  DEFAULT_MAX_MEMORY_BYTES,
  DEFAULT_MAX_OUTPUT_BYTES,
  DEFAULT_TIMEOUT_MS,
  defaultModuleDir,
  engineLoaded,
  engineStarts,
  prepareEngine,
  releaseEngine,
  runTemplate,
} from './go-engine.ts';
export type { EngineOptions, TemplateKind } from './go-engine.ts';
export { TemplateError } from './errors.ts';
export type { TemplateErrorCode } from './errors.ts';
