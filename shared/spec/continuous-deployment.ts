import type { PropagationPolicy } from '../api/continuous-deployment.ts';
import { refNameProblem, validateRepositoryUrl } from '../git/validate.ts';
import { isValidDigest, isValidTag, parseImageReference } from '../registry/reference.ts';
import { parseRange } from '../semver/index.ts';
import { COMMIT_SHA_HINT, commitProblem, namespaceProblem, objectNameProblem } from './names.ts';
import { checkKnownFields, isObject, Problems, type Validated } from './problems.ts';
import { readHealthCheckExprs, readHealthChecks, type HealthCheckExpr, type HealthCheckRef } from './health-checks.ts';
import { readSyncWindows, type CompiledWindow } from './sync-windows.ts';
import { readDependsOn, type Dependency } from './depends-on.ts';
import { readIgnore, type IgnoreRule } from './ignore.ts';
import { readDecryption, readPostBuild, type Decryption, type PostBuild } from './post-build.ts';
import { MAX_TIMEOUT_HINT, MAX_TIMEOUT_MS } from './limits.ts';
import { describe, optionalObject, readBoolean, readDuration, readString } from './read.ts';
import { readHelm, type HelmSpec } from './helm.ts';

export type RefKind = 'branch' | 'tag' | 'semver' | 'commit';
/**
 * Where the manifests come from: a Git repository, an OCI artifact (`flux push artifact` or a plain
 * tar.gz layer), or a chart alone from a Helm repository or registry (Argo CD's Helm source).
 */
export const REPO_TYPES = ['git', 'oci', 'helm'] as const;
export type RepoType = (typeof REPO_TYPES)[number];
/** What to follow in an OCI repository: a tag, the highest tag in a semver range, or a fixed digest. */
export interface OciRef {
  kind: 'tag' | 'semver' | 'digest';
  value: string;
}

/** A ContinuousDeployment spec with defaults applied and every value checked. */
export interface DeploymentConfig {
  repoType: RepoType;
  /** `oci://host/repo` for repoType oci, the chart repository for repoType helm, the Git URL otherwise. */
  url: string;
  secretRef: string | undefined;
  /** Send the Secret's username/password or token over plain http:// too (https:// and loopback need no opt-in). */
  insecure: boolean;
  intervalMs: number;
  timeoutMs: number;
  ref: { kind: RefKind; value: string };
  /** repoType oci only: spec.ref (tag `latest` when none is set). */
  ociRef: OciRef | undefined;
  path: string;
  prune: boolean;
  suspend: boolean;
  force: boolean;
  targetNamespace: string | undefined;
  /** The ServiceAccount (in the deployment's namespace) every home-cluster request acts as. */
  serviceAccountName: string | undefined;
  kubeConfig: { name: string; key: string } | undefined;
  policy: {
    manual: boolean;
    selfHeal: boolean;
    skipSchemaValidation: boolean;
    createNamespace: boolean;
    pruneLast: boolean;
    applyOutOfSyncOnly: boolean;
    replace: boolean;
    allowEmpty: boolean;
    propagation: PropagationPolicy;
    /** Parsed and checked: a bad schedule, time zone or duration is a problem of the spec (InvalidSyncWindow). */
    windows: CompiledWindow[];
  };
  /** CEL health checks per group and kind, compiled (Flux's healthCheckExprs). */
  healthCheckExprs: HealthCheckExpr[];
  /** Objects outside the rendered set whose health the deployment also waits for and reports. */
  healthChecks: HealthCheckRef[];
  /** What must be ready before anything is applied. */
  dependsOn: Dependency[];
  /** Fields neither compared nor sent on apply. */
  ignore: IgnoreRule[];
  /** Variables substituted into every rendered object (Flux's postBuild). */
  postBuild: PostBuild | undefined;
  /** SOPS files decrypted with the keys of a Secret. */
  decryption: Decryption | undefined;
  /** How the chart at spec.path is rendered (a path with Chart.yaml is a chart, with or without this). */
  helm: HelmSpec | undefined;
}

