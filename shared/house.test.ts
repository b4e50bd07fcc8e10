import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, globSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const SPECIFIER = /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*'([^']+)'|import\(\s*'([^']+)'\s*\)/g;

/** The top-level folder every relative import of a file in `folder` lands in. */
function importedFolders(folder: string): [string, string][] {
  const found: [string, string][] = [];
  for (const file of globSync(`${folder}/**/*.ts`, { cwd: root })) {
    const text = readFileSync(resolve(root, file), 'utf8');
    for (const match of text.matchAll(SPECIFIER)) {
      const specifier = match[1] ?? match[2];
      if (!specifier?.startsWith('.')) continue;
      const target = relative(root, resolve(root, dirname(file), specifier));
      found.push([file, target.split('/')[0] ?? '']);
    }
  }
  return found;
}

/**
 * CONTRIBUTING: shared/ is the common ground; the agent, the image updater, notification and the
 * console import only shared/, never each other.
 */
for (const [folder, forbidden] of [
  ['shared', ['agent', 'image-updater', 'notification', 'cli', 'console']],
  ['agent', ['image-updater', 'notification', 'cli', 'console']],
  ['image-updater', ['agent', 'notification', 'cli', 'console']],
  ['notification', ['agent', 'image-updater', 'cli', 'console']],
  ['console', ['agent', 'image-updater', 'notification', 'cli']],
] as const) {
  test(`${folder}/ imports none of ${forbidden.join(', ')}`, () => {
    const imports = importedFolders(folder);
    assert.ok(imports.length > 0, `no imports found under ${folder}/`);
    const wrong = imports.filter(([, target]) => (forbidden as readonly string[]).includes(target)).map(([f, t]) => `${f} → ${t}/`);
    assert.deepEqual(wrong, []);
  });
}
