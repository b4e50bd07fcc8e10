import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import RE2 from 're2';
import { DEFAULT_EXCLUSION_LIST, DEFAULT_SCAN_INTERVAL } from '../api/image.ts';
import { MAX_EXPRESSION_LENGTH } from '../cel/index.ts';
import { formatDuration } from '../time/duration.ts';
import { RECEIVER_TARGET_KINDS, RECEIVER_TYPES } from '../api/receiver.ts';
import {
  COMMIT_SHA_PATTERN,
  DEFAULT_AUTOMATION_INTERVAL,
  DEPLOYMENT_DEFAULTS,
  OCI_REF_FIELDS,
  REPO_TYPES,
  imageProblem,
  IMAGE_REPOSITORY_PATTERN,
  INLINE_IMAGE_FIELDS,
  MAX_INTERVAL_MS,
  MAX_SCAN_TIMEOUT_MS,
  MAX_TIMEOUT_MS,
  MAX_WINDOWS,
  MAX_HEALTH_CHECK_EXPRS,
  MAX_HEALTH_CHECKS,
  HEALTH_CHECK_EXPR_FIELDS,
  HEALTH_CHECK_FIELDS,
  DEPENDS_ON_FIELDS,
  IGNORE_FIELDS,
  IGNORE_TARGET_FIELDS,
  MAX_DEPENDS_ON,
  MAX_IGNORE_RULES,
  MAX_IGNORE_PATHS,
  MAX_SUBSTITUTE_FROM,
  MAX_SUBSTITUTE_VARIABLES,
  POST_BUILD_FIELDS,
  SUBSTITUTE_FROM_FIELDS,
  DECRYPTION_FIELDS,
  plainCompilers,
  PROPAGATION_POLICIES,
  validateContinuousDeploymentSpec,
  validateImagePolicySpec,
  validateImageRepositorySpec,
  validateImageUpdateAutomationSpec,
  validateReceiverSpec,
  MAX_RECEIVER_EVENTS,
  MAX_RECEIVER_RESOURCES,
  type Validated,
} from './index.ts';

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  default?: unknown;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxItems?: number;
  maxLength?: number;
  description?: string;
  required?: string[];
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

const deployments = load('continuousdeployments.yaml');
const repositories = load('imagerepositories.yaml');
const policies = load('imagepolicies.yaml');
const automations = load('imageupdateautomations.yaml');
const receivers = load('receivers.yaml');

function specSchema(crd: Crd): Schema {
  return crd.spec.versions[0]!.schema.openAPIV3Schema.properties!.spec!;
}

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

