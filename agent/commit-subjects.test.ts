import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateContinuousDeploymentSpec, type DeploymentConfig } from '../shared/spec/index.ts';
import { rememberCommitSubjects } from './commit-subjects.ts';

function config(url: string): DeploymentConfig {
  const read = validateContinuousDeploymentSpec({ url });
  if (!read.ok) throw new Error(read.errors.map((e) => e.message).join('; '));
  return read.value;
}

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

test('a commit subject is read once per repository and commit, concurrent reads share one', async () => {
  const reads: string[] = [];
  const subject = rememberCommitSubjects((c, sha) => {
    reads.push(`${c.url} ${sha}`);
    return Promise.resolve(`subject of ${sha.slice(0, 1)} in ${c.url}`);
  });
  const one = config('https://git.example/one');
  const other = config('https://git.example/other');
  assert.deepEqual(await Promise.all([subject(one, A), subject(one, A)]), [
    'subject of a in https://git.example/one',
    'subject of a in https://git.example/one',
  ]);
  assert.equal(await subject(one, A), 'subject of a in https://git.example/one');
  // Another commit, and the same SHA in another repository, are read on their own.
  assert.equal(await subject(one, B), 'subject of b in https://git.example/one');
  assert.equal(await subject(other, A), 'subject of a in https://git.example/other');
  assert.deepEqual(reads, [`https://git.example/one ${A}`, `https://git.example/one ${B}`, `https://git.example/other ${A}`]);
});

test('a failed read is not remembered: the next reconcile reads again', async () => {
  let calls = 0;
  const subject = rememberCommitSubjects(() => (++calls === 1 ? Promise.reject(new Error('not fetched yet')) : Promise.resolve('fix')));
  const one = config('https://git.example/one');
  await assert.rejects(subject(one, A), /not fetched yet/);
  assert.equal(await subject(one, A), 'fix');
  assert.equal(calls, 2);
});

test('the least recently used subject goes once the bound is reached', async () => {
  let calls = 0;
  const subject = rememberCommitSubjects(() => Promise.resolve(`read ${++calls}`), 1);
  const one = config('https://git.example/one');
  assert.equal(await subject(one, A), 'read 1');
  assert.equal(await subject(one, B), 'read 2');
  assert.equal(await subject(one, A), 'read 3');
});
