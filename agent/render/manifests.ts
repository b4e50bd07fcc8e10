import { terminal } from '../../shared/errors/index.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { isObject } from '../../shared/kube/object.ts';
import { ArgoAnnotations } from '../argo-sync.ts';
import type { ObjectSource, RenderedObject } from './types.ts';
import { parseYaml } from './yaml.ts';

/**
 * The objects of one file: every YAML document (see yaml.ts for how scalars are read), empty and
 * `null` documents skipped, `kind: List` unwrapped. A document that does not parse is
 * ManifestParseFailed with file, line and column; one that is not a Kubernetes object is
 * ManifestInvalid naming file and document.
 */
export function parseManifests(text: string, file: string): RenderedObject[] {
  if (LFS_POINTER.test(text)) {
    throw terminal(
      'ManifestInvalid',
      `${file} is a Git LFS pointer, not a manifest: the agent does not fetch Git LFS content`,
      'commit manifests as ordinary files (take their pattern out of the LFS lines in .gitattributes)',
    );
  }
  const parsed = parseYaml(text);
  if (!parsed.ok) {
    const { line, col, message } = parsed.error;
    throw terminal('ManifestParseFailed', `${file}:${line}:${col}: ${message}`, 'fix the YAML in Git');
  }
  const out: RenderedObject[] = [];
  for (const { value, index } of parsed.documents) {
    if (value === null || value === undefined) continue;
    if (isObject(value) && value.kind === 'List' && typeof value.apiVersion === 'string' && Array.isArray(value.items)) {
      value.items.forEach((item: unknown, i: number) => {
        const source: ObjectSource = { file, document: index, item: i + 1 };
        out.push({ object: checkObject(item, source), source });
      });
      continue;
    }
    const source: ObjectSource = { file, document: index };
    out.push({ object: checkObject(value, source), source });
  }
  return out;
}

/** The first line of a Git LFS pointer file (git-lfs's spec; hawser was its first name). */
const LFS_POINTER = /^version https:\/\/(?:git-lfs|hawser)\.github\.com\/spec\/v1\r?\n/;

export function describeSource(source: ObjectSource): string {
  return `${source.file} document ${source.document}${source.item === undefined ? '' : ` item ${source.item}`}`;
}

function checkObject(value: unknown, source: ObjectSource): KubeObject {
  const where = describeSource(source);
  const invalid = (what: string, hint: string) => terminal('ManifestInvalid', `${where} ${what}`, hint);
  if (!isObject(value)) throw invalid('is not a mapping', 'each YAML document must be one Kubernetes object');
  if (typeof value.apiVersion !== 'string' || value.apiVersion === '') throw invalid('has no apiVersion', 'set apiVersion');
  if (typeof value.kind !== 'string' || value.kind === '') throw invalid('has no kind', 'set kind');
  const metadata = value.metadata;
  if (!isObject(metadata)) throw invalid(`(${value.kind}) has no metadata.name`, 'set metadata.name');
  // An Argo CD hook is created fresh each sync, so it may have only a generateName (named at sync time).
  const hook = isObject(metadata.annotations) && typeof metadata.annotations[ArgoAnnotations.hook] === 'string';
  const generated = typeof metadata.generateName === 'string' && metadata.generateName !== '';
  if (hook && generated && metadata.name === undefined) metadata.name = '';
  else if (typeof metadata.name !== 'string' || metadata.name === '') {
    throw invalid(
      `(${value.kind}) has no metadata.name`,
      'set metadata.name (generateName is allowed only on an argocd.argoproj.io/hook object)',
    );
  }
  if (metadata.namespace !== undefined && metadata.namespace !== null && typeof metadata.namespace !== 'string') {
    throw invalid(`(${value.kind} ${String(metadata.name)}) has a metadata.namespace that is not a string`, 'quote the namespace');
  }
  // `namespace: ""` or `namespace:` means "none given", which the planner reads as an absent field.
  if (metadata.namespace === null || metadata.namespace === '') delete metadata.namespace;
  return value as KubeObject;
}
