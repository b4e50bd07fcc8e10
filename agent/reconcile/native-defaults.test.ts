import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../shared/kube/object.ts';
import { withNativeDefaults } from './native-defaults.ts';

const DIR = join(import.meta.dirname, 'fixtures', 'native-defaults');

/** Each fixture: the object as written in Git, then the object we apply. */
function load(file: string): { input: KubeObject; expected: KubeObject } {
  const docs = parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => d.toJS() as KubeObject);
  assert.equal(docs.length, 2, `${file}: input and expected`);
  return { input: docs[0]!, expected: docs[1]! };
}

const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));

describe('native defaults before server-side apply', () => {
  for (const file of files) {
    it(file, () => {
      const { input, expected } = load(file);
      const before = structuredClone(input);
      const out = withNativeDefaults(input);
      assert.deepEqual(out, expected);
      assert.deepEqual(input, before, 'the input is not changed');
      if (JSON.stringify(before) === JSON.stringify(expected)) assert.equal(out, input, 'nothing missing: the same object');
    });
  }

  it('every kind with defaults to fill in has a fixture', () => {
    const covered = new Set(files.map((f) => `${load(f).input.apiVersion}|${load(f).input.kind}`));
    for (const key of [
      'v1|Pod',
      'v1|PodTemplate',
      'v1|ReplicationController',
      'v1|Service',
      'v1|Secret',
      'apps/v1|Deployment',
      'apps/v1|StatefulSet',
      'apps/v1|DaemonSet',
      'apps/v1|ReplicaSet',
      'batch/v1|Job',
      'batch/v1|CronJob',
      'batch/v1beta1|CronJob',
      'v1|ResourceQuota',
      'v1|LimitRange',
      'v1|PersistentVolumeClaim',
      'v1|PersistentVolume',
    ]) {
      assert.ok(covered.has(key), `${key} has a fixture`);
    }
  });

  it('an object that already says everything comes back as it is, in every kind', () => {
    for (const file of files) {
      const expected = load(file).expected;
      assert.equal(withNativeDefaults(expected), expected, `${file}: the applied form is a fixed point`);
    }
  });

  it('shapes it cannot read are left to the server to judge', () => {
    const odd: KubeObject[] = [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a' }, spec: { ports: 'nope' } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'b' }, spec: { ports: [80, null] } },
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'c' }, spec: { template: null } },
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { template: { spec: { containers: [null] } } } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'e' }, stringData: { n: 1 } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'f' }, stringData: {} },
      { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'g' }, spec: { hard: [1] } },
      { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'h' }, spec: { limits: 'none' } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'i' }, spec: { containers: [{ resources: { limits: { cpu: Infinity } } }] } },
    ];
    for (const obj of odd) assert.equal(withNativeDefaults(obj), obj, obj.metadata.name);
  });
});
