import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { API_VERSION } from '../../shared/api/constants.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { controlledBy, imageObjectsDeriver, removalPatch, withOwner, type DerivedTarget } from './inline.ts';
import type { DeploymentObject } from './object-types.ts';

function cd(imageRepository?: Record<string, unknown>): DeploymentObject {
  return {
    apiVersion: API_VERSION,
    kind: 'ContinuousDeployment',
    metadata: { name: 'image-gitops', namespace: 'default', uid: 'cd-uid' },
    spec: {
      url: 'https://example.test/repo.git',
      ...(imageRepository ? { imageRepository: imageRepository as never } : {}),
    },
  };
}

const target = (kind: string, plural: string): DerivedTarget => ({
  apiVersion: API_VERSION,
  kind,
  plural,
  lookup: () => undefined,
  ready: () => true,
});
const deriver = imageObjectsDeriver({
  imageRepository: target('ImageRepository', 'imagerepositories'),
  imagePolicy: target('ImagePolicy', 'imagepolicies'),
});

describe('imageObjectsDeriver', () => {
  it('derives the seed block as an ImageRepository and an ImagePolicy named after the ContinuousDeployment', () => {
    const result = deriver.derive(
      cd({
        image: 'registry.example.test/team/app',
        secretRef: 'image-pull',
        filterTags: { pattern: '^master-[a-f0-9]+-(?P<ts>[0-9]+)', extract: '$ts' },
        policy: { numerical: { order: 'asc' } },
        commitMessage: 'Image: {{range .Updated.Images}}{{println .}}{{end}}',
      }),
    );
    assert.equal(result.kind, 'objects');
    if (result.kind !== 'objects') return;
    const [repo, policy] = result.objects as [KubeObject, KubeObject];
    assert.equal(repo.kind, 'ImageRepository');
    assert.equal(repo.metadata.name, 'image-gitops');
    assert.equal(repo.metadata.namespace, 'default');
    assert.deepEqual((repo.spec as Record<string, unknown>).secretRef, { name: 'image-pull' });
    assert.equal(policy.kind, 'ImagePolicy');
    assert.deepEqual((policy.spec as Record<string, unknown>).imageRepositoryRef, { name: 'image-gitops' });
    assert.deepEqual((policy.spec as Record<string, unknown>).filterTags, {
      pattern: '^master-[a-f0-9]+-(?P<ts>[0-9]+)',
      extract: '$ts',
    });
  });

  it('derives nothing without the block, and reports an invalid block', () => {
    assert.deepEqual(deriver.derive(cd()), { kind: 'none' });
    const invalid = deriver.derive(cd({ image: 'registry.example.test/team/app', policy: { semver: { range: '>>1' } } }));
    assert.equal(invalid.kind, 'invalid');
    if (invalid.kind === 'invalid') assert.ok(invalid.errors.length > 0);
  });
});

describe('ownership', () => {
  it('applies with a controlling ownerReference that does not block deletion', () => {
    const owned = withOwner({ apiVersion: API_VERSION, kind: 'ImagePolicy', metadata: { name: 'image-gitops' } }, cd());
    assert.equal(owned.metadata.namespace, 'default');
    assert.deepEqual(owned.metadata.ownerReferences, [
      {
        apiVersion: API_VERSION,
        kind: 'ContinuousDeployment',
        name: 'image-gitops',
        uid: 'cd-uid',
        controller: true,
        blockOwnerDeletion: false,
      },
    ]);
    assert.equal(controlledBy(owned, cd()), true);
  });

  it('does not count an object owned by another uid, or only referenced without controller', () => {
    const other = withOwner(
      { apiVersion: API_VERSION, kind: 'ImagePolicy', metadata: { name: 'x' } },
      { ...cd(), metadata: { ...cd().metadata, uid: 'other' } },
    );
    assert.equal(controlledBy(other, cd()), false);
    const loose: KubeObject = {
      apiVersion: API_VERSION,
      kind: 'ImagePolicy',
      metadata: {
        name: 'x',
        ownerReferences: [{ apiVersion: API_VERSION, kind: 'ContinuousDeployment', name: 'image-gitops', uid: 'cd-uid' }],
      },
    };
    assert.equal(controlledBy(loose, cd()), false);
    assert.equal(controlledBy({ apiVersion: API_VERSION, kind: 'ImagePolicy', metadata: { name: 'x' } }, cd()), false);
  });
});

describe('removalPatch', () => {
  const live: KubeObject = {
    apiVersion: API_VERSION,
    kind: 'ImagePolicy',
    metadata: {
      name: 'image-gitops',
      managedFields: [
        {
          manager: 'tidemark-image-updater',
          operation: 'Apply',
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:metadata': { 'f:ownerReferences': {} },
            'f:spec': {
              'f:imageRepositoryRef': { 'f:name': {} },
              'f:filterTags': { '.': {}, 'f:pattern': {}, 'f:extract': {} },
              'f:policy': { 'f:numerical': { '.': {}, 'f:order': {} } },
            },
          },
        },
        // Someone else's field is never removed.
        {
          manager: 'kubectl',
          operation: 'Update',
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:spec': { 'f:digestReflectionPolicy': {} } },
        },
      ],
    },
    spec: {
      imageRepositoryRef: { name: 'image-gitops' },
      filterTags: { pattern: '^v', extract: '$0' },
      policy: { numerical: { order: 'asc' } },
      digestReflectionPolicy: 'Always',
    },
  };

  it('nulls the fields our apply owned that the new object leaves out', () => {
    const desired: KubeObject = {
      ...live,
      metadata: { name: 'image-gitops' },
      spec: { imageRepositoryRef: { name: 'image-gitops' }, policy: { semver: { range: '^1' } } },
    };
    assert.deepEqual(removalPatch(live, desired, 'tidemark-image-updater'), {
      spec: {
        imageRepositoryRef: { name: 'image-gitops' },
        filterTags: null,
        policy: { semver: { range: '^1' }, numerical: null },
      },
    });
  });

  it('removes a nested field only', () => {
    const desired: KubeObject = { ...live, spec: { ...(live.spec as object), filterTags: { pattern: '^v' } } };
    assert.deepEqual(removalPatch(live, desired, 'tidemark-image-updater')?.spec.filterTags, {
      pattern: '^v',
      extract: null,
    });
  });

  it('has nothing to do when every owned field is still set, or another manager applied', () => {
    assert.equal(removalPatch(live, live, 'tidemark-image-updater'), undefined);
    assert.equal(removalPatch(live, { ...live, spec: {} }, 'someone-else'), undefined);
  });
});
