import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, sep } from 'node:path';
import { terminal } from '../../shared/errors/index.ts';

export { resolveInside } from '../../shared/git/paths.ts';

export function isWithin(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** A checkout-relative label with `/` separators, as users see paths in Git. */
export function label(root: string, path: string): string {
  return relative(root, path).split(sep).join('/') || '.';
}

export function outside(what: string): Error {
  return terminal(
    'PathOutsideCheckout',
    `${what} leads outside the repository checkout`,
    'use paths inside the repository; symlinks must not point outside it',
  );
}

/** The real path of `path`, or undefined when it (or a link on the way) does not exist. */
export async function realpathOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await realpath(path);
  } catch {
    return undefined;
  }
}