/** The fields of `spec`, as the CRD declares them (the CRD test holds the two together). */
export const CONTINUOUS_DEPLOYMENT_FIELDS = [
  'repoType',
  'url',
  'secretRef',
  'insecure',
  'pullInterval',
  'timeout',
  'git',
  'path',
  'prune',
  'suspend',
  'force',
  'targetNamespace',
  'serviceAccountName',
  'kubeConfig',
  'syncPolicy',
  'imageRepository',
  'healthCheckExprs',
  'healthChecks',
  'dependsOn',
  'ignore',
  'postBuild',
  'decryption',
  'ref',
  'helm',
] as const;
export const OCI_REF_FIELDS = ['tag', 'semver', 'digest'] as const;
const GIT_FIELDS = ['branch', 'tag', 'semver', 'commit'] as const;
const SYNC_POLICY_FIELDS = [
  'manual',
  'selfHeal',
  'skipSchemaValidation',
  'createNamespace',
  'pruneLast',
  'applyOutOfSyncOnly',
  'replace',
  'allowEmpty',
  'prunePropagationPolicy',
  'windows',
] as const;

/** The defaults the CRD writes; an object created without our schema gets the same from here. */
export const DEPLOYMENT_DEFAULTS = {
  repoType: 'git',
  pullInterval: '5m',
  branch: 'main',
  ociTag: 'latest',
  path: './',
  prune: true,
  suspend: false,
  force: false,
  kubeConfigKey: 'value',
  selfHeal: true,
  prunePropagationPolicy: 'background',
} as const;
export const PROPAGATION_POLICIES: readonly PropagationPolicy[] = ['foreground', 'background', 'orphan'];
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;
const POLL_HINT = 'Git is polled on this interval; use at least 1s (typically minutes)';

/**
 * Reads a ContinuousDeployment spec and reports every problem at once. The CRD schema already
 * defaults and checks most fields; this repeats every check, and adds those a schema cannot
 * express (URL forms git could misread, ref names, semver ranges), because the API server may not
 * have applied our schema (an older CRD, or objects created before it was installed). The inline
 * `imageRepository` block is the image updater's to read; here it only has to be an object.
 */
