import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../shared/kube/object.ts';
import { describeSkippedHooks, mapHelmHook } from './helm-hooks.ts';

const job = (annotations: Record<string, string>): KubeObject => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'j', annotations },
});

const mapped = (annotations: Record<string, string>): Record<string, unknown> | undefined => {
  const result = mapHelmHook(job(annotations));
  return 'skipped' in result ? { skipped: result.skipped } : result.object.metadata.annotations;
};

test('Helm hooks become the Argo CD hooks Argo documents as equivalent', () => {
  assert.deepEqual(mapped({ 'helm.sh/hook': 'post-install, post-upgrade' }), {
    'helm.sh/hook': 'post-install, post-upgrade',
    'argocd.argoproj.io/hook': 'PostSync',
  });
  assert.deepEqual(mapped({ 'helm.sh/hook': 'pre-install,post-install', 'helm.sh/hook-weight': ' 3 ' }), {
    'helm.sh/hook': 'pre-install,post-install',
    'helm.sh/hook-weight': ' 3 ',
    'argocd.argoproj.io/hook': 'PreSync,PostSync',
    'argocd.argoproj.io/sync-wave': '3',
  });
  assert.equal(mapped({ 'helm.sh/hook': 'post-delete' })?.['argocd.argoproj.io/hook'], 'PostDelete');
  // A supported hook with an unsupported one: the supported part is kept.
  assert.equal(mapped({ 'helm.sh/hook': 'test,post-install' })?.['argocd.argoproj.io/hook'], 'PostSync');
});

test("Argo's own annotations win; crd-install is an ordinary object; an object without hooks is untouched", () => {
  const own = { 'helm.sh/hook': 'pre-install', 'argocd.argoproj.io/hook': 'Sync' };
  assert.deepEqual(mapped(own), own);
  const wave = { 'helm.sh/hook': 'pre-install', 'helm.sh/hook-weight': '5', 'argocd.argoproj.io/sync-wave': '1' };
  assert.equal(mapped(wave)?.['argocd.argoproj.io/sync-wave'], '1');
  assert.deepEqual(mapped({ 'helm.sh/hook': 'crd-install' }), { 'helm.sh/hook': 'crd-install' });
  const plain = job({});
  assert.equal((mapHelmHook(plain) as { object: KubeObject }).object, plain);
});

test('hooks with no equivalent are skipped, and the message names them', () => {
  assert.deepEqual(mapped({ 'helm.sh/hook': 'test' }), { skipped: ['test'] });
  assert.deepEqual(mapped({ 'helm.sh/hook': 'pre-delete,pre-rollback' }), { skipped: ['pre-delete', 'pre-rollback'] });
  const many = Array.from({ length: 12 }, (_, i) => ({ object: { ...job({}), metadata: { name: `t${i}` } }, hooks: ['test'] }));
  assert.match(describeSkippedHooks(many), /^skipped 12 Helm hooks .*: Job t0 \(test\), .*Job t9 \(test\), and 2 more$/);
});
