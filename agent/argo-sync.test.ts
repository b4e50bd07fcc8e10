import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../shared/kube/object.ts';
import { byWave, hookOf, nameHooks, splitHooks, syncOptionsOf, syncWaveOf } from './argo-sync.ts';

const obj = (name: string, annotations: Record<string, string> = {}, kind = 'ConfigMap'): KubeObject => ({
  apiVersion: kind === 'Job' ? 'batch/v1' : 'v1',
  kind,
  metadata: { name, annotations },
});

test('sync-wave: an integer, 0 without it, negative allowed; anything else names the object', () => {
  assert.equal(syncWaveOf(obj('a')), 0);
  assert.equal(syncWaveOf(obj('a', { 'argocd.argoproj.io/sync-wave': '-2' })), -2);
  assert.equal(syncWaveOf(obj('a', { 'argocd.argoproj.io/sync-wave': ' 5 ' })), 5);
  assert.throws(
    () => syncWaveOf(obj('a', { 'argocd.argoproj.io/sync-wave': 'first' })),
    (err: Error & { code?: string }) => err.code === 'InvalidSyncAnnotation' && /ConfigMap a/.test(err.message),
  );
  assert.throws(() => syncWaveOf(obj('a', { 'argocd.argoproj.io/sync-wave': '1.5' })), /not an integer/);
});

test('byWave groups ascending and keeps the order within a wave', () => {
  const groups = byWave([3, -1, 0, 3, -1], (n) => n);
  assert.deepEqual(
    groups.map((g) => g.wave),
    [-1, 0, 3],
  );
  assert.equal(groups[0]?.items.length, 2);
});

test('hook: phases and delete policies; BeforeHookCreation by default; Skip drops the object; bad values are refused', () => {
  const hook = hookOf(obj('h', { 'argocd.argoproj.io/hook': 'PreSync, PostSync', 'argocd.argoproj.io/sync-wave': '2' }));
  assert.ok(hook && hook !== 'skip');
  assert.deepEqual(hook.phases, ['PreSync', 'PostSync']);
  assert.deepEqual(hook.deletePolicies, ['BeforeHookCreation']);
  assert.equal(hook.wave, 2);
  const both = hookOf(obj('h', { 'argocd.argoproj.io/hook': 'Sync', 'argocd.argoproj.io/hook-delete-policy': 'HookSucceeded,HookFailed' }));
  assert.ok(both && both !== 'skip');
  assert.deepEqual(both.deletePolicies, ['HookSucceeded', 'HookFailed']);
  assert.equal(hookOf(obj('s', { 'argocd.argoproj.io/hook': 'Skip' })), 'skip');
  assert.equal(hookOf(obj('plain')), undefined);
  assert.throws(
    () => hookOf(obj('h', { 'argocd.argoproj.io/hook': 'PreSynk' })),
    (err: Error & { hint?: string }) =>
      /"PreSynk"/.test(err.message) && /PreSync, Sync, PostSync, SyncFail, PostDelete/.test(err.hint ?? ''),
  );
  assert.throws(
    () => hookOf(obj('h', { 'argocd.argoproj.io/hook': 'Sync', 'argocd.argoproj.io/hook-delete-policy': 'Always' })),
    (err: Error & { hint?: string }) => /HookSucceeded, HookFailed, BeforeHookCreation/.test(err.hint ?? ''),
  );

  const split = splitHooks([obj('a'), obj('h', { 'argocd.argoproj.io/hook': 'PreSync' }), obj('s', { 'argocd.argoproj.io/hook': 'Skip' })]);
  assert.deepEqual(
    split.resources.map((o) => o.metadata.name),
    ['a'],
  );
  assert.deepEqual(
    split.hooks.map((h) => h.object.metadata.name),
    ['h'],
  );
});

test('sync-options: Prune=false, Replace=true, SkipDryRunOnMissingResource=true; ServerSideApply=true is accepted', () => {
  assert.deepEqual(syncOptionsOf(obj('a')), { prune: true, replace: false, skipDryRunOnMissingResource: false });
  assert.deepEqual(
    syncOptionsOf(
      obj('a', { 'argocd.argoproj.io/sync-options': 'Prune=false, Replace=true,SkipDryRunOnMissingResource=true,ServerSideApply=true' }),
    ),
    { prune: false, replace: true, skipDryRunOnMissingResource: true },
  );
});

test('nameHooks names a generateName hook from commit, phase and start; the same sync names it the same; collisions get a counter', () => {
  const gen = (): KubeObject => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: '', generateName: 'upgrade-sql-schema', annotations: { 'argocd.argoproj.io/hook': 'PreSync' } },
  });
  const sha = 'abcdef0123456789';
  const [a, b, plain] = nameHooks([gen(), gen(), obj('keep')], sha, 1_700_000_000_123);
  assert.equal(a?.metadata.name, 'upgrade-sql-schemaabcdef0-presync-1700000000');
  assert.equal(a?.metadata.generateName, undefined);
  assert.equal(b?.metadata.name, 'upgrade-sql-schemaabcdef0-presync-1700000000-2');
  assert.equal(plain?.metadata.name, 'keep');
  assert.equal(nameHooks([gen()], sha, 1_700_000_000_999)[0]?.metadata.name, a?.metadata.name);
  const long = { ...gen(), metadata: { ...gen().metadata, generateName: 'x'.repeat(80) } };
  assert.ok((nameHooks([long], sha, 0)[0]?.metadata.name.length ?? 99) <= 63);
});
