import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import RE2 from 're2';
import { DEFAULT_EXCLUSION_LIST, DEFAULT_SCAN_INTERVAL } from '../../shared/api/image.ts';
import { imageProblem, IMAGE_REPOSITORY_PATTERN } from './names.ts';

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  default?: unknown;
  enum?: unknown[];
  pattern?: string;
  [key: string]: unknown;
};

interface Crd {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string; singular: string; shortNames: string[] };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources?: { status?: object };
      additionalPrinterColumns: { name: string; type: string; jsonPath: string; priority?: number }[];
      schema: { openAPIV3Schema: Schema };
    }[];
  };
}

function load(name: string): Crd {
  return yaml.load(readFileSync(new URL(`../../charts/tidemark/crds/${name}`, import.meta.url), 'utf8')) as Crd;
}

const repositories = load('imagerepositories.yaml');
const policies = load('imagepolicies.yaml');

/** Structural schema rules a v1.20 API server enforces, plus "no CEL" (v1.20 has none). */
function checkStructural(schema: Schema, path: string) {
  assert.ok(schema.type, `${path} has no type`);
  assert.equal(schema['x-kubernetes-validations'], undefined, `${path} uses CEL, which v1.20 does not know`);
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    if (path === '' && name === 'metadata') continue;
    checkStructural(child, `${path}.${name}`);
  }
  if (schema.items) checkStructural(schema.items, `${path}[]`);
  if (schema.pattern) assert.doesNotThrow(() => new RE2(schema.pattern as string), `${path} pattern is not RE2`);
}

for (const crd of [repositories, policies]) {
  test(`${crd.spec.names.kind} CRD: v1, tidemark.dev/v1alpha1, namespaced, status subresource, structural`, () => {
    assert.equal(crd.apiVersion, 'apiextensions.k8s.io/v1');
    assert.equal(crd.metadata.name, `${crd.spec.names.plural}.tidemark.dev`);
    assert.equal(crd.spec.group, 'tidemark.dev');
    assert.equal(crd.spec.scope, 'Namespaced');
    assert.equal(crd.spec.versions.length, 1);
    const version = crd.spec.versions[0]!;
    assert.equal(version.name, 'v1alpha1');
    assert.ok(version.served && version.storage);
    assert.deepEqual(version.subresources, { status: {} });
    assert.ok(crd.spec.names.shortNames.length > 0);
    checkStructural(version.schema.openAPIV3Schema, '');
  });
}

function columns(crd: Crd) {
  return crd.spec.versions[0]!.additionalPrinterColumns.filter((c) => !c.priority).map((c) => `${c.name}=${c.jsonPath}`);
}

test('printer columns', () => {
  assert.deepEqual(columns(repositories), [
    'Image=.spec.image',
    'Tags=.status.lastScanResult.tagCount',
    'Last scan=.status.lastScanResult.scanTime',
    'Ready=.status.conditions[?(@.type=="Ready")].status',
    'Age=.metadata.creationTimestamp',
  ]);
  assert.deepEqual(columns(policies), [
    'Latest=.status.latestRef.tag',
    'Ready=.status.conditions[?(@.type=="Ready")].status',
    'Age=.metadata.creationTimestamp',
  ]);
});

test('schema defaults and enums agree with the TypeScript side', () => {
  const repoSpec = repositories.spec.versions[0]!.schema.openAPIV3Schema.properties!.spec!.properties!;
  assert.equal(repoSpec.interval!.default, DEFAULT_SCAN_INTERVAL);
  assert.deepEqual(repoSpec.exclusionList!.default, DEFAULT_EXCLUSION_LIST);
  assert.equal(repoSpec.image!.pattern, IMAGE_REPOSITORY_PATTERN);

  const policySpec = policies.spec.versions[0]!.schema.openAPIV3Schema.properties!.spec!.properties!;
  assert.deepEqual(policySpec.digestReflectionPolicy!.enum, ['Never', 'IfNotPresent', 'Always']);
  assert.equal(policySpec.digestReflectionPolicy!.default, 'Never');
  const kinds = policySpec.policy!.properties!;
  assert.deepEqual(Object.keys(kinds).sort(), ['alphabetical', 'numerical', 'semver']);
  assert.equal(kinds.numerical!.properties!.order!.default, 'asc');
  assert.equal(kinds.alphabetical!.properties!.order!.default, 'asc');
});

test('the CRD image pattern (RE2, as the API server runs it) accepts what the validator accepts', () => {
  const pattern = new RE2(IMAGE_REPOSITORY_PATTERN);
  const samples = [
    'nginx',
    'docker.io/library/nginx',
    'localhost:5000/app',
    'Registry.Example.com/a/b',
    'a/b__c/d-e.f_g',
    'nginx:1.25',
    'localhost:5000',
    'a@sha256:00',
    'Org/App',
    'org//app',
    'org/app/',
    '-app',
    'http://x/y',
  ];
  for (const image of samples) assert.equal(pattern.test(image), imageProblem(image) === undefined, image);
});
