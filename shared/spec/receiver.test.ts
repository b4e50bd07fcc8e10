import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateReceiverSpec } from './index.ts';

const base = { type: 'github', secretRef: { name: 'hook' }, resources: [{ kind: 'ContinuousDeployment', name: 'web' }] };

test('Receiver: defaults — no events filter, targets in the Receiver namespace, not suspended', () => {
  const read = validateReceiverSpec(base, 'apps');
  assert.ok(read.ok);
  assert.deepEqual(read.value, {
    type: 'github',
    events: [],
    secretRef: 'hook',
    resources: [{ kind: 'ContinuousDeployment', name: 'web', namespace: 'apps', matchLabels: {} }],
    suspend: false,
  });
});

test('Receiver: every problem at once, each with its field path', () => {
  const read = validateReceiverSpec(
    {
      type: 'svn',
      events: ['push', ''],
      resources: [
        { kind: 'Deployment', name: 'web' },
        { kind: 'ImageRepository', name: 'app', matchLabels: { team: 'a' } },
        { kind: 'ContinuousDeployment', name: 'Web', namespace: 'Other', zz: 1 },
        'web',
      ],
      extra: true,
    },
    'apps',
  );
  assert.ok(!read.ok);
  assert.deepEqual(
    read.errors.map((e) => e.message),
    [
      'spec.extra: unknown field',
      'spec.type: "svn" is not a receiver type',
      'spec.events[1]: must be a non-empty event name',
      'spec.secretRef: is required',
      'spec.resources[0].kind: "Deployment" cannot be asked to reconcile',
      'spec.resources[1].matchLabels: selects objects only with name "*"',
      'spec.resources[2].zz: unknown field',
      `spec.resources[2].name: "Web" is not a valid name (lowercase letters, digits, '-' and '.')`,
      `spec.resources[2].namespace: "Other" is not a valid namespace (lowercase letters, digits and '-')`,
      'spec.resources[3]: must be an object {kind, name}, not string "web"',
    ],
  );
});

test('Receiver: name "*" with matchLabels selects; another namespace only when cross-namespace references are allowed', () => {
  const spec = { ...base, resources: [{ kind: 'ImageRepository', name: '*', namespace: 'images', matchLabels: { team: 'a' } }] };
  const read = validateReceiverSpec(spec, 'apps');
  assert.ok(read.ok);
  assert.deepEqual(read.value.resources, [{ kind: 'ImageRepository', name: '*', namespace: 'images', matchLabels: { team: 'a' } }]);
  const locked = validateReceiverSpec(spec, 'apps', { noCrossNamespaceRefs: true });
  assert.ok(!locked.ok);
  assert.deepEqual(
    locked.errors.map((e) => e.message),
    ['spec.resources[0].namespace: "images" is another namespace, and cross-namespace references are disabled'],
  );
});

test('Receiver: resources are required and not empty', () => {
  const missing = validateReceiverSpec({ type: 'generic', secretRef: { name: 's' } }, 'apps');
  assert.ok(!missing.ok);
  assert.deepEqual(
    missing.errors.map((e) => e.message),
    ['spec.resources: is required'],
  );
  const empty = validateReceiverSpec({ type: 'generic', secretRef: { name: 's' }, resources: [] }, 'apps');
  assert.ok(!empty.ok);
  assert.match(empty.errors[0]!.message, /^spec.resources: must be a non-empty list/);
});
