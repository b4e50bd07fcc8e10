import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from './object.ts';
import { sortForPrune, stageObjects, stageOf } from './order.ts';

const obj = (apiVersion: string, kind: string, name: string, namespace?: string): KubeObject => ({
  apiVersion,
  kind,
  metadata: namespace ? { name, namespace } : { name },
});

test('stages put CRDs, Namespaces and ClusterRoles first, then *Class kinds, then the rest', () => {
  assert.equal(stageOf(obj('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'x')), 'foundation');
  assert.equal(stageOf(obj('v1', 'Namespace', 'x')), 'foundation');
  assert.equal(stageOf(obj('rbac.authorization.k8s.io/v1', 'ClusterRole', 'x')), 'foundation');
  assert.equal(stageOf(obj('storage.k8s.io/v1', 'StorageClass', 'x')), 'class');
  assert.equal(stageOf(obj('networking.k8s.io/v1', 'IngressClass', 'x')), 'class');
  assert.equal(stageOf(obj('apps/v1', 'Deployment', 'x')), 'workload');
  // A custom kind named Namespace in another group is not the core Namespace.
  assert.equal(stageOf(obj('example.com/v1', 'Namespace', 'x')), 'workload');
});

test('within a stage: fixed kind order, custom kinds after built-ins, webhooks last, then namespace and name', () => {
  const stages = stageObjects([
    obj('admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration', 'hook'),
    obj('example.com/v1', 'Widget', 'w', 'a'),
    obj('apps/v1', 'Deployment', 'web', 'b'),
    obj('apps/v1', 'Deployment', 'api', 'b'),
    obj('v1', 'ConfigMap', 'cfg', 'a'),
    obj('v1', 'ServiceAccount', 'sa', 'a'),
    obj('v1', 'Service', 'svc', 'a'),
  ]);
  assert.deepEqual(
    stages.workload.map((o) => `${o.kind}/${o.metadata.name}`),
    [
      'ServiceAccount/sa',
      'ConfigMap/cfg',
      'Service/svc',
      'Deployment/api',
      'Deployment/web',
      'Widget/w',
      'ValidatingWebhookConfiguration/hook',
    ],
  );
});

test('prune order is the apply order reversed across stages', () => {
  const order = sortForPrune([
    obj('v1', 'Namespace', 'apps'),
    obj('v1', 'ConfigMap', 'cfg', 'apps'),
    obj('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'widgets.example.com'),
    obj('apps/v1', 'Deployment', 'web', 'apps'),
    obj('example.com/v1', 'Widget', 'w', 'apps'),
  ]);
  assert.deepEqual(
    order.map((o) => o.kind),
    ['Widget', 'Deployment', 'ConfigMap', 'Namespace', 'CustomResourceDefinition'],
  );
});
