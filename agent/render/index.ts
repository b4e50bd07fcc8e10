import { realpath, stat } from 'node:fs/promises';
import { terminal } from '../../shared/errors/index.ts';
import { objectKey, refOf } from '../../shared/kube/object.ts';
import type { KustomizeOptions } from './kustomize.ts';
import { renderKustomization } from './kustomize.ts';
import { findKustomizationFile } from './kustomization-refs.ts';
import { describeSource } from './manifests.ts';
import { resolveInside } from './paths.ts';
import { renderPlainDirectory } from './plain.ts';
import type { RenderedObject } from './types.ts';

export type { KustomizeOptions } from './kustomize.ts';
export { KUSTOMIZATION_FILES } from './kustomization-refs.ts';
export { parseManifests } from './manifests.ts';
export type { ObjectSource, RenderedObject } from './types.ts';
export { parseYaml } from './yaml.ts';

export interface RenderOptions {
  kustomize?: KustomizeOptions;
}

/**
 * The desired objects at `path` (default the checkout root) of a checkout: through kustomize when
 * that directory holds a kustomization (only there, as in Flux and Argo CD), otherwise every
 * manifest below it, read natively. Either the whole list or a terminal error — never a partial
 * list. An empty list is not an error: whether rendering nothing is acceptable is the
 * reconciler's call.
 *
 * Objects come back as written: no namespace defaulting (that needs discovery, so the planner
 * does it). Duplicates are refused here when both copies carry the same namespace (or none);
 * defaulting may reveal more, which the planner checks.
 */
export async function renderPath(checkoutDir: string, path = './', options: RenderOptions = {}): Promise<RenderedObject[]> {
  const root = await realpath(checkoutDir);
  const dir = await resolveInside(root, path || './');
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(dir)).isDirectory();
  } catch {
    throw terminal('PathNotFound', `path ${JSON.stringify(path)} does not exist in the repository`, 'fix spec.path');
  }
  if (!isDirectory)
    throw terminal(
      'PathNotFound',
      `path ${JSON.stringify(path)} is not a directory`,
      'spec.path names a directory of manifests or a kustomization',
    );
  const rendered = (await findKustomizationFile(dir))
    ? await renderKustomization(root, dir, options.kustomize)
    : await renderPlainDirectory(root, dir);
  refuseDuplicates(rendered);
  return rendered;
}

function refuseDuplicates(rendered: RenderedObject[]): void {
  const seen = new Map<string, RenderedObject>();
  for (const item of rendered) {
    const key = objectKey(refOf(item.object));
    const first = seen.get(key);
    if (first) {
      const o = item.object;
      const name = `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
      throw terminal(
        'DuplicateObject',
        `${name} is defined twice: ${describeSource(first.source)} and ${describeSource(item.source)}`,
        'remove one of the copies from Git',
      );
    }
    seen.set(key, item);
  }
}
