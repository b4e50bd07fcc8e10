import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../shared/kube/object.ts';
import { silentLogger } from '../shared/log/index.ts';
import { FakeClock } from '../shared/time/fake-clock.ts';
import { NewerIntent, sourcePart } from './newer-intent.ts';

const MINUTE = 60_000;

function cd(generation: number, requestedAt?: string): KubeObject {
  return {
    apiVersion: 'tidemark.dev/v1alpha1',
    kind: 'ContinuousDeployment',
    metadata: {
      name: 'web',
      namespace: 'agent',
      generation,
      ...(requestedAt ? { annotations: { 'tidemark.dev/requestedAt': requestedAt } } : {}),
    },
  };
}

function intent(started: KubeObject, git: { revision: string; error?: Error }) {
  const clock = new FakeClock();
  let lookups = 0;
  const newer = new NewerIntent(started, {
    clock,
    log: silentLogger,
    intervalMs: MINUTE,
    lookUp: () => {
      lookups++;
      return git.error ? Promise.reject(git.error) : Promise.resolve(git.revision);
    },
  });
  return { clock, newer, lookups: () => lookups };
}

test('a lagging copy (an older generation, the same request) supersedes nothing; a newer generation does', () => {
  const { newer } = intent(cd(3, 'a'), { revision: 'main@sha1:1' });
  newer.observe(cd(2, 'a'));
  newer.observe(cd(3, 'a'));
  assert.equal(newer.signal.aborted, false);
  newer.observe(cd(4, 'a'));
  assert.equal(newer.signal.reason, 'generation 4 of the spec');
  newer.end();
});

test('Git is asked every pull interval once the run knows its revision; only another revision supersedes', async () => {
  const git: { revision: string; error?: Error } = { revision: 'main@sha1:1' };
  const { clock, newer, lookups } = intent(cd(1), git);
  await clock.advance(MINUTE);
  assert.equal(lookups(), 0, 'nothing to compare with before the run resolved');
  newer.resolved('main@sha1:1');
  await clock.advance(MINUTE);
  assert.equal(lookups(), 1);
  assert.equal(newer.signal.aborted, false, 'the same commit');
  git.error = new Error('unreachable');
  await clock.advance(MINUTE);
  assert.equal(newer.signal.aborted, false, 'a failed look ends nothing');
  delete git.error;
  git.revision = 'main@sha1:2';
  newer.lookNow();
  await clock.advance(0);
  assert.equal(newer.signal.reason, 'revision main@sha1:2');
  newer.end();
  assert.deepEqual(clock.pending(), [], 'no timer left once superseded and ended');
});

test('ended, it looks no more and leaves no timer', async () => {
  const { clock, newer, lookups } = intent(cd(1), { revision: 'main@sha1:2' });
  newer.resolved('main@sha1:1');
  newer.end();
  await clock.advance(5 * MINUTE);
  newer.observe(cd(2));
  assert.equal(lookups(), 0);
  assert.equal(newer.signal.aborted, false);
  assert.deepEqual(clock.pending(), []);
});

test('a run at a Git commit plus a repository chart is not superseded by the same commit', async () => {
  const sha = 'a'.repeat(40);
  const digest = 'b'.repeat(64);
  const git = { revision: `main@sha1:${sha}` };
  const { clock, newer } = intent(cd(1), git);
  newer.resolved(`main@sha1:${sha}+catalog-1.1.0+build.7@sha256:${digest}`);
  await clock.advance(MINUTE);
  assert.equal(newer.signal.aborted, false, 'the look sees the same commit');
  git.revision = `main@sha1:${'c'.repeat(40)}`;
  await clock.advance(MINUTE);
  assert.equal(newer.signal.reason, `revision main@sha1:${'c'.repeat(40)}`);
  newer.end();
});

test('sourcePart keeps what the source itself resolved', () => {
  const sha = 'a'.repeat(40);
  const digest = 'b'.repeat(64);
  assert.equal(sourcePart(`main@sha1:${sha}+catalog-1.1.0@sha256:${digest}`), `main@sha1:${sha}`);
  assert.equal(sourcePart(`1.1.0+build@sha256:${digest}`), `1.1.0+build@sha256:${digest}`);
  assert.equal(sourcePart(`v1.0+meta@sha1:${sha}`), `v1.0+meta@sha1:${sha}`);
});
