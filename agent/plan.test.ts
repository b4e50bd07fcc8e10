import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../shared/kube/object.ts';
import {
  assertUnique,
  carriesOwnership,
  isOwnedBy,
  ownerFromAnnotation,
  ownerToWake,
  ownershipValue,
  prepareObjects,
  staleEntries,
} from './plan.ts';

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

test('a watched object wakes the deployment its labels or annotation name only when it is in that inventory', () => {
  const web = { namespace: 'agent', name: 'web' };
  const labels = { 'tidemark.dev/name': 'web', 'tidemark.dev/namespace': 'agent' };
  const cm = (namespace: string, name: string, meta: Partial<KubeObject['metadata']> = {}): KubeObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace, ...meta },
  });
  const inventory = [{ version: 'v1', kind: 'ConfigMap', namespace: 'apps', name: 'a', status: 'Synced' as const }];
  const inventoryOf = (o: { namespace: string; name: string }) => (o.namespace === 'agent' && o.name === 'web' ? inventory : undefined);
  const stamped = (namespace: string, name: string) => ({
    'tidemark.dev/owned-by': ownershipValue(web, { group: '', kind: 'ConfigMap', namespace, name }),
  });

  // A tenant's own objects: a forged label, then a forged label and a forged (self-consistent) annotation.
  assert.equal(ownerToWake(cm('tenant', 'x', { labels }), inventoryOf), undefined);
  assert.equal(ownerToWake(cm('tenant', 'x', { labels, annotations: stamped('tenant', 'x') }), inventoryOf), undefined);
  assert.equal(ownerFromAnnotation(cm('tenant', 'x', { annotations: stamped('tenant', 'x') }))?.name, 'web', 'forgeable');
  // Ours, by labels, by annotation alone (labels stripped by someone), and not from another cluster.
  assert.deepEqual(ownerToWake(cm('apps', 'a', { labels }), inventoryOf), web);
  assert.deepEqual(ownerToWake(cm('apps', 'a', { annotations: stamped('apps', 'a') }), inventoryOf), web);
  assert.equal(
    ownerToWake(cm('apps', 'a', { labels }), inventoryOf, () => false),
    undefined,
  );
  // A copied annotation names another object: it names no owner at all.
  assert.equal(ownerFromAnnotation(cm('apps', 'copy', { annotations: stamped('apps', 'a') })), undefined);
  assert.equal(carriesOwnership(cm('apps', 'a', { annotations: stamped('apps', 'a') })), true);
  assert.equal(carriesOwnership(cm('apps', 'a', { labels })), false);
  assert.equal(ownerFromAnnotation(cm('apps', 'a', { annotations: { 'tidemark.dev/owned-by': 'garbage' } })), undefined);
});
