import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import yaml from 'js-yaml';
import { HELM_FIELDS, MAX_API_VERSIONS, MAX_RELEASE_NAME, MAX_VALUES_FILES, RELEASE_NAME_PATTERN } from './helm.ts';
import { validateContinuousDeploymentSpec } from './index.ts';

const read = (helm: unknown) => validateContinuousDeploymentSpec({ url: 'https://git.example.com/config.git', helm });

function problems(helm: unknown): string[] {
  const result = read(helm);
  return result.ok ? [] : result.errors.map((e) => `${e.code} ${e.message}`);
}

test('spec.helm: every field read, defaults applied', () => {
  const result = read({
    releaseName: 'web',
    namespace: 'apps',
    valuesFiles: ['values-prod.yaml', '../shared/values.yaml'],
    values: { replicaCount: 2, image: { tag: '1.2.3' } },
    includeCRDs: false,
    kubeVersion: 'v1.30.2',
    apiVersions: ['monitoring.coreos.com/v1', 'monitoring.coreos.com/v1/ServiceMonitor', 'v1'],
    chart: { repository: 'https://charts.example.com/stable', name: 'shop', version: '^1.4.0', secretRef: 'charts' },
  });
  assert.ok(result.ok);
  assert.deepEqual(result.value.helm, {
    releaseName: 'web',
    namespace: 'apps',
    valuesFiles: ['values-prod.yaml', '../shared/values.yaml'],
    values: { replicaCount: 2, image: { tag: '1.2.3' } },
    includeCRDs: false,
    kubeVersion: 'v1.30.2',
    apiVersions: ['monitoring.coreos.com/v1', 'monitoring.coreos.com/v1/ServiceMonitor', 'v1'],
    chart: { repository: 'https://charts.example.com/stable', name: 'shop', version: '^1.4.0', secretRef: 'charts' },
  });
  const empty = read({});
  assert.ok(empty.ok);
  assert.deepEqual(empty.value.helm, {
    releaseName: undefined,
    namespace: undefined,
    valuesFiles: [],
    values: undefined,
    includeCRDs: true,
    kubeVersion: undefined,
    apiVersions: [],
    chart: undefined,
  });
  const none = read(undefined);
  assert.ok(none.ok);
  assert.equal(none.value.helm, undefined);
});

test('spec.helm: all problems at once, each naming its field', () => {
  const list = problems({
    releaseName: '--set=evil',
    namespace: 'Apps',
    valuesFiles: ['/etc/passwd', 'https://example.com/values.yaml', 3, ''],
    values: ['a'],
    includeCRDs: 'yes',
    kubeVersion: '--kube-version',
    apiVersions: ['not an api', 'apps/v1'],
    chartName: 'x',
    chart: { repository: 'https://user:pw@charts.example.com', name: '../x', version: 'not a range', secretRef: 'Bad_Name', extra: 1 },
  });
  const expected = [
    /^InvalidSpec spec\.helm\.releaseName: "--set=evil" is not a valid release name/,
    /^InvalidSpec spec\.helm\.namespace: "Apps" is not a valid namespace/,
    /^InvalidSpec spec\.helm\.valuesFiles\[0\]: "\/etc\/passwd" is absolute/,
    /^InvalidSpec spec\.helm\.valuesFiles\[1\]: "https:\/\/example\.com\/values\.yaml" is a URL/,
    /^InvalidSpec spec\.helm\.valuesFiles\[2\]: must be a string, not number 3/,
    /^InvalidSpec spec\.helm\.valuesFiles\[3\]: must be a path/,
    /^InvalidSpec spec\.helm\.values: must be an object of chart values, not a list/,
    /^InvalidSpec spec\.helm\.includeCRDs: must be true or false/,
    /^InvalidSpec spec\.helm\.kubeVersion: "--kube-version" is not a Kubernetes version/,
    /^InvalidSpec spec\.helm\.apiVersions\[0\]: "not an api" is not an API version/,
    /^InvalidSpec spec\.helm\.chartName: unknown field/,
    /^InvalidSpec spec\.helm\.chart\.extra: unknown field/,
    /^InvalidSpec spec\.helm\.chart\.repository: "https:\/\/user:pw@charts\.example\.com" is not an http\(s\) URL of a Helm repository, nor an oci:\/\/ registry path/,
    /^InvalidSpec spec\.helm\.chart\.name: "\.\.\/x" is not a chart name/,
    /^InvalidSemverRange spec\.helm\.chart\.version "not a range" is not a valid range/,
    /^InvalidSpec spec\.helm\.chart\.secretRef: "Bad_Name" is not a valid name/,
  ];
  for (const pattern of expected)
    assert.ok(
      list.some((m) => pattern.test(m)),
      `${pattern} not in\n${list.join('\n')}`,
    );
  assert.equal(list.length, expected.length, list.join('\n'));
  assert.deepEqual(problems('chart'), ['InvalidSpec spec.helm: must be an object, not string "chart"']);
});

test('spec.helm: release names as helm takes them, lists and inline values bounded', () => {
  assert.deepEqual(problems({ releaseName: 'a'.repeat(MAX_RELEASE_NAME) }), []);
  assert.equal(problems({ releaseName: 'a'.repeat(MAX_RELEASE_NAME + 1) }).length, 1);
  assert.equal(problems({ releaseName: 'web-' }).length, 1);
  assert.deepEqual(problems({ chart: { repository: 'oci://ghcr.io/org/charts', name: 'shop' } }), []);
  assert.deepEqual(problems({ chart: { repository: 'http://127.0.0.1:8080/stable', name: 'shop', version: '>=1.0.0 <2.0.0' } }), []);
  assert.equal(problems({ chart: { repository: 'ftp://example.com', name: 'shop' } }).length, 1);
  assert.match(problems({ valuesFiles: Array.from({ length: MAX_VALUES_FILES + 1 }, () => 'v.yaml') })[0] ?? '', /at most 32/);
  assert.match(problems({ apiVersions: Array.from({ length: MAX_API_VERSIONS + 1 }, () => 'v1') })[0] ?? '', /at most 256/);
  assert.match(problems({ values: { blob: 'x'.repeat(300 * 1024) } })[0] ?? '', /spec\.helm\.values: is \d+ bytes; at most 262144/);
});

test('spec.helm: the CRD declares the fields the reader reads, with its limits and a description each', () => {
  type Schema = { properties?: Record<string, Schema>; description?: string; maxItems?: number; maxLength?: number; pattern?: string };
  const crd = yaml.load(readFileSync(new URL('../../charts/tidemark/crds/continuousdeployments.yaml', import.meta.url), 'utf8')) as {
    spec: { versions: Array<{ schema: { openAPIV3Schema: Schema } }> };
  };
  const helm = crd.spec.versions[0]!.schema.openAPIV3Schema.properties!.spec!.properties!.helm!;
  assert.deepEqual(Object.keys(helm.properties!).sort(), [...HELM_FIELDS].sort());
  assert.ok(helm.description);
  for (const [name, field] of Object.entries(helm.properties!)) assert.ok(field.description, `${name} has no description`);
  assert.equal(helm.properties!.releaseName!.pattern, RELEASE_NAME_PATTERN);
  assert.equal(helm.properties!.releaseName!.maxLength, MAX_RELEASE_NAME);
  assert.equal(helm.properties!.valuesFiles!.maxItems, MAX_VALUES_FILES);
  assert.equal(helm.properties!.apiVersions!.maxItems, MAX_API_VERSIONS);
});
