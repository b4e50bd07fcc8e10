import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTidemarkError } from '../errors/index.ts';
import { revertCommit, revertMessage, revertOntoBranch } from './revert.ts';
import { cloneForUpdate, headOf } from './update.ts';

const committer = { name: 'Tidemark console', email: 'console@tidemark.invalid' };
const env = { ...process.env, GIT_AUTHOR_NAME: 'dev', GIT_AUTHOR_EMAIL: 'dev@x', GIT_COMMITTER_NAME: 'dev', GIT_COMMITTER_EMAIL: 'dev@x' };
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env, encoding: 'utf8' }).trim();

/** A repository with three commits to app.yaml: replicas 1, then 2, then (lines apart) an image tag. */
async function origin(): Promise<{ root: string; url: string; shas: string[] }> {
  const root = await mkdtemp(join(tmpdir(), 'tidemark-revert-'));
  const work = join(root, 'work');
  git(root, 'init', '--quiet', '--initial-branch=main', work);
  const shas: string[] = [];
  for (const [i, body] of [
    'replicas: 1\n# keep\n# keep\n# keep\n# keep\nimage: web:1\n',
    'replicas: 2\n# keep\n# keep\n# keep\n# keep\nimage: web:1\n',
    'replicas: 2\n# keep\n# keep\n# keep\n# keep\nimage: web:2\n',
  ].entries()) {
    await writeFile(join(work, 'app.yaml'), body);
    git(work, 'add', 'app.yaml');
    git(work, 'commit', '--quiet', '-m', `change ${i}`);
    shas.push(git(work, 'rev-parse', 'HEAD'));
  }
  return { root, url: `file://${work}`, shas };
}

test('the message is git revert’s own, with a trailer naming who asked', () => {
  const sha = 'a'.repeat(40);
  assert.equal(
    revertMessage('web: two replicas', sha, 'alice'),
    `Revert "web: two replicas"\n\nThis reverts commit ${sha}.\n\nReverted-by: alice\n`,
  );
  assert.throws(() => revertMessage('x', '--upload-pack=evil', 'alice'));
});

test('reverting an older commit onto the tip undoes only its change, committed by the console', async (t) => {
  const { root, url, shas } = await origin();
  t.after(() => rm(root, { recursive: true, force: true }));
  const dir = join(root, 'clone');
  const checkout = await cloneForUpdate(url, undefined, 'main', dir, { depth: 0 });
  const made = await revertCommit(dir, shas[1]!, revertMessage('change 1', shas[1]!, 'alice'), committer);
  assert.notEqual(made, checkout.head);
  assert.equal(await readFile(join(dir, 'app.yaml'), 'utf8'), 'replicas: 1\n# keep\n# keep\n# keep\n# keep\nimage: web:2\n');
  assert.equal(git(dir, 'log', '-1', '--format=%cn|%s|%(trailers:key=Reverted-by,valueonly)'), 'Tidemark console|Revert "change 1"|alice');
  assert.equal(git(dir, 'rev-parse', 'HEAD^'), shas[2]);
});

test('a revert that conflicts leaves HEAD and the tree as they were', async (t) => {
  const { root, url, shas } = await origin();
  t.after(() => rm(root, { recursive: true, force: true }));
  const dir = join(root, 'clone');
  await cloneForUpdate(url, undefined, 'main', dir, { depth: 0 });
  // change 0 wrote the replicas line that change 1 rewrote: undoing change 0 alone cannot apply.
  await assert.rejects(
    revertCommit(dir, shas[0]!, revertMessage('change 0', shas[0]!, 'alice'), committer),
    (err: unknown) => isTidemarkError(err) && err.code === 'GitRevertConflict',
  );
  assert.equal(await headOf(dir), shas[2]);
  assert.equal(git(dir, 'status', '--porcelain'), '');
});

