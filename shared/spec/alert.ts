import { ALERT_SOURCE_KINDS, type AlertSourceKind, type Severity } from '../api/alerting.ts';
import { namespaceProblem, objectNameProblem } from './names.ts';
import { checkKnownFields, isObject, Problems, SPEC_PATHS, type FieldPaths, type Validated } from './problems.ts';
import { describe, readBoolean, readString, readStringMap } from './read.ts';

/** One `spec.eventSources` entry; the namespace is filled in from the Alert. */
export interface AlertSource {
  kind: AlertSourceKind;
  /** A name, or `*` for every object of the kind in the namespace that `matchLabels` selects. */
  name: string;
  namespace: string;
  matchLabels: Record<string, string>;
}

/** An Alert spec, checked. Patterns stay text: the caller compiles them with its own regex engine (RE2). */
export interface AlertConfig {
  providerRef: string;
  /** `info` sends every event, `error` only failures (Flux). */
  eventSeverity: Severity;
  eventSources: AlertSource[];
  inclusionList: string[];
  exclusionList: string[];
  /** Added to every event's metadata (e.g. env: production). */
  eventMetadata: Record<string, string>;
  summary: string | undefined;
  /**
   * Go text/template over the event (Flux's eventv1.Event fields) whose output replaces the
   * message sent. Whether it parses is the notification program's to check (its engine).
   */
  messageTemplate: string | undefined;
  suspend: boolean;
}

export const ALERT_FIELDS = [
  'providerRef',
  'eventSeverity',
  'eventSources',
  'inclusionList',
  'exclusionList',
  'eventMetadata',
  'summary',
  'messageTemplate',
  'suspend',
];
export const MAX_ALERT_TEMPLATE_BYTES = 16 * 1024;
const SOURCE_FIELDS = ['apiVersion', 'kind', 'name', 'namespace', 'matchLabels'];
export const MAX_ALERT_SOURCES = 64;
export const MAX_ALERT_PATTERNS = 32;

export function validateAlertSpec(
  spec: unknown,
  namespace: string,
  options: { noCrossNamespaceRefs?: boolean } = {},
  paths: FieldPaths = SPEC_PATHS,
): Validated<AlertConfig> {
  const problems = new Problems(paths);
  if (!isObject(spec)) {
    problems.add('', `must be an object, not ${describe(spec)}`);
    return problems.result(() => undefined as never);
  }
  checkKnownFields(problems, '', spec, ALERT_FIELDS);
  let providerRef: string | undefined;
  if (!isObject(spec.providerRef)) {
    problems.add('providerRef', `is required: {name: <a Provider in this namespace>}, not ${describe(spec.providerRef)}`);
  } else {
    checkKnownFields(problems, 'providerRef.', spec.providerRef, ['name']);
    providerRef = readString(problems, spec.providerRef, 'name', { required: true, at: 'providerRef.name' });
    const problem = providerRef === undefined ? undefined : objectNameProblem(providerRef);
    if (problem) problems.add('providerRef.name', problem);
  }
  const severityText = readString(problems, spec, 'eventSeverity') ?? 'info';
  if (severityText !== 'info' && severityText !== 'error') {
    problems.add(
      'eventSeverity',
      `must be info or error, not ${JSON.stringify(severityText)}`,
      'info sends every event; error only failures',
    );
  }
  const eventSources = readSources(problems, spec.eventSources, namespace, options.noCrossNamespaceRefs === true);
  const inclusionList = readPatterns(problems, spec.inclusionList, 'inclusionList');
  const exclusionList = readPatterns(problems, spec.exclusionList, 'exclusionList');
  const eventMetadata = readStringMap(problems, spec.eventMetadata, 'eventMetadata');
  const summary = readString(problems, spec, 'summary');
  const messageTemplate = readString(problems, spec, 'messageTemplate');
  if (messageTemplate !== undefined && Buffer.byteLength(messageTemplate) > MAX_ALERT_TEMPLATE_BYTES) {
    problems.add('messageTemplate', `is longer than ${MAX_ALERT_TEMPLATE_BYTES} bytes`);
  }
  const suspend = readBoolean(problems, spec, 'suspend');
  return problems.result(() => ({
    providerRef: providerRef as string,
    eventSeverity: severityText as Severity,
    eventSources,
    inclusionList,
    exclusionList,
    eventMetadata,
    summary,
    // An empty template is no template: the event's own message is sent.
    messageTemplate: messageTemplate || undefined,
    suspend,
  }));
}

