/**
 * Fills Node's compile cache (NODE_COMPILE_CACHE) with every module the programs can load, so a
 * process started later takes each file's stripped JavaScript and V8 code from the cache and never
 * loads the TypeScript type stripper: ~25 MiB less resident per process, and a faster start. The
 * image runs it at build time as the user it runs as (Node names the cache directory after the
 * uid); the bench runs it so that it measures the process as shipped.
 *
 *   NODE_COMPILE_CACHE=DIR node bin/warm-compile-cache.ts
 */
import { enableCompileCache, flushCompileCache, getCompileCacheDir } from 'node:module';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
/** What the image copies (Dockerfile); bin/ (the entry points) is left out: importing one runs it. */
const DIRECTORIES = ['cli', 'shared', 'agent', 'image-updater'];

function modules(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'fixtures' && entry.name !== 'node_modules') out.push(...modules(path));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

if (!process.env.NODE_COMPILE_CACHE) enableCompileCache();
const files = DIRECTORIES.flatMap((d) => modules(join(root, d))).sort();
const notes: string[] = [];
for (const file of files) {
  try {
    await import(pathToFileURL(file).href);
  } catch (err) {
    // A worker's entry (shared/template/render-worker.ts) throws outside its worker; it
    // was stripped and compiled before it ran, and that is what the cache keeps.
    notes.push(`${relative(root, file)}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
flushCompileCache();
// The entry point itself, run the way the image runs it (it writes its own entry on exit).
// With this process's node flags: V8's flags are part of the cache's key.
const entry = spawnSync(process.execPath, [...process.execArgv, join(root, 'bin', 'tidemark.ts'), 'version'], {
  env: { ...process.env, NODE_COMPILE_CACHE: getCompileCacheDir()?.replace(/\/[^/]+$/, '') },
});
if (entry.status !== 0) notes.push(`bin/tidemark.ts version exited with ${entry.status}: ${entry.stderr.toString().slice(0, 300)}`);
process.stdout.write(`compile cache ${getCompileCacheDir() ?? '(disabled)'}: ${files.length} modules\n`);
for (const note of notes) process.stdout.write(`  threw when run outside its context: ${note}\n`);
// Some modules hold handles open; the cache is written.
process.exit(0);
