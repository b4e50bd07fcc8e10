import { parseAllDocuments, stringify } from 'yaml';
import type { ContinuousDeployment } from '../shared/api/continuous-deployment.ts';
import { API_VERSION } from '../shared/api/constants.ts';
import type { KubeApiError } from '../shared/kube/errors.ts';
import { isObject } from '../shared/kube/object.ts';
import type { KubeObject } from '../shared/kube/object.ts';
import { validateContinuousDeploymentSpec } from '../shared/spec/index.ts';
import { DisplayAnnotations } from './view.ts';

/** One problem of an edit, by field path, so the page can say where it is. */
export interface FieldProblem {
  field: string;
  message: string;
}

/** What the server keeps to itself: an edit may not set it, and showing it only distracts. */
const SERVER_FIELDS = [
  'uid',
  'creationTimestamp',
  'generation',
  'managedFields',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
];

/**
 * The YAML of a ContinuousDeployment to edit: no status and no server-kept metadata, but the
 * resourceVersion, so saving over someone else's change fails instead of undoing it.
 */
export function editableYaml(cd: ContinuousDeployment): string {
  const metadata = Object.fromEntries(Object.entries(cd.metadata).filter(([key]) => !SERVER_FIELDS.includes(key)));
  return stringify({ apiVersion: cd.apiVersion, kind: cd.kind, metadata, spec: cd.spec });
}

/**
 * Reads the edited text back: one document, the same kind, name and namespace (an edit is not a
 * rename), and a spec our own reader accepts — every problem at once, each with its field path.
 */
export function readEditedYaml(
  text: string,
  target: { namespace: string; name: string },
): { ok: true; object: KubeObject } | { ok: false; problems: FieldProblem[] } {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return { ok: false, problems: [{ field: '', message: 'not YAML' }] };
  const parseErrors = docs.flatMap((doc) => doc.errors);
  if (parseErrors.length > 0) {
    return { ok: false, problems: parseErrors.map((e) => ({ field: '', message: e.message.split('\n')[0] ?? e.message })) };
  }
  const values = docs.map((doc) => doc.toJS() as unknown).filter((value) => value !== null && value !== undefined);
  if (values.length !== 1) return { ok: false, problems: [{ field: '', message: `expected one document, found ${values.length}` }] };
  const value = values[0];
  if (!isObject(value)) return { ok: false, problems: [{ field: '', message: 'must be a mapping' }] };
  const problems: FieldProblem[] = [];
  if (value.apiVersion !== API_VERSION) problems.push({ field: 'apiVersion', message: `must be ${API_VERSION}` });
  if (value.kind !== 'ContinuousDeployment') problems.push({ field: 'kind', message: 'must be ContinuousDeployment' });
  const metadata = isObject(value.metadata) ? value.metadata : {};
  if (!isObject(value.metadata)) problems.push({ field: 'metadata', message: 'is required' });
  if (metadata.name !== target.name) problems.push({ field: 'metadata.name', message: `must stay ${target.name}: an edit cannot rename` });
  if (metadata.namespace !== undefined && metadata.namespace !== target.namespace) {
    problems.push({ field: 'metadata.namespace', message: `must stay ${target.namespace}` });
  }
  const spec = validateContinuousDeploymentSpec(value.spec);
  if (!spec.ok) problems.push(...spec.errors.map((err) => splitField(err.message)));
  if (problems.length > 0) return { ok: false, problems };
  const object = { ...value, metadata: { ...metadata, name: target.name, namespace: target.namespace } } as KubeObject;
  delete object.status;
  return { ok: true, object };
}

/**
 * The API server's refusal of a write, by field. Its 422 message lists the causes after
 * "is invalid: ", separated by ", " before each field path.
 */
export function apiServerProblems(err: KubeApiError): FieldProblem[] {
  const invalid = /is invalid: (.*)$/s.exec(err.message);
  if (!invalid?.[1]) return [{ field: '', message: err.message }];
  return invalid[1]
    .replace(/^\[|\]$/g, '')
    .split(/, (?=[a-zA-Z][\w.[\]-]*: )/)
    .map(splitField);
}

/** `spec.url: is required` → field and message. */
export function splitField(message: string): FieldProblem {
  const match = /^([a-zA-Z][\w.[\]/-]*): (.*)$/s.exec(message);
  return match ? { field: match[1] ?? '', message: match[2] ?? '' } : { field: '', message };
}

/** KubeSphere's Edit Information: the alias and description annotations; empty removes one. */
export function informationPatch(input: unknown): { ok: true; patch: Record<string, unknown> } | { ok: false; problems: FieldProblem[] } {
  const body = isObject(input) ? input : {};
  const problems: FieldProblem[] = [];
  const text = (field: 'alias' | 'description', max: number): string | null => {
    const value = body[field];
    if (value === undefined || value === null || value === '') return null;
    if (typeof value !== 'string') {
      problems.push({ field, message: 'must be text' });
      return null;
    }
    const trimmed = value.trim();
    if ([...trimmed].length > max) problems.push({ field, message: `must be at most ${max} characters` });
    return trimmed === '' ? null : trimmed;
  };
  // KubeSphere's form limits: an alias of 63 characters, a description of 256.
  const alias = text('alias', 63);
  const description = text('description', 256);
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    patch: { metadata: { annotations: { [DisplayAnnotations.alias]: alias, [DisplayAnnotations.description]: description } } },
  };
}