export function validateContinuousDeploymentSpec(spec: unknown): Validated<DeploymentConfig> {
  const problems = new Problems();
  if (!isObject(spec)) {
    problems.add('', spec === undefined || spec === null ? 'is required' : `must be an object, not ${describe(spec)}`);
    return problems.result(() => undefined as never);
  }
  checkKnownFields(problems, '', spec, CONTINUOUS_DEPLOYMENT_FIELDS);

  const repoType = readString(problems, spec, 'repoType') ?? DEPLOYMENT_DEFAULTS.repoType;
  if (!(REPO_TYPES as readonly string[]).includes(repoType)) {
    problems.add('repoType', `${JSON.stringify(repoType)} is not supported`, 'set repoType: git, oci or helm');
  }
  const oci = repoType === 'oci';
  const chartOnly = repoType === 'helm';
  const url = oci ? readOciUrl(problems, spec) : chartOnly ? readChartRepositoryUrl(problems, spec) : readUrl(problems, spec);
  // Read for a Git source too, so its typos are reported with the rest.
  const ociRef = oci || (spec.ref !== undefined && spec.ref !== null) ? readOciRef(problems, spec) : undefined;
  if (oci && spec.git !== undefined && spec.git !== null) {
    problems.add('git', 'applies to repoType git only', 'an OCI source follows spec.ref: {tag | semver | digest}');
  }
  if (chartOnly && spec.git !== undefined && spec.git !== null) {
    problems.add('git', 'applies to repoType git only', 'a chart repository is followed by spec.helm.chart.version (a semver range)');
  }
  if (!oci && spec.ref !== undefined && spec.ref !== null) {
    problems.add('ref', 'applies to repoType oci only', 'a Git source follows spec.git: {branch | tag | semver | commit}');
  }
  const secretRef = readName(problems, spec, 'secretRef', objectNameProblem);
  const insecure = readBoolean(problems, spec, 'insecure', false);
  const intervalMs = readDuration(problems, spec, 'pullInterval', DEPLOYMENT_DEFAULTS.pullInterval, { hint: POLL_HINT });
  const timeoutMs = readDuration(problems, spec, 'timeout', undefined, {
    hint: "a reconcile's waits need at least 1s",
    max: { ms: MAX_TIMEOUT_MS, hint: MAX_TIMEOUT_HINT },
  });
  const ref = readRef(problems, spec);
  const path = readPath(problems, spec);
  const prune = readBoolean(problems, spec, 'prune', DEPLOYMENT_DEFAULTS.prune);
  const suspend = readBoolean(problems, spec, 'suspend', DEPLOYMENT_DEFAULTS.suspend);
  const force = readBoolean(problems, spec, 'force', DEPLOYMENT_DEFAULTS.force);
  const targetNamespace = readName(problems, spec, 'targetNamespace', namespaceProblem);
  const serviceAccountName = readName(problems, spec, 'serviceAccountName', objectNameProblem);
  const kubeConfig = readKubeConfig(problems, spec);
  const policy = readSyncPolicy(problems, spec);
  // A bad expression is a problem of the spec like any other (InvalidCELExpression), found here
  // once, never an evaluation that fails on every reconcile.
  const healthCheckExprs = readHealthCheckExprs(problems, spec.healthCheckExprs);
  const healthChecks = readHealthChecks(problems, spec.healthChecks);
  const dependsOn = readDependsOn(problems, spec.dependsOn);
  const ignore = readIgnore(problems, spec.ignore);
  const postBuild = readPostBuild(problems, spec.postBuild);
  const decryption = readDecryption(problems, spec.decryption);
  const helm = chartOnly ? readChartOnlyHelm(problems, spec, url) : readHelm(problems, spec.helm);
  if (spec.imageRepository !== undefined && spec.imageRepository !== null && !isObject(spec.imageRepository)) {
    problems.add('imageRepository', `must be an object, not ${describe(spec.imageRepository)}`);
  }

  return problems.result(() => {
    const interval = intervalMs as number;
    return {
      repoType: repoType as RepoType,
      url: url as string,
      secretRef,
      insecure,
      intervalMs: interval,
      timeoutMs: timeoutMs ?? Math.min(Math.max(interval, 30_000), 5 * 60_000),
      ref: ref as DeploymentConfig['ref'],
      ociRef: oci ? ociRef : undefined,
      path: path as string,
      prune,
      suspend,
      force,
      targetNamespace,
      serviceAccountName,
      kubeConfig,
      policy: policy as DeploymentConfig['policy'],
      healthCheckExprs: healthCheckExprs as HealthCheckExpr[],
      healthChecks: healthChecks as HealthCheckRef[],
      dependsOn: dependsOn as Dependency[],
      ignore: ignore as IgnoreRule[],
      postBuild: postBuild ?? undefined,
      decryption: decryption ?? undefined,
      helm: helm ?? undefined,
    };
  });
}

/**
 * repoType helm (Argo CD's Helm-repository source): spec.url is the repository, spec.helm.chart
 * names the chart and its version range; there is no Git checkout, so nothing may point into one
 * (valuesFiles, spec.path) and the chart's credentials are spec.secretRef, as for any source.
 */
