import { access } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { terminal } from '../../shared/errors/index.ts';
import { resolveInside } from '../../shared/git/paths.ts';
import { objectKey, refOf } from '../../shared/kube/object.ts';
import type { KustomizeOptions } from './kustomize.ts';
import { KUSTOMIZATION_FILES, renderKustomization } from './kustomize.ts';
import { renderPlainDirectory } from './plain.ts';
import type { RenderedObject } from './types.ts';

export type { RenderedObject } from './types.ts';
export { parseManifests } from './plain.ts';

/**
 * Renders `path` inside a checkout: with a kustomization at its top through kustomize, otherwise
 * every manifest below it. Either the whole list or an error — never a partial list. Duplicates
 * are refused here when both copies name their namespace; namespace defaulting may reveal more,
 * which the planner checks.
 */
export async function renderPath(checkoutDir: string, path: string, options: { kustomize?: KustomizeOptions } = {}): Promise<RenderedObject[]> {
  const dir = await resolveInside(checkoutDir, path);
  if (!(await exists(dir))) throw terminal('PathNotFound', `path ${JSON.stringify(path)} does not exist in the repository`, 'fix spec.path');
  const label = relative(checkoutDir, dir) || '.';
  const kustomization = await firstExisting(KUSTOMIZATION_FILES.map((f) => join(dir, f)));
  const rendered = kustomization ? await renderKustomization(dir, label, options.kustomize) : await renderPlainDirectory(checkoutDir, dir);
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
      throw terminal('DuplicateObject', `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name} is defined twice: ${first.source.file} and ${item.source.file}`, 'remove one of the copies from Git');
    }
    seen.set(key, item);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function firstExisting(paths: string[]): Promise<string | undefined> {
  for (const path of paths) if (await exists(path)) return path;
  return undefined;
}
