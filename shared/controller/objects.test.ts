import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../kube/object.ts';
import { collectionPath, involvedObject, keyOf, namespaceOf, objectPath } from './objects.ts';

const policy = (metadata: KubeObject['metadata']): KubeObject => ({ apiVersion: 'tidemark.dev/v1alpha1', kind: 'ImagePolicy', metadata });

describe('object paths and keys', () => {
  it('builds Tidemark collection and object paths, escaping names', () => {
    assert.equal(collectionPath('imagepolicies'), '/apis/tidemark.dev/v1alpha1/imagepolicies');
    assert.equal(collectionPath('imagepolicies', 'apps'), '/apis/tidemark.dev/v1alpha1/namespaces/apps/imagepolicies');
    assert.equal(objectPath('imagepolicies', 'apps', 'a/b'), '/apis/tidemark.dev/v1alpha1/namespaces/apps/imagepolicies/a%2Fb');
  });

  it('keys by namespace and name, an object built without a namespace in default', () => {
    assert.equal(keyOf(policy({ name: 'web', namespace: 'apps' })), 'apps/web');
    assert.equal(namespaceOf(policy({ name: 'web' })), 'default');
    assert.equal(keyOf(policy({ name: 'web' })), 'default/web');
  });

  it('names the involved object of an Event, with the uid only when known', () => {
    assert.deepEqual(involvedObject(policy({ name: 'web', namespace: 'apps', uid: 'u1' })), {
      apiVersion: 'tidemark.dev/v1alpha1',
      kind: 'ImagePolicy',
      name: 'web',
      namespace: 'apps',
      uid: 'u1',
    });
    assert.equal('uid' in involvedObject(policy({ name: 'web' })), false);
  });
});