function readPatterns(problems: Problems, value: unknown, at: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    problems.add(at, `must be a list of regular expressions, not ${describe(value)}`);
    return [];
  }
  if (value.length > MAX_ALERT_PATTERNS) {
    problems.add(at, `has ${value.length} entries; at most ${MAX_ALERT_PATTERNS} are allowed`);
    return [];
  }
  const out: string[] = [];
  value.forEach((entry: unknown, i) => {
    if (typeof entry !== 'string' || entry === '' || entry.length > 1024)
      problems.add(`${at}[${i}]`, 'must be a regular expression of 1 to 1024 characters');
    else out.push(entry);
  });
  return out;
}

function readSources(problems: Problems, value: unknown, namespace: string, sameNamespaceOnly: boolean): AlertSource[] {
  const hint = 'e.g. eventSources: [{kind: ContinuousDeployment, name: "*"}]';
  if (!Array.isArray(value) || value.length === 0) {
    problems.add(
      'eventSources',
      `must be a non-empty list of {kind, name}, not ${Array.isArray(value) ? 'an empty list' : describe(value)}`,
      hint,
    );
    return [];
  }
  if (value.length > MAX_ALERT_SOURCES) {
    problems.add(
      'eventSources',
      `has ${value.length} entries; at most ${MAX_ALERT_SOURCES} are allowed`,
      'select many objects with name "*" and matchLabels',
    );
    return [];
  }
  const out: AlertSource[] = [];
  value.forEach((entry: unknown, i) => {
    const at = `eventSources[${i}]`;
    if (!isObject(entry)) {
      problems.add(at, `must be an object {kind, name}, not ${describe(entry)}`, hint);
      return;
    }
    const before = problems.errors.length;
    checkKnownFields(problems, `${at}.`, entry, SOURCE_FIELDS);
    const kind = readString(problems, entry, 'kind', { required: true, at: `${at}.kind` });
    if (kind !== undefined && !(ALERT_SOURCE_KINDS as readonly string[]).includes(kind)) {
      problems.add(`${at}.kind`, `${JSON.stringify(kind)} sends no Tidemark events`, `one of ${ALERT_SOURCE_KINDS.join(', ')}`);
    }
    const name = readString(problems, entry, 'name', { required: true, at: `${at}.name` });
    if (name !== undefined && name !== '*') {
      const problem = objectNameProblem(name);
      if (problem) problems.add(`${at}.name`, problem, 'an object name, or "*"');
    }
    const sourceNamespace = readString(problems, entry, 'namespace', { at: `${at}.namespace` }) ?? namespace;
    const nsProblem = namespaceProblem(sourceNamespace);
    if (nsProblem) problems.add(`${at}.namespace`, nsProblem);
    else if (sameNamespaceOnly && sourceNamespace !== namespace) {
      problems.add(
        `${at}.namespace`,
        `${JSON.stringify(sourceNamespace)} is another namespace, and cross-namespace references are disabled`,
      );
    }
    const matchLabels = readStringMap(problems, entry.matchLabels, `${at}.matchLabels`);
    if (Object.keys(matchLabels).length > 0 && name !== undefined && name !== '*') {
      problems.add(`${at}.matchLabels`, 'selects objects only with name "*"', 'set name: "*" to select by labels, or drop matchLabels');
    }
    if (problems.errors.length > before) return;
    out.push({ kind: kind as AlertSourceKind, name: name as string, namespace: sourceNamespace, matchLabels });
  });
  return out;
}
