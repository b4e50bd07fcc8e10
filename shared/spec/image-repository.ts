import { DEFAULT_SCAN_INTERVAL } from '../api/image.ts';
import type { CompiledForms, ImageCompilers, PlainForms } from './compile.ts';
import { imageProblem } from './names.ts';
import { checkKnownFields, isObject, Problems, SPEC_PATHS, type FieldPaths, type Validated } from './problems.ts';
import { readBoolean, readDuration, readSecretRef, readString, describe } from './read.ts';

/** An ImageRepository spec, checked and defaulted, with its exclusion list compiled. */
export interface ImageRepositoryConfig<C extends CompiledForms = PlainForms> {
  image: string;
  intervalMs: number;
  /** Defaults to the interval, as in Flux. */
  timeoutMs: number;
  secretRef: string | undefined;
  certSecretRef: string | undefined;
  insecure: boolean;
  suspend: boolean;
  exclusionList: C['exclusionList'];
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
];
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
  const timeoutMs = readDuration(problems, spec, 'timeout', undefined) ?? intervalMs;
  const secretRef = readSecretRef(problems, spec, 'secretRef');
  const certSecretRef = readSecretRef(problems, spec, 'certSecretRef');
  const insecure = readBoolean(problems, spec, 'insecure');
  const suspend = readBoolean(problems, spec, 'suspend');
  const exclusionList = readExclusionList(problems, spec.exclusionList, compile);

  return problems.result(() => ({
    image: image as string,
    intervalMs: intervalMs as number,
    timeoutMs: timeoutMs as number,
    secretRef,
    certSecretRef,
    insecure,
    suspend,
    exclusionList,
  }));
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
