import { lstat, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { GitErrorCode, gitError } from './errors.ts';

/**
 * Resolves a path from a spec inside a checkout. A leading '/' means the checkout's root (as in
 * Flux). Refused with PathOutsideCheckout (terminal): `..` that climbs out, and symlinks anywhere
 * on the way whose target lies outside. A path that does not exist yet is checked through its
 * nearest existing parent. Returns the real (symlink-free) absolute path.
 */
export async function resolveInside(root: string, relPath: string): Promise<string> {
  if (typeof relPath !== 'string' || relPath.includes('\0')) throw outside(String(relPath));
  const realRoot = await realpath(root);
  const lexical = resolve(realRoot, `.${sep}${relPath}`);
  if (!isWithin(realRoot, lexical)) throw outside(relPath);

  let existing = lexical;
  const missing: string[] = [];
  for (;;) {
    try {
      await lstat(existing);
      break;
    } catch {
      if (existing === realRoot) break;
      missing.unshift(relative(dirname(existing), existing));
      existing = dirname(existing);
    }
  }
  let real: string;
  try {
    real = await realpath(existing);
  } catch {
    // A dangling symlink: its target is unknowable, so it is not trusted.
    throw outside(relPath);
  }
  if (!isWithin(realRoot, real)) throw outside(relPath);
  return missing.length ? join(real, ...missing) : real;
}

function isWithin(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

function outside(path: string) {
  return gitError(
    GitErrorCode.PathOutsideCheckout,
    `path ${JSON.stringify(path)} leads outside the repository checkout`,
    'use a path inside the repository; symlinks must not point outside it',
  );
}
