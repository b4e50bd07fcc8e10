import { lstat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { terminal } from '../../shared/errors/index.ts';
import type { RenderBudget } from './limits.ts';
import { readFileWithin } from './limits.ts';
import { isWithin, label } from './paths.ts';

/** .gitmodules is a short list of paths and URLs; anything larger is not one. */
export const MAX_GITMODULES_BYTES = 64 * 1024;

/**
 * Refuses a render whose directory holds a Git submodule (or lies in one), as `.gitmodules`
 * declares them. The agent never fetches submodules: their URLs are the repository author's to
 * choose (`ext::` would run a command), and a checkout leaves each one an empty directory. Rendered
 * as such, the submodule's objects would silently be missing, and pruned if they were applied
 * before. A gitlink that `.gitmodules` does not declare stays an empty directory, as git leaves it.
 */
export async function refuseSubmodules(root: string, dir: string, budget: RenderBudget): Promise<void> {
  const file = join(root, '.gitmodules');
  if (!(await lstat(file).catch(() => undefined))?.isFile()) return;
  const text = await readFileWithin(file, budget, '.gitmodules', MAX_GITMODULES_BYTES);
  for (const path of submodulePaths(text)) {
    const at = resolve(root, path);
    if (!isWithin(dir, at) && !isWithin(at, dir)) continue;
    throw terminal(
      'GitSubmoduleUnsupported',
      `${label(root, at)} is a Git submodule in ${label(root, dir)}; ` +
        'the agent does not fetch submodules, so its manifests would be missing',
      'commit the manifests to this repository, or point spec.path at a directory without submodules',
    );
  }
}

/** The `path` values of a .gitmodules file (git-config syntax; a quoted value loses its quotes). */
export function submodulePaths(text: string): string[] {
  const paths: string[] = [];
  for (const match of text.matchAll(/^[ \t]*path[ \t]*=[ \t]*(.*?)[ \t]*\r?$/gim)) {
    const value = (match[1] ?? '').replace(/^"(.*)"$/, '$1');
    if (value !== '') paths.push(value);
  }
  return paths;
}
