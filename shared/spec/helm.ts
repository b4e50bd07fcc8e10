import { parseRange } from '../semver/index.ts';
import { namespaceProblem, objectNameProblem } from './names.ts';
import { checkKnownFields, isObject, type Problems } from './problems.ts';
import { describe, readBoolean, readString } from './read.ts';

/**
 * `spec.helm`: how a chart at spec.path (a directory with Chart.yaml) is rendered by
 * `helm template`, with Argo CD's meaning of the same settings. Every value here reaches helm as a
 * file or as a checked `--flag=value`, never as a free argument, so each is checked for form here.
 */

export const HELM_FIELDS = [
  'releaseName',
  'namespace',
  'valuesFiles',
  'values',
  'includeCRDs',
  'kubeVersion',
  'apiVersions',
  'chart',
] as const;
export const HELM_CHART_FIELDS = ['repository', 'name', 'version', 'secretRef'] as const;
/** A chart's name as helm writes it in an index: no slashes, nothing that reads as a path. */
export const CHART_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]*$';
const CHART_NAME = new RegExp(CHART_NAME_PATTERN);

/** A chart from a Helm repository (index.yaml over HTTP(S)) or an OCI registry (oci://) instead of the Git path. */
export interface HelmChartSource {
  repository: string;
  name: string;
  /** A semver range (Flux's meaning, shared/semver); `*` when not given. */
  version: string;
  /** A Secret of this namespace with `username` and `password` for the repository. */
  secretRef: string | undefined;
}

/** Most values files, API versions, and bytes of inline values (the CRD says the same). */
export const MAX_VALUES_FILES = 32;
export const MAX_API_VERSIONS = 256;
export const MAX_INLINE_VALUES_BYTES = 256 * 1024;

/** Helm's own release-name rule: a DNS label of at most 53 characters (the rest is left for suffixes). */
export const RELEASE_NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const RELEASE_NAME = new RegExp(RELEASE_NAME_PATTERN);
export const MAX_RELEASE_NAME = 53;
/** `1.30`, `v1.30.2`, `1.30.2-gke.100`: what `helm template --kube-version` accepts, minus oddities. */
export const KUBE_VERSION_PATTERN = '^v?[0-9]+\\.[0-9]+(\\.[0-9]+)?(-[0-9A-Za-z.-]+)?(\\+[0-9A-Za-z.-]+)?$';
const KUBE_VERSION = new RegExp(KUBE_VERSION_PATTERN);
/** `v1`, `apps/v1`, `monitoring.coreos.com/v1/ServiceMonitor`: a group/version, optionally with a kind. */
export const API_VERSION_PATTERN = '^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?v[0-9]+((alpha|beta)[0-9]+)?(/[A-Z][A-Za-z0-9]*)?$';
const API_VERSION = new RegExp(API_VERSION_PATTERN);

export interface HelmSpec {
  /** Default: the ContinuousDeployment's name. */
  releaseName: string | undefined;
  /** `.Release.Namespace`; default spec.targetNamespace, else the deployment's namespace. */
  namespace: string | undefined;
  /** Paths relative to spec.path (inside the repository), in order; later files win. */
  valuesFiles: string[];
  /** Inline values; they win over every values file. */
  values: Record<string, unknown> | undefined;
  /** Render the chart's crds/ directory too (Argo CD does unless skipCrds). Default true. */
  includeCRDs: boolean;
  /** `.Capabilities.KubeVersion`; default helm's own. */
  kubeVersion: string | undefined;
  /** Extra `.Capabilities.APIVersions`. */
  apiVersions: string[];
  /** Take the chart from a Helm repository; spec.path then only anchors valuesFiles. */
  chart: HelmChartSource | undefined;
}

