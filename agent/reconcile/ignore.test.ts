import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../shared/kube/object.ts';
import { validateContinuousDeploymentSpec, type IgnoreRule } from '../../shared/spec/index.ts';
import { ignoredFields, withoutIgnored, withoutPaths } from './ignore.ts';
import { reconcile } from './index.ts';
import { configMap, world } from './test-kit.ts';

function rules(ignore: unknown): IgnoreRule[] {
  const read = validateContinuousDeploymentSpec({ url: 'https://git.example/c', ignore });
  if (!read.ok) assert.fail(read.errors.map((e) => e.message).join('\n'));
  return read.value.ignore;
}

function deployment(name: string, replicas: number, labels: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'apps', labels },
    spec: {
      replicas,
      template: {
        spec: {
          containers: [
            { name: 'app', image: 'web:1', env: [{ name: 'A', value: '1' }] },
            { name: 'side', image: 's:1' },
          ],
        },
      },
    },
  };
}

function withManaged(obj: KubeObject, managed: Array<{ manager: string; operation: string; fieldsV1: unknown }>): KubeObject {
  return { ...obj, metadata: { ...obj.metadata, managedFields: managed } };
}

test('targets: group, version, kind and name are anchored patterns; selectors read the desired labels', () => {
  const set = rules([
    { paths: ['/spec/replicas'], target: { group: 'apps', kind: 'Deployment', name: 'web-.*', labelSelector: 'hpa=on' } },
    { managedFieldsManagers: ['istio'], target: { version: 'v1', namespace: 'apps' } },
  ]);
  assert.deepEqual(ignoredFields(set, deployment('web-1', 3, { hpa: 'on' })), { paths: [['spec', 'replicas']], managers: ['istio'] });
  assert.deepEqual(ignoredFields(set, deployment('web-1', 3)), { paths: [], managers: ['istio'] });
  assert.deepEqual(ignoredFields(set, deployment('api', 3, { hpa: 'on' })), { paths: [], managers: ['istio'] });
  assert.equal(ignoredFields(set, configMap('c', {}, { namespace: 'other' })), undefined);
  assert.equal(ignoredFields([], deployment('web', 1)), undefined);
});

test('a pointer is not sent unless we own the field on the live object: then the live value is sent and kept', () => {
  const fields = { paths: [['spec', 'replicas']], managers: [] };
  // Created fresh, or owned by someone else: not sent, so never claimed.
  assert.equal((withoutIgnored(deployment('w', 3), undefined, fields).spec as Record<string, unknown>).replicas, undefined);
  const theirs = withManaged(deployment('w', 7), [
    { manager: 'tidemark', operation: 'Apply', fieldsV1: { 'f:spec': { 'f:template': {} } } },
    { manager: 'kube-controller-manager', operation: 'Update', fieldsV1: { 'f:spec': { 'f:replicas': {} } } },
  ]);
  assert.equal((withoutIgnored(deployment('w', 3), theirs, fields).spec as Record<string, unknown>).replicas, undefined);
  // Only ours (the rule came after the first apply): leaving it out would make the server drop it.
  const ours = withManaged(deployment('w', 5), [{ manager: 'tidemark', operation: 'Apply', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }]);
  assert.equal((withoutIgnored(deployment('w', 3), ours, fields).spec as Record<string, unknown>).replicas, 5);
  // A pointer into a list: the item goes.
  const sent = withoutIgnored(deployment('w', 3), undefined, { paths: [['spec', 'template', 'spec', 'containers', '1']], managers: [] });
  assert.deepEqual(
    (sent.spec as { template: { spec: { containers: Array<{ name: string }> } } }).template.spec.containers.map((c) => c.name),
    ['app'],
  );
});

