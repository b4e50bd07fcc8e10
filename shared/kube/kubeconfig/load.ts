import { readFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import type { TokenFileOptions } from './auth.ts';
import { invalidKubeconfig } from './errors.ts';
import { inClusterConnection } from './in-cluster.ts';
import { mergeKubeconfigs } from './merge.ts';
import { parseKubeconfig } from './parse.ts';
import type { KubeconfigFile } from './parse.ts';
import { resolveConnection } from './resolve.ts';
import type { KubeConnection } from './types.ts';

export interface KubeconfigSource {
  /** `--kubeconfig`: exactly this file, which must exist. */
  path?: string | undefined;
  /** `--context`: instead of current-context. */
  context?: string | undefined;
  /** Where KUBECONFIG, HOME and KUBERNETES_SERVICE_HOST/PORT are looked up (the caller passes process.env). */
  env: Readonly<Record<string, string | undefined>>;
  /**
   * With neither --kubeconfig nor KUBECONFIG: `in-cluster` (the programs, like controller-runtime)
   * tries the pod's service account before ~/.kube/config; `home` (the CLI, like kubectl) the other way.
   */
  prefer: 'in-cluster' | 'home';
  /** The service account mount; default the kubelet's path. */
  serviceAccountDir?: string | undefined;
  tokenFile?: TokenFileOptions | undefined;
}

/**
 * The operator's own cluster, found like kubectl and client-go find it: --kubeconfig; else every
 * file in KUBECONFIG merged (the first to name a cluster, user or context, or to set
 * current-context, wins; missing files are skipped); else the service account or ~/.kube/config.
 */
export function loadKubeconfig(source: KubeconfigSource): KubeConnection {
  const tokenFile = source.tokenFile;
  const resolveFile = (file: KubeconfigFile, what: string) =>
    resolveConnection(file, { origin: 'operator', what, context: source.context, tokenFile });
  if (source.path) {
    const path = resolve(source.path);
    const text = readKubeconfig(path);
    if (text === undefined) throw invalidKubeconfig(`kubeconfig ${path} does not exist`);
    return resolveFile(parseKubeconfig(text, `kubeconfig ${path}`, dirname(path)), `kubeconfig ${path}`);
  }
  const list = [
    ...new Set(
      (source.env.KUBECONFIG ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((p) => resolve(p)),
    ),
  ];
  if (list.length > 0) {
    const found = list.flatMap((path) => {
      const text = readKubeconfig(path);
      return text === undefined ? [] : [{ path, file: parseKubeconfig(text, `kubeconfig ${path}`, dirname(path)) }];
    });
    if (found.length === 1) return resolveFile(found[0]!.file, `kubeconfig ${found[0]!.path}`);
    if (found.length > 1)
      return resolveFile(mergeKubeconfigs(found.map((f) => f.file)), `KUBECONFIG ${found.map((f) => f.path).join(delimiter)}`);
    // kubectl does not fall back to ~/.kube/config when KUBECONFIG is set; the service account may still apply.
    const inCluster = source.context ? undefined : inClusterConnection({ env: source.env, dir: source.serviceAccountDir, tokenFile });
    if (inCluster) return inCluster;
    throw invalidKubeconfig(`none of the files in KUBECONFIG exists: ${list.join(delimiter)}`);
  }
  const home = () => {
    if (!source.env.HOME) return undefined;
    const path = join(source.env.HOME, '.kube', 'config');
    const text = readKubeconfig(path);
    return text === undefined ? undefined : resolveFile(parseKubeconfig(text, `kubeconfig ${path}`, dirname(path)), `kubeconfig ${path}`);
  };
  // A context names an entry of a kubeconfig; the service account has none.
  const inCluster = () => (source.context ? undefined : inClusterConnection({ env: source.env, dir: source.serviceAccountDir, tokenFile }));
  const found = source.prefer === 'in-cluster' ? (inCluster() ?? home()) : (home() ?? inCluster());
  if (found) return found;
  throw invalidKubeconfig(
    'no kubeconfig found',
    'pass --kubeconfig, set KUBECONFIG, create ~/.kube/config, or run in a pod with a service account token',
  );
}

/** The file's text; undefined when it does not exist. */
function readKubeconfig(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw invalidKubeconfig(`cannot read kubeconfig ${path}: ${code ?? (err as Error).message}`, undefined, err);
  }
}
