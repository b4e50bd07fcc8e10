import { TidemarkError, type Reason } from '../../shared/errors/index.ts';

/** Reason codes: a template that does not parse vs. one that fails while rendering. */
export const TemplateErrorCodes = {
  invalid: 'InvalidCommitTemplate',
  failed: 'CommitTemplateFailed',
} as const satisfies Record<string, Reason>;

export type TemplateErrorCode = (typeof TemplateErrorCodes)[keyof typeof TemplateErrorCodes];

/**
 * Both kinds are terminal: the template is user configuration, and rendering is a pure function
 * of it and the data, so retrying cannot help until someone edits the template.
 */
export class TemplateError extends TidemarkError {
  readonly line: number;
  readonly col: number;
  readonly detail: string;

  constructor(code: TemplateErrorCode, templateName: string, line: number, col: number, detail: string, context?: string) {
    const where = `${templateName}:${line}:${col}`;
    const message =
      context === undefined
        ? `template: ${where}: ${detail}`
        : `template: ${where}: executing "${templateName}" at <${context}>: ${detail}`;
    super(code, message, {
      kind: 'terminal',
      hint:
        code === TemplateErrorCodes.invalid
          ? 'fix the commit message template syntax (Go text/template)'
          : 'fix the commit message template; it failed while rendering',
    });
    this.name = 'TemplateError';
    this.line = line;
    this.col = col;
    this.detail = detail;
  }
}

/**
 * Maps an offset to a line and a column the way Go's ErrorContext does: lines count from
 * `firstLine`, the column is the offset within the line starting at 0.
 */
export function position(text: string, offset: number, firstLine = 1): { line: number; col: number } {
  let line = firstLine;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, col: end - lineStart };
}