function readChartOnlyHelm(problems: Problems, spec: Record<string, unknown>, url: string | undefined): HelmSpec | undefined {
  const hint = 'repoType helm needs spec.helm.chart: {name, version}';
  if (!isObject(spec.helm)) {
    problems.add(
      'helm',
      spec.helm === undefined || spec.helm === null ? 'is required' : `must be an object, not ${describe(spec.helm)}`,
      hint,
    );
    return undefined;
  }
  const chart = spec.helm.chart;
  if (!isObject(chart)) {
    problems.add('helm.chart', chart === undefined || chart === null ? 'is required' : `must be an object, not ${describe(chart)}`, hint);
    return undefined;
  }
  if (chart.repository !== undefined && chart.repository !== null) {
    problems.add('helm.chart.repository', 'applies to repoType git only', 'for repoType helm, spec.url names the chart repository');
  }
  if (chart.secretRef !== undefined && chart.secretRef !== null) {
    problems.add(
      'helm.chart.secretRef',
      'applies to repoType git only',
      "for repoType helm, spec.secretRef holds the repository's username and password",
    );
  }
  if (Array.isArray(spec.helm.valuesFiles) && spec.helm.valuesFiles.length > 0) {
    problems.add('helm.valuesFiles', 'needs a Git repository to read the files from', 'give the values inline in spec.helm.values');
  }
  if (typeof spec.path === 'string' && spec.path !== '' && spec.path !== DEPLOYMENT_DEFAULTS.path && spec.path !== '.') {
    problems.add('path', 'applies to a Git repository or OCI artifact only', 'remove spec.path: the chart is rendered from its own root');
  }
  // A URL already reported under spec.url is not reported again under spec.helm.chart.
  const named: Record<string, unknown> = { ...chart, repository: url ?? 'https://unset.invalid' };
  delete named.secretRef;
  return readHelm(problems, { ...spec.helm, chart: named }) ?? undefined;
}

/** An https (or http) Helm repository, or an oci:// registry path holding charts. */
function readChartRepositoryUrl(problems: Problems, spec: Record<string, unknown>): string | undefined {
  const hint = 'set spec.url to the Helm repository (https://charts.example.com) or registry path (oci://registry.example.com/charts)';
  if (spec.url === undefined || spec.url === null) {
    problems.add('url', 'is required', hint);
    return undefined;
  }
  const url = readString(problems, spec, 'url');
  if (url === undefined) return undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (
    !parsed ||
    !['https:', 'http:', 'oci:'].includes(parsed.protocol) ||
    parsed.username ||
    parsed.password ||
    parsed.search ||
    parsed.hash
  ) {
    problems.add(
      'url',
      `${JSON.stringify(url)} is not an http(s) URL of a Helm repository, nor an oci:// registry path`,
      `${hint}, credentials in spec.secretRef`,
    );
    return undefined;
  }
  return url;
}

function readUrl(problems: Problems, spec: Record<string, unknown>): string | undefined {
  const hint = 'set spec.url to the Git repository, e.g. https://git.example.com/org/config.git';
  if (spec.url === undefined || spec.url === null) {
    problems.add('url', 'is required', hint);
    return undefined;
  }
  const url = readString(problems, spec, 'url');
  if (url === undefined) return undefined;
  if (url.trim() === '') {
    problems.add('url', 'must not be empty', hint);
    return undefined;
  }
  if (url.startsWith('-')) {
    problems.add('url', 'must not start with "-"', hint);
    return undefined;
  }
  return problems.check('url', () => validateRepositoryUrl(url).url, 'InvalidSpec');
}

/** `oci://<registry>/<repository>`, without a tag or digest (those go in spec.ref). */
function readOciUrl(problems: Problems, spec: Record<string, unknown>): string | undefined {
  const hint = 'set spec.url to the artifact repository, e.g. oci://ghcr.io/org/manifests';
  if (spec.url === undefined || spec.url === null) {
    problems.add('url', 'is required', hint);
    return undefined;
  }
  const url = readString(problems, spec, 'url');
  if (url === undefined) return undefined;
  if (!url.startsWith('oci://')) {
    problems.add('url', `${JSON.stringify(url)} does not start with oci://`, hint);
    return undefined;
  }
  const image = problems.check('url', () => parseImageReference(url.slice('oci://'.length)), 'InvalidSpec');
  if (image === undefined) return undefined;
  if (image.tag !== undefined || image.digest !== undefined) {
    problems.add('url', 'must not carry a tag or digest', 'name the tag, semver range or digest in spec.ref');
    return undefined;
  }
  return url;
}

