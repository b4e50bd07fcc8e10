import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../shared/kube/object.ts';
import { assertUnique, isOwnedBy, ownershipValue, prepareObjects, staleEntries } from './plan.ts';

const owner = { namespace: 'default', name: 'infra' };
const scope = (_apiVersion: string, kind: string) =>
  kind === 'Namespace' || kind === 'ClusterRole' ? false : kind === 'Unknown' ? undefined : true;

test('namespaced objects without a namespace go to the default; cluster-scoped lose theirs', () => {
  const out = prepareObjects(
    [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b', namespace: 'other' } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apps', namespace: 'junk' } },
    ],
    scope,
    { owner, defaultNamespace: 'apps' },
  );
  assert.deepEqual(
    out.map((o) => o.metadata.namespace),
    ['apps', 'other', undefined],
  );
});

test('every object carries an ownership annotation naming the owner and the object itself', () => {
  const [cm] = prepareObjects([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', annotations: { keep: 'me' } } }], scope, {
    owner,
    defaultNamespace: 'apps',
  });
  assert.equal(cm!.metadata.annotations?.keep, 'me');
  assert.equal(cm!.metadata.annotations?.['tidemark.dev/owned-by'], 'default/infra:/ConfigMap:apps/a');
  assert.ok(isOwnedBy(cm!, owner));
  assert.ok(!isOwnedBy(cm!, { namespace: 'default', name: 'other' }));
});

test('a copied ownership annotation on another object does not make it ours', () => {
  const copy: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'copy',
      namespace: 'apps',
      annotations: {
        'tidemark.dev/owned-by': ownershipValue(owner, { group: '', kind: 'ConfigMap', namespace: 'apps', name: 'a' }),
      },
    },
  };
  assert.equal(isOwnedBy(copy, owner), false);
});

test('the same object twice after namespace defaulting is refused', () => {
  const objects = prepareObjects(
    [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'apps' } },
    ],
    scope,
    { owner, defaultNamespace: 'apps' },
  );
  assert.throws(
    () => assertUnique(objects),
    (err: Error & { code?: string }) => err.code === 'DuplicateObject',
  );
});

test('stale entries are the previous inventory minus the current objects, whatever the version', () => {
  const previous = [
    { group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'apps', name: 'web', status: 'Synced' as const },
    { group: '', version: 'v1', kind: 'ConfigMap', namespace: 'apps', name: 'old', status: 'Synced' as const },
  ];
  const stale = staleEntries(previous, [{ group: 'apps', version: 'v1beta1', kind: 'Deployment', namespace: 'apps', name: 'web' }]);
  assert.deepEqual(
    stale.map((s) => s.name),
    ['old'],
  );
});
