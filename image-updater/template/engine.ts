/** The template engine's entry points: Go text/template semantics with Sprig's hermetic functions. */
import { builtinFuncs } from './builtins.ts';
import { DEFAULT_LIMITS, execute } from './exec.ts';
import type { ExecLimits, FuncMap, TemplateFunc } from './exec.ts';
import { parseTemplate } from './parser.ts';
import type { ParsedTemplate } from './parser.ts';
import { sprigFuncs } from './sprig.ts';

/**
 * Sprig's functions layered over Go's builtins, as Flux's `Funcs(sprig.HermeticTxtFuncMap())`
 * does; `slice` stays the builtin, which handles lists the way Sprig's does and strings too.
 */
export const templateFuncs: FuncMap = new Map<string, TemplateFunc>(
  Object.entries({ ...builtinFuncs, ...sprigFuncs, slice: builtinFuncs.slice! }),
);

const funcNames: ReadonlySet<string> = new Set(templateFuncs.keys());

export interface TemplateOptions {
  /** Name shown in error messages (`template: NAME:line:col: ...`). */
  name?: string | undefined;
  /** Number of the template's first line in errors (0 when a fixed line is prepended). */
  firstLine?: number | undefined;
  limits?: ExecLimits | undefined;
}

export interface CompiledTemplate {
  readonly tree: ParsedTemplate;
  /** Renders with the data; throws TemplateError (CommitTemplateFailed) when execution fails. */
  render(data: unknown): string;
}

/** Parses a template; throws TemplateError (InvalidCommitTemplate) on a syntax error. */
export function compileTemplate(text: string, options: TemplateOptions = {}): CompiledTemplate {
  const tree = parseTemplate(text, {
    name: options.name ?? 'template',
    funcs: funcNames,
    firstLine: options.firstLine ?? 1,
  });
  const limits = options.limits ?? DEFAULT_LIMITS;
  return { tree, render: (data: unknown) => execute(tree, data, templateFuncs, limits) };
}

export function renderTemplate(text: string, data: unknown, options: TemplateOptions = {}): string {
  return compileTemplate(text, options).render(data);
}