/** One of tag, semver or digest; tag `latest` when none is set (Flux's default). */
function readOciRef(problems: Problems, spec: Record<string, unknown>): OciRef | undefined {
  const ref = optionalObject(problems, spec, 'ref');
  if (!ref) return { kind: 'tag', value: DEPLOYMENT_DEFAULTS.ociTag };
  checkKnownFields(problems, 'ref.', ref, OCI_REF_FIELDS);
  const set: OciRef[] = [];
  let ok = true;
  for (const kind of OCI_REF_FIELDS) {
    const value = readString(problems, ref, kind, { at: `ref.${kind}` });
    if (value === undefined) continue;
    set.push({ kind, value });
    const at = `ref.${kind}`;
    if (kind === 'tag' && !isValidTag(value)) {
      problems.add(
        at,
        `${JSON.stringify(value)} is not a valid tag`,
        'letters, digits, "_", "." and "-", at most 128, not starting with "." or "-"',
      );
      ok = false;
    } else if (kind === 'digest' && !isValidDigest(value)) {
      problems.add(at, `${JSON.stringify(value)} is not a digest`, 'give sha256: followed by 64 lower-case hex digits');
      ok = false;
    } else if (kind === 'semver' && problems.adopt(() => parseRange(value, problems.path(at))) === undefined) {
      ok = false;
    }
  }
  if (set.length > 1) {
    problems.add('ref', `sets ${set.map((r) => r.kind).join(' and ')}; set only one`, 'follow one tag, semver range or digest');
    return undefined;
  }
  if (!ok) return undefined;
  return set[0] ?? { kind: 'tag', value: DEPLOYMENT_DEFAULTS.ociTag };
}

/** An optional name; an empty string counts as unset, as it always has. */
function readName(
  problems: Problems,
  spec: Record<string, unknown>,
  key: string,
  problemOf: (name: string) => string | undefined,
): string | undefined {
  const name = readString(problems, spec, key);
  if (name === undefined || name === '') return undefined;
  const problem = problemOf(name);
  if (problem) {
    problems.add(key, problem);
    return undefined;
  }
  return name;
}

/** One of branch, tag, semver or commit; branch `main` when none is set. */
function readRef(problems: Problems, spec: Record<string, unknown>): DeploymentConfig['ref'] | undefined {
  const git = optionalObject(problems, spec, 'git');
  if (!git) return { kind: 'branch', value: DEPLOYMENT_DEFAULTS.branch };
  checkKnownFields(problems, 'git.', git, GIT_FIELDS);
  const set: RefKind[] = [];
  let chosen: DeploymentConfig['ref'] | undefined;
  let ok = true;
  for (const kind of GIT_FIELDS) {
    const value = readString(problems, git, kind, { at: `git.${kind}` });
    if (value === undefined) continue;
    set.push(kind);
    const checked = checkRef(problems, kind, value);
    if (checked === undefined) ok = false;
    else chosen = { kind, value: checked };
  }
  if (set.length > 1) {
    problems.add('git', `sets ${set.join(' and ')}; set only one`, 'follow one branch, tag, semver range or commit');
    return undefined;
  }
  if (!ok) return undefined;
  return chosen ?? { kind: 'branch', value: DEPLOYMENT_DEFAULTS.branch };
}

function checkRef(problems: Problems, kind: RefKind, value: string): string | undefined {
  const at = `git.${kind}`;
  if (value === '') {
    problems.add(at, 'must not be empty');
    return undefined;
  }
  if (value.startsWith('-')) {
    problems.add(at, 'must not start with "-"');
    return undefined;
  }
  switch (kind) {
    case 'branch':
    case 'tag': {
      const problem = refNameProblem(value);
      if (!problem) return value;
      problems.add(at, `${JSON.stringify(value)} is not a valid ${kind} name: ${problem}`);
      return undefined;
    }
    case 'semver':
      // The range is read by the same module, with the same meaning, as when tags are resolved.
      return problems.adopt(() => parseRange(value, problems.path(at))) === undefined ? undefined : value;
    case 'commit': {
      const problem = commitProblem(value);
      if (!problem) return value.toLowerCase();
      problems.add(at, problem, COMMIT_SHA_HINT);
      return undefined;
    }
  }
}