test('managedFieldsManagers: the fields those managers own are not sent, list items matched by their keys', () => {
  const live = withManaged(deployment('w', 2), [
    { manager: 'hpa', operation: 'Update', fieldsV1: { 'f:spec': { 'f:replicas': {} } } },
    {
      manager: 'injector',
      operation: 'Update',
      fieldsV1: {
        'f:spec': {
          'f:template': {
            'f:spec': {
              'f:containers': {
                'k:{"name":"app"}': { 'f:env': { 'k:{"name":"A"}': { '.': {}, 'f:name': {}, 'f:value': {} } } },
                'k:{"name":"side"}': { '.': {}, 'f:name': {}, 'f:image': {} },
              },
            },
          },
        },
      },
    },
  ]);
  const sent = withoutIgnored(deployment('w', 3), live, { paths: [], managers: ['hpa', 'injector'] });
  assert.deepEqual(sent.spec, { template: { spec: { containers: [{ name: 'app', image: 'web:1', env: [] }] } } });
  // The desired object itself is not touched.
  assert.equal((deployment('w', 3).spec as Record<string, unknown>).replicas, 3);
});

test('replace (PUT sends the whole object): ignored fields carry their live values instead of being left out', () => {
  const live = withManaged(deployment('w', 6), [
    { manager: 'hpa', operation: 'Update', fieldsV1: { 'f:metadata': { 'f:labels': { 'f:scaled': {} } } } },
  ]);
  live.metadata.labels = { scaled: 'yes' };
  const sent = withoutIgnored(
    deployment('w', 3),
    live,
    {
      paths: [
        ['spec', 'replicas'],
        ['spec', 'paused'],
      ],
      managers: ['hpa'],
    },
    { replace: true },
  );
  assert.equal((sent.spec as Record<string, unknown>).replicas, 6);
  assert.equal('paused' in (sent.spec as Record<string, unknown>), false);
  assert.equal(sent.metadata.labels?.scaled, 'yes');
});

test('withoutPaths: a copy for comparing, the original untouched', () => {
  const obj = deployment('w', 4);
  const copy = withoutPaths(obj, [
    ['spec', 'replicas'],
    ['spec', 'missing', 'x'],
  ]);
  assert.equal((copy.spec as Record<string, unknown>).replicas, undefined);
  assert.equal((obj.spec as Record<string, unknown>).replicas, 4);
});

test('an ignored field another actor changed: Synced with no writes, and a new revision does not reset it', async () => {
  const w = world({ ignore: [{ paths: ['/data/owned'], target: { kind: 'ConfigMap' } }] });
  w.git.commit([configMap('a', { x: '1', owned: 'git' })]);
  const first = await reconcile(w.input(), w.deps);
  assert.equal(first.error, undefined);
  w.record(first);
  const live = w.kube.peek('v1', 'ConfigMap', 'apps', 'a')!;
  assert.equal((live.data as Record<string, string>).owned, undefined, 'never sent, so never created by us');
  w.kube.seed({ ...live, data: { x: '1', owned: 'theirs' } });

  const before = w.kube.writes().length;
  const second = await reconcile(w.input(), w.deps);
  assert.equal(second.error, undefined);
  assert.equal(second.sync, 'Synced');
  assert.deepEqual(w.kube.writes().slice(before), []);

  // A new commit re-sends every object: still without the ignored field.
  w.git.commit([configMap('a', { x: '2', owned: 'git' })]);
  const third = await reconcile(w.input(), w.deps);
  assert.equal(third.error, undefined);
  assert.deepEqual(w.kube.peek('v1', 'ConfigMap', 'apps', 'a')!.data, { x: '2', owned: 'theirs' });
});

test('without the rule the same change is drift, and self-heal writes it back', async () => {
  const w = world();
  w.git.commit([configMap('a', { x: '1', owned: 'git' })]);
  w.record(await reconcile(w.input(), w.deps));
  const live = w.kube.peek('v1', 'ConfigMap', 'apps', 'a')!;
  w.kube.seed({ ...live, data: { x: '1', owned: 'theirs' } });
  const before = w.kube.writes().length;
  const second = await reconcile(w.input(), w.deps);
  assert.equal(second.error, undefined);
  assert.equal(w.kube.writes().slice(before).length, 1);
  assert.equal((w.kube.peek('v1', 'ConfigMap', 'apps', 'a')!.data as Record<string, string>).owned, 'git');
});
