import type { KubeconfigFile } from './parse.ts';

/**
 * Merges the files of a KUBECONFIG list as kubectl does: the first file that names a cluster, a
 * user or a context wins for that name (later ones never override it), and so does the first file
 * that sets current-context. Paths were already resolved against each file's own directory.
 */
export function mergeKubeconfigs(files: readonly KubeconfigFile[]): KubeconfigFile {
  const merged: KubeconfigFile = { clusters: new Map(), users: new Map(), contexts: new Map(), currentContext: undefined };
  for (const file of files) {
    for (const [name, cluster] of file.clusters) if (!merged.clusters.has(name)) merged.clusters.set(name, cluster);
    for (const [name, user] of file.users) if (!merged.users.has(name)) merged.users.set(name, user);
    for (const [name, context] of file.contexts) if (!merged.contexts.has(name)) merged.contexts.set(name, context);
    merged.currentContext ??= file.currentContext;
  }
  return merged;
}