/** A directory inside the repository; `/` and `./` are its root. */
function readPath(problems: Problems, spec: Record<string, unknown>): string | undefined {
  const path = readString(problems, spec, 'path');
  if (path === undefined || path === '') return DEPLOYMENT_DEFAULTS.path;
  if (/[\0\r\n]/.test(path)) {
    problems.add('path', 'must not contain NUL or line breaks');
    return undefined;
  }
  // The checkout resolves it the same way (a leading "/" is the root) and also refuses symlinks out.
  const segments: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..') segments.push(part);
    else if (segments.pop() === undefined) {
      problems.add('path', `${JSON.stringify(path)} leads outside the repository`, 'give a directory inside the repository, e.g. ./deploy');
      return undefined;
    }
  }
  return path;
}

function readKubeConfig(problems: Problems, spec: Record<string, unknown>): DeploymentConfig['kubeConfig'] {
  const kubeConfig = optionalObject(problems, spec, 'kubeConfig');
  if (!kubeConfig) return undefined;
  checkKnownFields(problems, 'kubeConfig.', kubeConfig, ['secretRef']);
  const hint = 'name the Secret that holds the kubeconfig: kubeConfig: {secretRef: {name: <secret>, key: value}}';
  const ref = optionalObject(problems, kubeConfig, 'secretRef', 'kubeConfig.secretRef');
  if (!ref) {
    // Without it the agent would deploy to its own cluster instead of the one meant.
    if (kubeConfig.secretRef === undefined || kubeConfig.secretRef === null) problems.add('kubeConfig.secretRef', 'is required', hint);
    return undefined;
  }
  checkKnownFields(problems, 'kubeConfig.secretRef.', ref, ['name', 'key']);
  const name = readString(problems, ref, 'name', { required: true, at: 'kubeConfig.secretRef.name' });
  const nameProblem = name === undefined ? undefined : objectNameProblem(name);
  if (nameProblem) problems.add('kubeConfig.secretRef.name', nameProblem, hint);
  const key = readString(problems, ref, 'key', { at: 'kubeConfig.secretRef.key' }) ?? DEPLOYMENT_DEFAULTS.kubeConfigKey;
  const keyOk = key !== '' && key.length <= 253 && SECRET_KEY.test(key);
  if (!keyOk)
    problems.add('kubeConfig.secretRef.key', `${JSON.stringify(key)} is not a valid Secret key (letters, digits, '-', '_' and '.')`);
  return name === undefined || nameProblem || !keyOk ? undefined : { name, key };
}

function readSyncPolicy(problems: Problems, spec: Record<string, unknown>): DeploymentConfig['policy'] | undefined {
  const sync = optionalObject(problems, spec, 'syncPolicy') ?? {};
  checkKnownFields(problems, 'syncPolicy.', sync, SYNC_POLICY_FIELDS);
  const flag = (key: (typeof SYNC_POLICY_FIELDS)[number], fallback = false) =>
    readBoolean(problems, sync, key, fallback, `syncPolicy.${key}`);
  const propagation =
    readString(problems, sync, 'prunePropagationPolicy', { at: 'syncPolicy.prunePropagationPolicy' }) ??
    DEPLOYMENT_DEFAULTS.prunePropagationPolicy;
  const propagationOk = (PROPAGATION_POLICIES as readonly string[]).includes(propagation);
  if (!propagationOk) {
    problems.add('syncPolicy.prunePropagationPolicy', `${JSON.stringify(propagation)} is not one of ${PROPAGATION_POLICIES.join(', ')}`);
  }
  const policy = {
    manual: flag('manual'),
    selfHeal: flag('selfHeal', DEPLOYMENT_DEFAULTS.selfHeal),
    skipSchemaValidation: flag('skipSchemaValidation'),
    createNamespace: flag('createNamespace'),
    pruneLast: flag('pruneLast'),
    applyOutOfSyncOnly: flag('applyOutOfSyncOnly'),
    replace: flag('replace'),
    allowEmpty: flag('allowEmpty'),
    propagation: propagation as PropagationPolicy,
    windows: readSyncWindows(problems, sync.windows, 'syncPolicy.windows'),
  };
  return propagationOk && policy.windows !== undefined ? { ...policy, windows: policy.windows } : undefined;
}
