import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * Libraries only some deployments need, each several MiB resident once loaded: they must load on
 * first use, never when the agent starts (bench item 7 counts every MiB of an idle agent).
 */
const LOADED_ON_FIRST_USE = [
  'openpgp',
  'age-encryption',
  '@bufbuild/cel',
  '@kubernetes/client-node',
  // Not used by the agent at all: its API and Git clients run on node:http (ADR 0014), and its
  // metrics are written by shared/metrics/exposition.ts (ADR 0015).
  'undici',
  '@opentelemetry/api',
];

const root = fileURLToPath(new URL('..', import.meta.url));

/** Reports every bare specifier the process resolves, by import or require, on stderr, one per line. */
const REGISTER = `
import { registerHooks } from 'node:module';
registerHooks({
  resolve(specifier, context, next) {
    if (!specifier.startsWith('.') && !specifier.startsWith('node:') && !specifier.startsWith('file:')) {
      process.stderr.write('resolved ' + specifier + '\\n');
    }
    return next(specifier, context);
  },
});`;

// Through the face, as `tidemark agent` does: what it exports for the CLI's other commands (plan,
// diff) is resident in the agent as well.
test('the agent starts without the libraries only some deployments need', () => {
  const result = spawnSync(
    process.execPath,
    ['--import', `data:text/javascript,${encodeURIComponent(REGISTER)}`, '--input-type=module', '-e', "await import('./agent/index.ts');"],
    { cwd: root, encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(result.status, 0, result.stderr);
  const resolved = new Set([...result.stderr.matchAll(/^resolved (.+)$/gm)].map((m) => (m[1] as string).trim()));
  // The hook must see the agent's own libraries, or the check below proves nothing.
  assert.ok(resolved.has('yaml'), `the resolve hook saw no library: ${[...resolved].join(', ')}`);
  const eager = LOADED_ON_FIRST_USE.filter((name) => [...resolved].some((s) => s === name || s.startsWith(`${name}/`)));
  assert.deepEqual(eager, []);
});

/**
 * Node's own modules a program must not load: an ES import of node:http builds its namespace,
 * whose lazy WebSocket/CloseEvent/MessageEvent exports load the bundled undici and node:http2
 * (~8 MiB resident). Programs take node:http from shared/http/node-http.ts.
 */
const UNUSED_BUILTINS = ['internal/deps/undici/undici', 'http2'];

test('no program loads the undici and http2 Node bundles', () => {
  const faces = ['./cli/main.ts', './agent/index.ts', './image-updater/index.ts', './notification/index.ts', './console/index.ts'];
  const script =
    faces.map((face) => `await import(${JSON.stringify(face)});`).join(' ') +
    ' console.log(JSON.stringify(process.moduleLoadList.map((m) => m.replace(/^NativeModule /, ""))));';
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  assert.equal(result.status, 0, result.stderr);
  const loaded = JSON.parse(result.stdout) as string[];
  // node:https is on every program's path: the list must show it, or the check below proves nothing.
  assert.ok(loaded.includes('https'), `no https in ${loaded.length} modules`);
  assert.deepEqual(
    UNUSED_BUILTINS.filter((name) => loaded.includes(name)),
    [],
  );
});
