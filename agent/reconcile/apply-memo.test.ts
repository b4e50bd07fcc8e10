import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reconcile } from './index.ts';
import { configMap, world } from './test-kit.ts';

test('writeObjects: each written object is remembered as in sync once its own write returns, before the others end', async () => {
  const w = world();
  w.deps.concurrency = 1;
  w.git.commit([configMap('a', { x: '1' }), configMap('b', { x: '2' })]);
  const apply = w.kube.apply.bind(w.kube);
  const remembered: number[] = [];
  w.kube.apply = (...args: Parameters<typeof apply>) => {
    if (!args[2]?.dryRun) remembered.push(w.memo.size);
    return apply(...args);
  };
  const outcome = await reconcile(w.input(), w.deps);
  assert.equal(outcome.error, undefined);
  // The watch's echo of the first write may come while the second is sent: it must find the memo.
  assert.deepEqual(remembered, [0, 1]);
  assert.equal(w.memo.size, 2);
});
