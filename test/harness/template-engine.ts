/**
 * The template engine (commit and alert messages, shared/template) for tests:
 * scripts/build-template-wasm.sh builds it for the current Go sources (seconds when cached, as
 * after scripts/setup.sh) and prints its directory.
 * Tests that need it skip with the reason when it cannot be built, except on CI (CI=true), where
 * setup.sh has built it and a skip would hide a broken build.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export type TemplateEngine = { dir: string; skip: false } | { dir: undefined; skip: string };

let found: TemplateEngine | undefined;

/** Also points TIDEMARK_TEMPLATE_MODULE at it, so every render in this process uses it. */
export function templateEngine(): TemplateEngine {
  if (found) return found;
  const script = fileURLToPath(new URL('../../scripts/build-template-wasm.sh', import.meta.url));
  const run = spawnSync('bash', [script], { encoding: 'utf8' });
  const dir = run.stdout.trim().split('\n').pop();
  if (run.status === 0 && dir) {
    process.env.TIDEMARK_TEMPLATE_MODULE = dir;
    return (found = { dir, skip: false });
  }
  const reason = `the template engine could not be built (${script}): ${(run.stderr || String(run.error)).trim()}`;
  if (process.env.CI === 'true') throw new Error(reason);
  return (found = { dir: undefined, skip: reason });
}