for (const crd of [deployments, repositories, policies, automations, receivers]) {
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
  assert.deepEqual(columns(deployments), [
    'Health=.status.health.status',
    'Sync=.status.sync.status',
    'Revision=.status.sync.revision',
    'Location=.status.location.namespace',
    'Updated=.status.lastSyncTime',
    'Age=.metadata.creationTimestamp',
  ]);
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

test('ContinuousDeployment: schema defaults and enums agree with the reader', () => {
  const spec = specSchema(deployments).properties!;
  assert.equal(spec.repoType!.default, DEPLOYMENT_DEFAULTS.repoType);
  assert.deepEqual(spec.repoType!.enum, [...REPO_TYPES]);
  assert.deepEqual(Object.keys(spec.ref!.properties!).sort(), [...OCI_REF_FIELDS].sort());
  assert.equal(spec.pullInterval!.default, DEPLOYMENT_DEFAULTS.pullInterval);
  assert.equal(spec.path!.default, DEPLOYMENT_DEFAULTS.path);
  assert.equal(spec.prune!.default, DEPLOYMENT_DEFAULTS.prune);
  assert.equal(spec.suspend!.default, DEPLOYMENT_DEFAULTS.suspend);
  assert.equal(spec.force!.default, DEPLOYMENT_DEFAULTS.force);
  assert.equal(spec.kubeConfig!.properties!.secretRef!.properties!.key!.default, DEPLOYMENT_DEFAULTS.kubeConfigKey);
  const sync = spec.syncPolicy!.properties!;
  assert.deepEqual(sync.prunePropagationPolicy!.enum, [...PROPAGATION_POLICIES]);
  assert.equal(sync.prunePropagationPolicy!.default, DEPLOYMENT_DEFAULTS.prunePropagationPolicy);
  // What the API server writes for an empty spec is what the reader assumes for it.
  const read = validateContinuousDeploymentSpec({ url: 'file:///repo' });
  assert.ok(read.ok);
  const flags = read.value.policy as unknown as Record<string, unknown>;
  for (const [name, schema] of Object.entries(sync)) {
    if (schema.type === 'boolean') assert.equal(flags[name], schema.default, `syncPolicy.${name}`);
  }
  const windows = sync.windows!.items!.properties!;
  assert.deepEqual(windows.kind!.enum, ['allow', 'deny']);
  // The API server refuses more windows than the reader would evaluate.
  assert.equal(sync.windows!.maxItems, MAX_WINDOWS);

  // The API server refuses what the reader would refuse for its size.
  assert.equal(spec.healthCheckExprs!.maxItems, MAX_HEALTH_CHECK_EXPRS);
  assert.equal(spec.healthChecks!.maxItems, MAX_HEALTH_CHECKS);
  const exprs = spec.healthCheckExprs!.items!;
  assert.deepEqual(Object.keys(exprs.properties!).sort(), [...HEALTH_CHECK_EXPR_FIELDS].sort());
  assert.deepEqual(exprs.required, ['apiVersion', 'current']);
  for (const key of ['current', 'inProgress', 'failed']) assert.equal(exprs.properties![key]!.maxLength, MAX_EXPRESSION_LENGTH, key);
  const checks = spec.healthChecks!.items!;
  assert.deepEqual(Object.keys(checks.properties!).sort(), [...HEALTH_CHECK_FIELDS].sort());
  assert.deepEqual(checks.required, ['kind', 'name']);
  assert.equal(spec.dependsOn!.maxItems, MAX_DEPENDS_ON);
  const dependsOn = spec.dependsOn!.items!;
  assert.deepEqual(Object.keys(dependsOn.properties!).sort(), [...DEPENDS_ON_FIELDS].sort());
  assert.deepEqual(dependsOn.required, ['name']);
  assert.equal(dependsOn.properties!.readyExpr!.maxLength, MAX_EXPRESSION_LENGTH);
  assert.equal(spec.ignore!.maxItems, MAX_IGNORE_RULES);
  const ignore = spec.ignore!.items!;
  assert.deepEqual(Object.keys(ignore.properties!).sort(), [...IGNORE_FIELDS].sort());
  assert.deepEqual(Object.keys(ignore.properties!.target!.properties!).sort(), [...IGNORE_TARGET_FIELDS].sort());
  for (const key of ['paths', 'managedFieldsManagers']) assert.equal(ignore.properties![key]!.maxItems, MAX_IGNORE_PATHS, key);
  const postBuild = spec.postBuild!.properties!;
  assert.deepEqual(Object.keys(postBuild).sort(), [...POST_BUILD_FIELDS].sort());
  assert.equal(postBuild.substitute!.maxProperties, MAX_SUBSTITUTE_VARIABLES);
  assert.equal(postBuild.substituteFrom!.maxItems, MAX_SUBSTITUTE_FROM);
  const from = postBuild.substituteFrom!.items!;
  assert.deepEqual(Object.keys(from.properties!).sort(), [...SUBSTITUTE_FROM_FIELDS].sort());
  assert.deepEqual(from.properties!.kind!.enum, ['ConfigMap', 'Secret']);
  assert.deepEqual(Object.keys(spec.decryption!.properties!).sort(), [...DECRYPTION_FIELDS].sort());
  assert.deepEqual(spec.decryption!.properties!.provider!.enum, ['sops']);

  const automation = specSchema(automations).properties!;
  assert.equal(automation.interval!.default, DEFAULT_AUTOMATION_INTERVAL);
});

/**
 * `git.commit`: the API server runs the CRD's pattern (Go's RE2), the agent the reader; both take
 * exactly a full SHA-1 or SHA-256 and nothing else, so nothing the API server admits fails later.
 */
test('git.commit: the CRD pattern and the reader agree on every value', () => {
  const pattern = specSchema(deployments).properties!.git!.properties!.commit!.pattern!;
  assert.equal(pattern, COMMIT_SHA_PATTERN);
  const sha1 = '5b1c0e8f0f3c2b8d8a1d0c9e7f6a5b4c3d2e1f00';
  const sha256 = '6f4ee2a0a5f8b8c2b0d6e1c3a7b9d2e4f6a8c0e2b4d6f8a0c2e4a6b8d0f2a4c6';
  const table: [string, boolean][] = [
    [sha1, true],
    [sha1.toUpperCase(), true],
    [sha256, true],
    [`${sha256.slice(0, 32)}${sha256.slice(32).toUpperCase()}`, true],
    ['', false],
    [sha1.slice(0, 7), false],
    [sha1.slice(0, 12), false],
    [sha1.slice(0, 39), false],
    [`${sha1}0`, false],
    [sha256.slice(0, 63), false],
    [`${sha256}0`, false],
    [`${sha1}${sha1.slice(0, 8)}`, false],
    [`g${sha1.slice(1)}`, false],
    [` ${sha1}`, false],
    [`${sha1}\n`, false],
    [`${sha1}\nmain`, false],
    [`sha1:${sha1}`, false],
    [`0x${sha1.slice(2)}`, false],
    ['HEAD', false],
    ['main', false],
    ['-' + sha1.slice(1), false],
  ];
  const js = new RegExp(pattern);
  const re2 = new RE2(pattern);
  for (const [value, valid] of table) {
    const label = JSON.stringify(value);
    assert.equal(js.test(value), valid, `RegExp ${label}`);
    assert.equal(re2.test(value), valid, `RE2 ${label}`);
    const read = validateContinuousDeploymentSpec({ url: 'file:///repo', git: { commit: value } });
    assert.equal(read.ok, valid, `reader ${label}: ${read.ok ? 'accepted' : read.errors.map((e) => e.message).join('; ')}`);
  }
});

/**
 * The other patterned fields: the API server and the reader agree, except where the reader knows
 * what a schema cannot say (git's URL and ref rules, semver ranges, durations under 1s or over a
 * year, cron ranges, time zone names). Those are
 * listed, so a schema that refuses a valid value (as `git.commit` refused SHA-256) fails here.
 */
test('ContinuousDeployment: the CRD and the reader agree on patterned fields, with the known exceptions', () => {
  const spec = specSchema(deployments).properties!;
  const git = spec.git!.properties!;
  const window = spec.syncPolicy!.properties!.windows!.items!.properties!;
  const windowSpec = (fields: Record<string, string>) => ({
    url: 'file:///r',
    syncPolicy: { windows: [{ kind: 'deny', schedule: '0 22 * * *', duration: '1h', ...fields }] },
  });
  const admits = (schema: Schema, value: string) =>
    (schema.pattern === undefined || new RE2(schema.pattern).test(value)) &&
    value.length >= (schema.minLength ?? 0) &&
    value.length <= (schema.maxLength ?? Infinity);
  // [value, the CRD admits it, the reader accepts it]
  const cases: [string, Schema, (value: string) => Record<string, unknown>, [string, boolean, boolean][]][] = [
    [
      'url',
      spec.url!,
      (url) => ({ url }),
      [
        ['https://git.example.com/org/r.git', true, true],
        ['git@git.example.com:org/r.git', true, true],
        ['file:///srv/r.git', true, true],
        [' https://h/r', false, false],
        ['https://h/r x', false, false],
        ['-uhttps://h/r', false, false],
        ['', false, false],
        ['ext::sh', true, false],
        ['https://user:secret@h/r.git', true, false],
      ],
    ],
    [
      'pullInterval',
      spec.pullInterval!,
      (v) => ({ url: 'file:///r', pullInterval: v }),
      [
        ['5m', true, true],
        ['1h30m', true, true],
        ['1.5s', true, true],
        ['', false, false],
        ['0', false, false],
        ['5 minutes', false, false],
        ['500ms', true, false],
      ],
    ],
    [
      'git.branch',
      git.branch!,
      (v) => ({ url: 'file:///r', git: { branch: v } }),
      [
        ['main', true, true],
        ['release/1.x', true, true],
        ['-x', false, false],
        ['a b', false, false],
        ['', false, false],
        ['x\n', false, false],
        ['a..b', true, false],
        ['a.lock', true, false],
      ],
    ],
    [
      'git.tag',
      git.tag!,
      (v) => ({ url: 'file:///r', git: { tag: v } }),
      [
        ['v1.0.0', true, true],
        ['-x', false, false],
        ['', false, false],
        ['a~1', true, false],
      ],
    ],
    [
      'git.semver',
      git.semver!,
      (v) => ({ url: 'file:///r', git: { semver: v } }),
      [
        ['>=1.0.0 <2.0.0', true, true],
        ['^1.2', true, true],
        ['', false, false],
        ['>>1', true, false],
      ],
    ],
    [
      'serviceAccountName',
      spec.serviceAccountName!,
      (v) => ({ url: 'file:///r', serviceAccountName: v }),
      [
        ['deployer', true, true],
        ['team.deployer-1', true, true],
        ['Deployer', false, false],
        ['a:b', false, false],
        ['a\nb', false, false],
        ['a'.repeat(254), false, false],
      ],
    ],
    [
      'targetNamespace',
      spec.targetNamespace!,
      (v) => ({ url: 'file:///r', targetNamespace: v }),
      [
        ['apps', true, true],
        ['a-b', true, true],
        ['Apps', false, false],
        ['a'.repeat(64), false, false],
      ],
    ],
    [
      'syncPolicy.windows[].schedule',
      window.schedule!,
      (v) => windowSpec({ schedule: v }),
      [
        ['0 22 * * 1-5', true, true],
        ['@daily', true, true],
        ['*/15 9-17 * JAN-MAR MON', true, true],
        ['30 * * * * *', false, false],
        ['', false, false],
        ['every day', false, false],
        ['61 * * * *', true, false],
        ['a b c d e', true, false],
      ],
    ],
    [
      'syncPolicy.windows[].duration',
      window.duration!,
      (v) => windowSpec({ duration: v }),
      [
        ['1h', true, true],
        ['8760h', true, true],
        ['0', false, false],
        ['an hour', false, false],
        ['0s', true, false],
        ['10000h', true, false],
      ],
    ],
    [
      'syncPolicy.windows[].timeZone',
      window.timeZone!,
      (v) => windowSpec({ timeZone: v }),
      [
        ['Europe/Berlin', true, true],
        ['UTC', true, true],
        ['Europe Berlin', false, false],
        ['Nowhere/Here', true, false],
      ],
    ],
  ];
  for (const [field, schema, build, values] of cases) {
    for (const [value, crd, reader] of values) {
      const label = `${field} ${JSON.stringify(value)}`;
      assert.equal(admits(schema, value), crd, `CRD on ${label}`);
      assert.equal(validateContinuousDeploymentSpec(build(value)).ok, reader, `reader on ${label}`);
    }
  }
});

/**
 * Issue 21: the API server refuses a long duration string, and the description names the maximum
 * the reader holds each interval and timeout to (a pattern cannot compare durations).
 */
test('intervals and timeouts: a short maxLength, and the maximum the reader enforces in the description', () => {
  const fields: [Crd, string, number][] = [
    [deployments, 'pullInterval', MAX_INTERVAL_MS],
    [repositories, 'interval', MAX_INTERVAL_MS],
    [automations, 'interval', MAX_INTERVAL_MS],
    [deployments, 'timeout', MAX_TIMEOUT_MS],
    [repositories, 'timeout', MAX_SCAN_TIMEOUT_MS],
  ];
  for (const [crd, field, max] of fields) {
    const schema = specSchema(crd).properties![field]!;
    const label = `${crd.spec.names.kind} spec.${field}`;
    assert.equal(schema.maxLength, 32, label);
    assert.match(schema.description ?? '', new RegExp(`at most ${formatDuration(max)}\\)`), label);
  }
});

type Reader = (spec: Record<string, unknown>) => Validated<unknown>;

/** Object schemas under spec, as paths of keys (`[]` for a list's items), with their schemas. */
function objectPaths(schema: Schema, path: string[] = []): [string[], Schema][] {
  const found: [string[], Schema][] = [];
  if (schema.type === 'object' && schema.properties) found.push([path, schema]);
  if (schema['x-kubernetes-preserve-unknown-fields']) return found;
  for (const [name, child] of Object.entries(schema.properties ?? {})) found.push(...objectPaths(child, [...path, name]));
  if (schema.items) found.push(...objectPaths(schema.items, [...path, '[]']));
  return found;
}

/** A spec with `leaf` at `path`, every level on the way an object (or a one-item list). */
function specAt(path: string[], leaf: Record<string, unknown>): Record<string, unknown> {
  let value: unknown = leaf;
  for (let i = path.length - 1; i >= 0; i--) value = path[i] === '[]' ? [value] : { [path[i]!]: value };
  return value as Record<string, unknown>;
}

function fieldPath(path: string[], field: string): string {
  return ['spec', ...path, field].join('.').replace(/\.\[\]/g, '[0]');
}

const READERS: [Crd, Reader, string[][]][] = [
  [deployments, (spec) => validateContinuousDeploymentSpec(spec), []],
  [repositories, (spec) => validateImageRepositorySpec(spec, plainCompilers), []],
  // The policy kinds are the image updater's to read (its compiler checks them).
  [policies, (spec) => validateImagePolicySpec(spec, 'apps', plainCompilers), [['policy']]],
  [automations, (spec) => validateImageUpdateAutomationSpec(spec), []],
  [receivers, (spec) => validateReceiverSpec(spec, 'apps'), []],
];

for (const [crd, read, skipped] of READERS) {
  test(`${crd.spec.names.kind}: the reader knows every field the CRD declares and reports any other`, () => {
    const skip = (path: string[]) => skipped.some((s) => s.every((part, i) => path[i] === part));
    let checked = 0;
    for (const [path, schema] of objectPaths(specSchema(crd))) {
      if (skip(path)) continue;
      const messages = (spec: Record<string, unknown>) => {
        const result = read(spec);
        return result.ok ? [] : result.errors.map((e) => e.message);
      };
      const known = Object.fromEntries(Object.keys(schema.properties!).map((name) => [name, null]));
      const unknown = messages(specAt(path, known)).filter((m) => m.includes('unknown field'));
      assert.deepEqual(unknown, [], `${fieldPath(path, '*')}: the reader refuses fields the CRD declares`);
      if (schema['x-kubernetes-preserve-unknown-fields']) continue;
      const typo = fieldPath(path, 'zzTypo');
      assert.ok(messages(specAt(path, { zzTypo: 1 })).includes(`${typo}: unknown field`), `${typo} is not reported as an unknown field`);
      checked++;
    }
    assert.ok(checked > 0);
  });
}

test('the inline image block knows every field the CRD declares for it', () => {
  const block = specSchema(deployments).properties!.imageRepository!;
  for (const name of Object.keys(block.properties!)) assert.ok(INLINE_IMAGE_FIELDS.includes(name), name);
});

test('Receiver: the CRD and the reader agree on types, kinds and list limits', () => {
  const spec = specSchema(receivers).properties!;
  assert.deepEqual(spec.type!.enum, [...RECEIVER_TYPES]);
  assert.deepEqual(spec.resources!.items!.properties!.kind!.enum, [...RECEIVER_TARGET_KINDS]);
  assert.equal(spec.resources!.maxItems, MAX_RECEIVER_RESOURCES);
  assert.equal(spec.events!.maxItems, MAX_RECEIVER_EVENTS);
  assert.deepEqual(specSchema(receivers).required, ['type', 'secretRef', 'resources']);
  assert.deepEqual(columns(receivers), [
    'Type=.spec.type',
    'Ready=.status.conditions[?(@.type=="Ready")].status',
    'Age=.metadata.creationTimestamp',
  ]);
});
