/**
 * The bot's commit message: a fixed first line users filter their CI on, then the rendered
 * template.
 *
 * Layout (KubeVela's addon builds Flux's messageTemplate the same way):
 *
 *     Update image automatically.\n<template>
 *
 * The prefix and the template are rendered as one template, as in KubeVela, so a template that
 * starts with `{{-` trims that newline exactly as it would there. Without a template the
 * default below is used; it starts with an empty line, giving a subject line, a blank line and
 * one line per change.
 */
import { BOT_COMMIT_PREFIX } from '../../shared/api/constants.ts';
import { buildCommitData } from './commit-data.ts';
import type { CommitDataInput } from './commit-data.ts';
import { compileTemplate } from './engine.ts';
import type { ExecLimits } from './exec.ts';

/** Renders one line per changed value: `- <file> <Kind> <namespace>/<name>: <old> -> <new>`. */
export const DEFAULT_COMMIT_TEMPLATE = `
{{ range $file, $objects := .Changed.FileChanges -}}
{{ range $object, $changes := $objects -}}
{{ range $changes -}}
- {{ $file }}{{ with $object.Kind }} {{ . }}{{ end }}{{ with $object.Name }} {{ with $object.Namespace }}{{ . }}/{{ end }}{{ . }}{{ end }}: {{ .OldValue }} -> {{ .NewValue }}
{{ end -}}
{{ end -}}
{{ end -}}`;

const TEMPLATE_NAME = 'commit message';

export interface RenderOptions {
  limits?: ExecLimits;
}

/**
 * Renders a commit message template against data (see buildCommitData). Throws TemplateError:
 * InvalidCommitTemplate when it does not parse, CommitTemplateFailed when rendering fails.
 */
export function renderCommitMessage(template: string, data: unknown, options: RenderOptions = {}): string {
  return compileTemplate(template, { name: TEMPLATE_NAME, limits: options.limits }).render(data);
}

function withPrefix(template: string | undefined): string {
  return `${BOT_COMMIT_PREFIX}\n${template ?? DEFAULT_COMMIT_TEMPLATE}`;
}

/**
 * Checks a user's template at configuration time, so a syntax error is reported when the spec
 * is read rather than when the first commit is due. Line numbers are the user's own.
 */
export function validateCommitTemplate(template: string): void {
  compileTemplate(withPrefix(template), { name: TEMPLATE_NAME, firstLine: 0 });
}

export interface CommitMessageInput extends CommitDataInput {
  /** The user's template (the seed's `commitMessage`); the default listing when absent. */
  template?: string;
}

/** The full message: `Update image automatically.` + `\n` + the rendered template. */
export function buildCommitMessage(input: CommitMessageInput, options: RenderOptions = {}): string {
  const template = input.template === undefined || input.template === '' ? undefined : input.template;
  // firstLine 0: the prefix is line 0, so errors point at the user's own line numbers.
  const compiled = compileTemplate(withPrefix(template), { name: TEMPLATE_NAME, firstLine: 0, limits: options.limits });
  return compiled.render(buildCommitData(input));
}