/** The origin as a bare repository (a push to it updates its branch), and a second clone to race with. */
async function bareOrigin(): Promise<{ root: string; url: string; shas: string[]; other: string }> {
  const { root, shas } = await origin();
  const bare = join(root, 'origin.git');
  git(root, 'clone', '--quiet', '--bare', join(root, 'work'), bare);
  const other = join(root, 'other');
  git(root, 'clone', '--quiet', bare, other);
  return { root, url: `file://${bare}`, shas, other };
}

test('revertOntoBranch pushes the revert of an older commit from a shallow clone, as the committer', async (t) => {
  const { root, url, shas } = await bareOrigin();
  t.after(() => rm(root, { recursive: true, force: true }));
  const request = { url, credentials: undefined, branch: 'main', sha: shas[1]!, requestedBy: 'alice', committer };
  const outcome = await revertOntoBranch(request);
  assert.equal(outcome.base, shas[2]);
  assert.equal(outcome.attempts, 1);
  const bare = url.slice('file://'.length);
  assert.equal(git(bare, 'rev-parse', 'main'), outcome.commit);
  assert.equal(git(bare, 'show', 'main:app.yaml'), 'replicas: 1\n# keep\n# keep\n# keep\n# keep\nimage: web:2');
  assert.equal(
    git(bare, 'log', '-1', '--format=%cn|%s|%(trailers:key=Reverted-by,valueonly)', 'main'),
    'Tidemark console|Revert "change 1"|alice',
  );

  // The tip is that revert now: a second click is refused, nothing pushed.
  await assert.rejects(
    revertOntoBranch(request),
    (err: unknown) => isTidemarkError(err) && err.code === 'GitRevertConflict' && /already reverts/.test(err.message),
  );
  assert.equal(git(bare, 'rev-parse', 'main'), outcome.commit);
});

/**
 * Another writer that pushes to main from `other` each time we are about to push: `change(n)` is
 * the shell that makes its n-th commit, or undefined to let our n-th push through untouched.
 */
function racingWriter(
  other: string,
  change: (n: number) => string | undefined,
): { onCommand: (args: readonly string[]) => void; pushes: () => number } {
  let n = 0;
  const onCommand = (args: readonly string[]) => {
    if (args[0] !== 'push') return;
    const script = change(++n);
    if (script !== undefined) execFileSync('sh', ['-c', `${script} && git push --quiet origin main`], { cwd: other, env });
  };
  return { onCommand, pushes: () => n };
}

test('revertOntoBranch reverts again on the new tip when someone pushed first, and keeps their commit', async (t) => {
  const { root, url, shas, other } = await bareOrigin();
  t.after(() => rm(root, { recursive: true, force: true }));
  // Someone else's commit lands between our clone and our first push.
  const { onCommand } = racingWriter(other, (n) =>
    n === 1 ? 'echo note > NOTES && git add NOTES && git commit --quiet -m notes' : undefined,
  );
  const outcome = await revertOntoBranch({
    url,
    credentials: undefined,
    branch: 'main',
    sha: shas[1]!,
    requestedBy: 'alice',
    committer,
    onCommand,
  });
  const bare = url.slice('file://'.length);
  assert.equal(outcome.attempts, 2);
  assert.equal(git(bare, 'log', '--format=%s', '-3', 'main'), 'Revert "change 1"\nnotes\nchange 2');
  assert.equal(git(bare, 'show', 'main:NOTES'), 'note');
});

test('revertOntoBranch gives up after maxAttempts when the branch keeps moving (GitPushRejected)', async (t) => {
  const { root, url, shas, other } = await bareOrigin();
  t.after(() => rm(root, { recursive: true, force: true }));
  const { onCommand, pushes } = racingWriter(other, (n) => `echo ${n} > NOTES && git add NOTES && git commit --quiet -m n${n}`);
  await assert.rejects(
    revertOntoBranch({
      url,
      credentials: undefined,
      branch: 'main',
      sha: shas[1]!,
      requestedBy: 'alice',
      committer,
      onCommand,
      maxAttempts: 2,
    }),
    (err: unknown) => isTidemarkError(err) && err.code === 'GitPushRejected',
  );
  assert.equal(pushes(), 2);
});
