/**
 * Commit message templates: a Go `text/template` engine with Sprig's hermetic functions, the
 * template data Flux templates expect, and the bot's message layout.
 */
export { compileTemplate, renderTemplate, templateFuncs } from './engine.ts';
export type { CompiledTemplate, TemplateOptions } from './engine.ts';
export { DEFAULT_LIMITS } from './exec.ts';
export type { ExecLimits, FuncMap, ParamKind, TemplateFunc } from './exec.ts';
export { TemplateError, TemplateErrorCodes } from './errors.ts';
export { GoFloat, makeStruct, namedMap, jsonForm, stringer, structInfo } from './values.ts';
export type { GoStruct, StructInfo, StructOptions } from './values.ts';
export { buildCommitData, parseImageRef } from './commit-data.ts';
export type { CommitChange, CommitDataInput, ImageRefParts } from './commit-data.ts';
export { DEFAULT_COMMIT_TEMPLATE, buildCommitMessage, renderCommitMessage, validateCommitTemplate } from './commit-message.ts';
export type { CommitMessageInput, RenderOptions } from './commit-message.ts';
