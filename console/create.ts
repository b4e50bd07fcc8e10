import type { ContinuousDeployment } from '../shared/api/continuous-deployment.ts';
import { API_VERSION } from '../shared/api/constants.ts';
import { isObject } from '../shared/kube/object.ts';
import { inlineToImageObjects, plainCompilers, validateContinuousDeploymentSpec } from '../shared/spec/index.ts';
import { namespaceProblem, objectNameProblem } from '../shared/spec/names.ts';
import type { FieldProblem } from './edit.ts';
import { informationPatch, splitField } from './edit.ts';

/**
 * The create form's submission read into a ContinuousDeployment: the name and namespace, the
 * alias and description (Edit Information's annotations), and a spec our own reader accepts —
 * every problem at once, each with the field path the form shows it beside. The inline image
 * automation block is read by the image updater's reader too, so its mistakes are caught here
 * rather than in the image updater's status later.
 */
export function readNewCd(input: unknown): { ok: true; cd: ContinuousDeployment } | { ok: false; problems: FieldProblem[] } {
  const body = isObject(input) ? input : {};
  const problems: FieldProblem[] = [];
  const name = typeof body.name === 'string' ? body.name.trim() : '';
  const namespace = typeof body.namespace === 'string' ? body.namespace.trim() : '';
  const nameProblem = name === '' ? 'is required' : objectNameProblem(name);
  if (nameProblem) problems.push({ field: 'metadata.name', message: nameProblem });
  const namespaceText = namespace === '' ? 'is required' : namespaceProblem(namespace);
  if (namespaceText) problems.push({ field: 'metadata.namespace', message: namespaceText });
  const info = informationPatch({ alias: body.alias, description: body.description });
  if (!info.ok) problems.push(...info.problems.map((p) => ({ field: `metadata.annotations.${p.field}`, message: p.message })));
  const spec = validateContinuousDeploymentSpec(body.spec);
  if (!spec.ok) problems.push(...spec.errors.map((err) => splitField(err.message)));
  const annotations = info.ok ? annotationsOf(info.patch) : {};
  const cd: ContinuousDeployment = {
    apiVersion: API_VERSION,
    kind: 'ContinuousDeployment',
    metadata: { name, namespace, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
    spec: (isObject(body.spec) ? body.spec : {}) as unknown as ContinuousDeployment['spec'],
  };
  if (spec.ok && !nameProblem && !namespaceText) {
    const image = inlineToImageObjects(cd, plainCompilers);
    if (image && !image.ok) problems.push(...image.errors.map((err) => splitField(err.message)));
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, cd };
}

/** The annotations a merge patch of Edit Information sets (nulls, which remove, left out). */
function annotationsOf(patch: Record<string, unknown>): Record<string, string> {
  const metadata = isObject(patch.metadata) ? patch.metadata : {};
  const annotations = isObject(metadata.annotations) ? metadata.annotations : {};
  return Object.fromEntries(Object.entries(annotations).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}
