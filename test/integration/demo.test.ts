import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { nodeUnavailableReason } from '../harness/node.ts';

/** The README's main-job command runs to completion: seed 003 end to end on loopback. */
test('npm run demo: a new tag becomes a bot commit and the new image runs, Healthy', async (t) => {
  const script = new URL('../demo/main.ts', import.meta.url).pathname;
  const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [script], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KUBECONFIG: '' },
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
  assert.equal(code, 0, out);
  assert.match(out, /^image-gitops\s+\S+\s+Synced\s/m, out);
  assert.match(out, /^infra-gitops\s+\S+\s+Synced\s/m, out);
  assert.match(out, /tidemark-bot {2}Update image automatically\./);
  assert.match(out, /Image: 127\.0\.0\.1:\d+\/team\/my-app:master-[0-9a-f]+-\d+/);
  const pushed = /Pushing a newer tag: (\S+)/.exec(out)?.[1];
  assert.ok(pushed, out);
  assert.match(out, new RegExp(`jsonpath=\\{\\.\\.image\\}\\n  ${pushed.replaceAll('.', '\\.')}\\n`));
  assert.match(out, /▶ Done\./);
  const noNode = nodeUnavailableReason();
  if (noNode) {
    assert.match(out, /no node: /);
    return t.skip(`the demo ran without a node, so its Healthy end is untested: ${noNode}`);
  }
  assert.match(out, /^image-gitops\s+Healthy\s+Synced\s/m, out);
  assert.match(out, new RegExp(`^  my-app-\\S+  Running  tidemark-node-\\S+  ${pushed.replaceAll('.', '\\.')}$`, 'm'), out);
});
