import { DEFAULT_SCAN_INTERVAL } from '../api/image.ts';
import type { CompiledForms, ImageCompilers, PlainForms } from './compile.ts';
import { imageProblem } from './names.ts';
import { checkKnownFields, isObject, Problems, SPEC_PATHS, type FieldPaths, type Validated } from './problems.ts';
import { MAX_SCAN_TIMEOUT_HINT, MAX_SCAN_TIMEOUT_MS } from './limits.ts';
import { readBoolean, readDuration, readSecretRef, readString, describe } from './read.ts';

/** An ImageRepository spec, checked and defaulted, with its exclusion list compiled. */
export interface ImageRepositoryConfig<C extends CompiledForms = PlainForms> {
  image: string;
  intervalMs: number;
  /** Defaults to the interval, as in Flux, but at most MAX_SCAN_TIMEOUT_MS (10 minutes). */
  timeoutMs: number;
  secretRef: string | undefined;
  certSecretRef: string | undefined;
  insecure: boolean;
  suspend: boolean;
  exclusionList: C['exclusionList'];
  /**
   * Flux's cross-namespace grant: ImagePolicies in namespaces whose labels match one selector may
   * choose from this repository's tags. Absent: only policies in this namespace.
   */
  accessFrom: AccessFrom | undefined;
}

export interface AccessFrom {
  /** `{matchLabels: {}}` matches every namespace. */
  namespaceSelectors: Array<{ matchLabels: Record<string, string> }>;
}

export const IMAGE_REPOSITORY_FIELDS = [
  'image',
  'interval',
  'timeout',
  'secretRef',
  'certSecretRef',
  'insecure',
  'exclusionList',
  'suspend',
  'accessFrom',
];
/** Selectors in accessFrom; each is checked against a Namespace's labels. */
const MAX_NAMESPACE_SELECTORS = 32;
/** Flux's limit; each entry is a regex run against every tag. */
const MAX_EXCLUSIONS = 25;

export function validateImageRepositorySpec<C extends CompiledForms>(
  spec: unknown,
  compile: ImageCompilers<C>,
  paths: FieldPaths = SPEC_PATHS,
): Validated<ImageRepositoryConfig<C>> {
  const problems = new Problems(paths);
  if (!isObject(spec)) {
    problems.add('', `must be an object, not ${describe(spec)}`);
    return problems.result(() => undefined as never);
  }
  checkKnownFields(problems, '', spec, IMAGE_REPOSITORY_FIELDS);

  const image = readString(problems, spec, 'image', { required: true });
  if (image !== undefined) {
    const problem = imageProblem(image);
    if (problem) problems.add('image', problem, 'e.g. ghcr.io/org/app, registry.example.com:5000/team/app or nginx');
  }
  const intervalMs = readDuration(problems, spec, 'interval', DEFAULT_SCAN_INTERVAL);
  const scanLimit = { ms: MAX_SCAN_TIMEOUT_MS, hint: MAX_SCAN_TIMEOUT_HINT };
  const timeoutMs =
    readDuration(problems, spec, 'timeout', undefined, { max: scanLimit }) ??
    (intervalMs === undefined ? undefined : Math.min(intervalMs, MAX_SCAN_TIMEOUT_MS));
  const secretRef = readSecretRef(problems, spec, 'secretRef');
  const certSecretRef = readSecretRef(problems, spec, 'certSecretRef');
  const insecure = readBoolean(problems, spec, 'insecure');
  const suspend = readBoolean(problems, spec, 'suspend');
  const exclusionList = readExclusionList(problems, spec.exclusionList, compile);
  const accessFrom = readAccessFrom(problems, spec.accessFrom);

  return problems.result(() => ({
    image: image as string,
    intervalMs: intervalMs as number,
    timeoutMs: timeoutMs as number,
    secretRef,
    certSecretRef,
    insecure,
    suspend,
    exclusionList,
    accessFrom,
  }));
}

function readAccessFrom(problems: Problems, value: unknown): AccessFrom | undefined {
  if (value === undefined || value === null) return undefined;
  const hint = 'e.g. accessFrom: {namespaceSelectors: [{matchLabels: {team: a}}]}';
  if (!isObject(value)) {
    problems.add('accessFrom', `must be an object {namespaceSelectors}, not ${describe(value)}`, hint);
    return undefined;
  }
  checkKnownFields(problems, 'accessFrom.', value, ['namespaceSelectors']);
  const selectors = value.namespaceSelectors;
  if (!Array.isArray(selectors)) {
    problems.add('accessFrom.namespaceSelectors', `must be a list of {matchLabels}, not ${describe(selectors)}`, hint);
    return undefined;
  }
  if (selectors.length > MAX_NAMESPACE_SELECTORS) {
    problems.add('accessFrom.namespaceSelectors', `has ${selectors.length} entries; at most ${MAX_NAMESPACE_SELECTORS} are allowed`);
    return undefined;
  }
  const out: AccessFrom['namespaceSelectors'] = [];
  selectors.forEach((selector: unknown, i) => {
    const at = `accessFrom.namespaceSelectors[${i}]`;
    if (!isObject(selector)) {
      problems.add(at, `must be an object {matchLabels}, not ${describe(selector)}`, hint);
      return;
    }
    checkKnownFields(problems, `${at}.`, selector, ['matchLabels']);
    const labels = selector.matchLabels ?? {};
    if (!isObject(labels) || !Object.values(labels).every((v) => typeof v === 'string')) {
      problems.add(`${at}.matchLabels`, 'must map label names to string values', hint);
      return;
    }
    out.push({ matchLabels: { ...(labels as Record<string, string>) } });
  });
  return { namespaceSelectors: out };
}

function readExclusionList<C extends CompiledForms>(
  problems: Problems,
  value: unknown,
  compile: ImageCompilers<C>,
): C['exclusionList'] | undefined {
  if (value === undefined || value === null) return problems.attempt(() => compile.exclusionList(undefined));
  if (!Array.isArray(value)) {
    problems.add('exclusionList', `must be a list of patterns, not ${describe(value)}`);
    return undefined;
  }
  if (value.length > MAX_EXCLUSIONS) {
    problems.add('exclusionList', `has ${value.length} entries; at most ${MAX_EXCLUSIONS} are allowed`);
    return undefined;
  }
  const bad = value.findIndex((entry) => typeof entry !== 'string' || entry === '');
  if (bad >= 0) {
    problems.add(`exclusionList[${bad}]`, 'must be a non-empty pattern string');
    return undefined;
  }
  return problems.attempt(() => compile.exclusionList(value as string[]));
}
