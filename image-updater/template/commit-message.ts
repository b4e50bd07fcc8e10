/**
 * The bot's commit message: `Update image automatically.` (a first line users filter their CI
 * on), a newline, then the user's template rendered over Flux's template data (see
 * shared/template/go/update).
 */
import { BOT_COMMIT_PREFIX } from '../../shared/api/constants.ts';
import type { ObjectId } from '../markers/types.ts';
import { COMMIT_MESSAGE, COMPACT_COMMIT_MESSAGE, prepareEngine, runTemplate, type EngineOptions } from '../../shared/template/index.ts';

const CHANGE_LINE =
  '- {{ $file }}{{ with $object.Kind }} {{ . }}{{ end }}' +
  '{{ with $object.Name }} {{ with $object.Namespace }}{{ . }}/{{ end }}{{ . }}{{ end }}: {{ .OldValue }} -> {{ .NewValue }}';

/** One line per changed value: `- <file> <Kind> <namespace>/<name>: <old> -> <new>`. */
export const DEFAULT_COMMIT_TEMPLATE = `
{{ range $file, $objects := .Changed.FileChanges -}}
{{ range $object, $changes := $objects -}}
{{ range $changes -}}
${CHANGE_LINE}
{{ end -}}
{{ end -}}
{{ end -}}`;

/** `setter` is the marker's policy (`default:app:tag`), `image` the full reference it chose. */
export interface CommitChange {
  file: string;
  object: ObjectId;
  oldValue: string;
  newValue: string;
  setter: string;
  image: string;
}

export interface CommitDataInput {
  automation: { namespace: string; name: string };
  changes: readonly CommitChange[];
  /** `messageTemplateValues`, reached as `.Values.key`. */
  values?: Readonly<Record<string, string>>;
}

export interface CommitMessageInput extends CommitDataInput {
  /** The default listing when absent or empty. */
  template?: string;
}

type Indices = [number, number, number, number, number];

/**
 * The changes as Go's update.CompactInput: every distinct string once, an object as [file,
 * apiVersion, kind, name, namespace] and a change as [object, old value, new value, setter,
 * image], indices into the strings (and a change's object into the objects). A run that changes
 * 20,000 values in 2,000 files repeats each file, object and image ten times or more, and Go
 * decoding the list took most of a second.
 */
export function compactChanges(changes: readonly CommitChange[]): { strings: string[]; objects: Indices[]; changes: Indices[] } {
  const strings: string[] = [];
  const stringIndex = new Map<string, number>();
  const str = (s: string): number => {
    let i = stringIndex.get(s);
    if (i === undefined) {
      i = strings.push(s) - 1;
      stringIndex.set(s, i);
    }
    return i;
  };
  const objects: Indices[] = [];
  const objectIndex = new Map<string, number>();
  const rows = changes.map((c): Indices => {
    const { apiVersion, kind, name, namespace } = c.object;
    const object: Indices = [str(c.file), str(apiVersion), str(kind), str(name), str(namespace)];
    const key = object.join(',');
    let i = objectIndex.get(key);
    if (i === undefined) {
      i = objects.push(object) - 1;
      objectIndex.set(key, i);
    }
    return [i, str(c.oldValue), str(c.newValue), str(c.setter), str(c.image)];
  });
  return { strings, objects, changes: rows };
}

/** Renders a template over the data Flux gives it. Throws TemplateError. */
export function renderCommitMessage(
  template: string,
  { automation, changes, values }: CommitDataInput,
  options: EngineOptions = {},
): Promise<string> {
  return runTemplate(COMPACT_COMMIT_MESSAGE, { template, data: { automation, values, ...compactChanges(changes) } }, options);
}

/**
 * Starts the engine for a commit message about to be rendered, while the caller still works
 * (see prepareEngine); call the returned function once the message is rendered, or not needed.
 */
export function prepareCommitMessage(options: EngineOptions = {}): () => Promise<void> {
  return prepareEngine(COMPACT_COMMIT_MESSAGE, options);
}

/** Parses a template at configuration time, so a syntax error shows before the first commit. */
export async function validateCommitTemplate(template: string, options: EngineOptions = {}): Promise<void> {
  await runTemplate(COMMIT_MESSAGE, { template }, options);
}

/**
 * KubeVela renders prefix and template as one template, so a template starting with `{{- `
 * trims the newline between them. Rendering the template alone gives the same bytes while
 * errors keep the user's own line numbers.
 */
const TRIMS_LEADING_SPACE = /^[ \t\r\n]*\{\{-[ \t\r\n]/;

export async function buildCommitMessage(input: CommitMessageInput, options: EngineOptions = {}): Promise<string> {
  const template = input.template || DEFAULT_COMMIT_TEMPLATE;
  const body = await renderCommitMessage(template, input, options);
  return `${BOT_COMMIT_PREFIX}${TRIMS_LEADING_SPACE.test(template) ? '' : '\n'}${body}`;
}