export function readHelm(problems: Problems, value: unknown, at = 'helm'): HelmSpec | undefined | null {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) {
    problems.add(at, `must be an object, not ${describe(value)}`);
    return null;
  }
  const before = problems.errors.length;
  checkKnownFields(problems, `${at}.`, value, HELM_FIELDS);

  const releaseName = readString(problems, value, 'releaseName', { at: `${at}.releaseName` });
  if (releaseName !== undefined && (releaseName.length > MAX_RELEASE_NAME || !RELEASE_NAME.test(releaseName))) {
    problems.add(
      `${at}.releaseName`,
      `${JSON.stringify(releaseName)} is not a valid release name`,
      `use lower-case letters, digits and "-", starting and ending with a letter or digit, at most ${MAX_RELEASE_NAME} characters`,
    );
  }
  const namespace = readString(problems, value, 'namespace', { at: `${at}.namespace` });
  const nsProblem = namespace === undefined ? undefined : namespaceProblem(namespace);
  if (nsProblem) problems.add(`${at}.namespace`, nsProblem);

  const valuesFiles = readStringList(problems, value.valuesFiles, `${at}.valuesFiles`, MAX_VALUES_FILES, (file, field) => {
    if (file === '' || /[\0\r\n]/.test(file)) return problems.add(field, 'must be a path, without NUL or line breaks');
    if (file.startsWith('/'))
      return problems.add(field, `${JSON.stringify(file)} is absolute`, 'give a path relative to spec.path, e.g. values-prod.yaml');
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file)) {
      problems.add(
        field,
        `${JSON.stringify(file)} is a URL; values files are read from the repository only`,
        'commit the file beside the chart',
      );
    }
  });

  let values: Record<string, unknown> | undefined;
  if (value.values !== undefined && value.values !== null) {
    if (!isObject(value.values)) problems.add(`${at}.values`, `must be an object of chart values, not ${describe(value.values)}`);
    else {
      const size = Buffer.byteLength(JSON.stringify(value.values));
      if (size > MAX_INLINE_VALUES_BYTES) {
        problems.add(
          `${at}.values`,
          `is ${size} bytes; at most ${MAX_INLINE_VALUES_BYTES} are allowed`,
          'move large values into a values file in Git',
        );
      } else values = value.values;
    }
  }

  const includeCRDs = readBoolean(problems, value, 'includeCRDs', true, `${at}.includeCRDs`);
  const kubeVersion = readString(problems, value, 'kubeVersion', { at: `${at}.kubeVersion` });
  if (kubeVersion !== undefined && !KUBE_VERSION.test(kubeVersion)) {
    problems.add(`${at}.kubeVersion`, `${JSON.stringify(kubeVersion)} is not a Kubernetes version`, 'write it as 1.30 or v1.30.2');
  }
  const apiVersions = readStringList(problems, value.apiVersions, `${at}.apiVersions`, MAX_API_VERSIONS, (v, field) => {
    if (!API_VERSION.test(v)) {
      problems.add(
        field,
        `${JSON.stringify(v)} is not an API version`,
        'write group/version or group/version/Kind, e.g. monitoring.coreos.com/v1/ServiceMonitor',
      );
    }
  });

  const chart = readChart(problems, value.chart, `${at}.chart`);

  if (problems.errors.length > before) return null;
  return { releaseName, namespace, valuesFiles, values, includeCRDs, kubeVersion, apiVersions, chart };
}

function readChart(problems: Problems, value: unknown, at: string): HelmChartSource | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) {
    problems.add(at, `must be an object {repository, name, version}, not ${describe(value)}`);
    return undefined;
  }
  checkKnownFields(problems, `${at}.`, value, HELM_CHART_FIELDS);
  const repository = readString(problems, value, 'repository', { required: true, at: `${at}.repository` });
  if (repository !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(repository);
    } catch {
      url = undefined;
    }
    const schemes = ['https:', 'http:', 'oci:'];
    if (!url || !schemes.includes(url.protocol) || url.username || url.password || url.search || url.hash) {
      problems.add(
        `${at}.repository`,
        `${JSON.stringify(repository)} is not an http(s) URL of a Helm repository, nor an oci:// registry path`,
        'give the URL index.yaml lives under (https://charts.example.com/stable) or oci://registry.example.com/charts, ' +
          'with credentials in secretRef',
      );
    }
  }
  const name = readString(problems, value, 'name', { required: true, at: `${at}.name` });
  if (name !== undefined && (name.length > 253 || !CHART_NAME.test(name))) {
    problems.add(`${at}.name`, `${JSON.stringify(name)} is not a chart name`);
  }
  const version = readString(problems, value, 'version', { at: `${at}.version` }) ?? '*';
  const range = problems.adopt(() => parseRange(version, problems.path(`${at}.version`)));
  const secretRef = readString(problems, value, 'secretRef', { at: `${at}.secretRef` });
  const secretProblem = secretRef === undefined ? undefined : objectNameProblem(secretRef);
  if (secretProblem) problems.add(`${at}.secretRef`, secretProblem);
  if (repository === undefined || name === undefined || range === undefined) return undefined;
  return { repository, name, version, secretRef: secretRef || undefined };
}

function readStringList(
  problems: Problems,
  value: unknown,
  at: string,
  max: number,
  check: (item: string, field: string) => void,
): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    problems.add(at, `must be a list of strings, not ${describe(value)}`);
    return [];
  }
  if (value.length > max) problems.add(at, `has ${value.length} entries; at most ${max} are allowed`);
  const out: string[] = [];
  value.forEach((item: unknown, i: number) => {
    const field = `${at}[${i}]`;
    if (typeof item !== 'string') return problems.add(field, `must be a string, not ${describe(item)}`);
    check(item, field);
    out.push(item);
  });
  return out;
}
