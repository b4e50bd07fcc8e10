import { TidemarkError } from '../errors/index.ts';

/**
 * Reason codes per use of the engine: a template that does not parse, one that fails while
 * rendering, no engine. Commit messages keep the codes they had before alerts used the engine.
 */
export type TemplateErrorCode =
  'InvalidCommitTemplate' | 'CommitTemplateFailed' | 'CommitTemplateEngineMissing' | 'InvalidAlertTemplate' | 'AlertTemplateFailed';

const HINTS: Record<TemplateErrorCode, string> = {
  InvalidCommitTemplate: 'fix the commit message template syntax (Go text/template)',
  CommitTemplateFailed: 'fix the commit message template; it failed while rendering',
  CommitTemplateEngineMissing: 'run scripts/build-template-wasm.sh (setup.sh does) or set TIDEMARK_TEMPLATE_MODULE',
  InvalidAlertTemplate: 'fix spec.messageTemplate (Go text/template over the event)',
  AlertTemplateFailed: 'fix spec.messageTemplate; until then providers get the plain event message',
};

/** Terminal: rendering is a pure function of the template and the data, so retrying cannot help. */
export class TemplateError extends TidemarkError {
  constructor(code: TemplateErrorCode, message: string) {
    super(code, message, { kind: 'terminal', hint: HINTS[code] });
    this.name = 'TemplateError';
  }
}
