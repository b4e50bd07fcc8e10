import { DEFAULT_SCAN_INTERVAL } from '../../shared/api/image.ts';
import { ExclusionList } from '../policy/index.ts';
import { imageProblem } from './names.ts';
import { readBoolean, readDuration, readSecretRef, readString, describe } from './read.ts';
import { checkKnownFields, isObject, Problems, type FieldPaths, type Validated } from './result.ts';

/** An ImageRepository spec, checked and defaulted, with its exclusion list compiled. */
export interface ImageRepositoryConfig {
  image: string;
  intervalMs: number;
  /** Defaults to the interval, as in Flux. */
  timeoutMs: number;
  secretRef: string | undefined;
  certSecretRef: string | undefined;
  insecure: boolean;
  suspend: boolean;
  exclusionList: ExclusionList;
}

const FIELDS = ['image', 'interval', 'timeout', 'secretRef', 'certSecretRef', 'insecure', 'exclusionList', 'suspend'];
/** Flux's limit; each entry is a regex run against every tag. */
const MAX_EXCLUSIONS = 25;

export function validateImageRepositorySpec(spec: unknown, paths: FieldPaths = { prefix: 'spec.' }): Validated<ImageRepositoryConfig> {
  const problems = new Problems(paths);
  if (!isObject(spec)) {
    problems.add('', `must be an object, not ${describe(spec)}`);
    return problems.result(() => undefined as never);
  }
  checkKnownFields(problems, '', spec, FIELDS);

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
  const exclusionList = readExclusionList(problems, spec.exclusionList);

  return problems.result(() => ({
    image: image as string,
    intervalMs: intervalMs as number,
    timeoutMs: timeoutMs as number,
    secretRef,
    certSecretRef,
    insecure,
    suspend,
    exclusionList: exclusionList as ExclusionList,
  }));
}

function readExclusionList(problems: Problems, value: unknown): ExclusionList | undefined {
  if (value === undefined || value === null) return new ExclusionList(undefined);
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
  return problems.attempt(() => new ExclusionList(value as string[]));
}
