import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBotCommit } from './compare.ts';

test("the image updater's commits are marked: its first line, or its default author", () => {
  assert.equal(isBotCommit({ subject: 'Update image automatically.', authorEmail: 'dev@example.test' }), true);
  assert.equal(isBotCommit({ subject: 'bump web to 1.2.3', authorEmail: 'tidemark-bot@users.noreply.tidemark.dev' }), true);
  assert.equal(isBotCommit({ subject: 'Update image manually', authorEmail: 'dev@example.test' }), false);
  assert.equal(isBotCommit({ subject: 'Raise replicas', authorEmail: 'dev@example.test' }), false);
});
