import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import type { ContinuousDeployment } from '../shared/api/continuous-deployment.ts';
import { decide } from './policy/index.ts';
import { readImagePolicySpec, readImageRepositorySpec, readInlineImageObjects, type Validated } from './specs.ts';

function fixture(name: string): unknown {
  return yaml.load(readFileSync(new URL(`../shared/spec/fixtures/${name}`, import.meta.url), 'utf8'));
}

function ok<T>(result: Validated<T> | undefined): T {
  assert.ok(result, 'expected a result');
  if (!result.ok) assert.fail(result.errors.map((e) => `${e.code}: ${e.message}`).join('\n'));
  return result.value;
}

function problems<T>(result: Validated<T> | undefined): string[] {
  assert.ok(result, 'expected a result');
  assert.equal(result.ok, false, 'expected validation errors');
  if (result.ok) return [];
  for (const err of result.errors) assert.equal(err.kind, 'terminal');
  return result.errors.map((e) => `${e.code} ${e.message}`);
}

function assertHas(list: string[], pattern: RegExp) {
  assert.ok(
    list.some((line) => pattern.test(line)),
    `no problem matching ${pattern} in:\n${list.join('\n')}`,
  );
}

test('ImageRepository: a minimal spec gets Flux defaults', () => {
  const config = ok(readImageRepositorySpec({ image: 'nginx' }));
  assert.equal(config.image, 'nginx');
  assert.equal(config.intervalMs, 5 * 60_000);
  assert.equal(config.timeoutMs, 5 * 60_000);
  assert.equal(config.secretRef, undefined);
  assert.equal(config.insecure, false);
  assert.equal(config.suspend, false);
  assert.deepEqual(config.exclusionList.patterns, ['^.*\\.sig$']);
  assert.equal(config.exclusionList.excludes('sha256-abc.sig'), true);
});

test('ImageRepository: every field read', () => {
  const config = ok(readImageRepositorySpec(fixture('image-repository-full.yaml')));
  assert.deepEqual(
    { ...config, exclusionList: config.exclusionList.patterns },
    {
      image: 'registry.example.com:5000/team/app',
      intervalMs: 600_000,
      timeoutMs: 90_000,
      secretRef: 'registry-credentials',
      certSecretRef: 'registry-ca',
      insecure: false,
      suspend: true,
      exclusionList: ['^.*\\.sig$', '^.*\\.att$', '-debug$'],
      accessFrom: { namespaceSelectors: [{ matchLabels: { team: 'a' } }, { matchLabels: {} }] },
    },
  );
});

test('ImageRepository: all problems reported at once, each naming its field', () => {
  const list = problems(readImageRepositorySpec(fixture('image-repository-broken.yaml')));
  assertHas(list, /^InvalidSpec spec\.image: .*must not include a tag \(":1\.2\.3"\)/);
  assertHas(list, /^InvalidDuration spec\.interval: invalid duration "5 minutes"/);
  assertHas(list, /^InvalidSpec spec\.timeout: "500ms" is shorter than 1s/);
  assertHas(list, /^InvalidSpec spec\.secretRef: must be an object \{name: <secret>\}/);
  assertHas(list, /^InvalidSpec spec\.certSecretRef\.name: "Registry_CA" is not a valid name/);
  assertHas(list, /^InvalidSpec spec\.insecure: must be true or false/);
  assertHas(list, /^InvalidExclusionPattern spec\.exclusionList\[0\] "\(unclosed" is not a valid RE2 pattern: missing \)/);
  assertHas(list, /^InvalidSpec spec\.suspended: unknown field/);
  assert.equal(list.length, 8);
});

test('ImageRepository: required image, list limits', () => {
  assertHas(problems(readImageRepositorySpec({})), /spec\.image: is required/);
  assertHas(problems(readImageRepositorySpec('nginx')), /^InvalidSpec spec: must be an object/);
  assertHas(problems(readImageRepositorySpec({ image: 'a', exclusionList: Array(26).fill('x') })), /at most 25/);
  assertHas(problems(readImageRepositorySpec({ image: 'a', exclusionList: '^x$' })), /must be a list of patterns/);
  assertHas(
    problems(readImageRepositorySpec({ image: 'a', accessFrom: { namespaceSelectors: 'team=a' } })),
    /spec\.accessFrom\.namespaceSelectors: must be a list/,
  );
  assertHas(
    problems(readImageRepositorySpec({ image: 'a', accessFrom: { namespaceSelectors: [{ matchLabels: { team: 1 } }] } })),
    /spec\.accessFrom\.namespaceSelectors\[0\]\.matchLabels: must map label names to string values/,
  );
  assertHas(
    problems(readImageRepositorySpec({ image: 'a', accessFrom: { namespaceSelectors: Array(33).fill({}) } })),
    /accessFrom\.namespaceSelectors: has 33 entries; at most 32/,
  );
  assertHas(problems(readImageRepositorySpec({ image: 'a', exclusionList: ['ok', ''] })), /exclusionList\[1\]: must be a non-empty/);
  // An explicit empty list excludes nothing.
  assert.deepEqual(ok(readImageRepositorySpec({ image: 'a', exclusionList: [] })).exclusionList.patterns, []);
});

test('ImagePolicy: filter and policy compiled, defaults applied', () => {
  const config = ok(readImagePolicySpec(fixture('image-policy-semver.yaml'), 'apps'));
  assert.deepEqual(config.imageRepositoryRef, { name: 'podinfo', namespace: 'apps' });
  assert.equal(config.digestReflectionPolicy, 'IfNotPresent');
  assert.equal(config.policy.kind, 'semver');
  const decision = decide(['v6.5.0', 'v6.12.1', 'v7.0.0-rc.1', 'v7.0.1-rc.1', 'v7.1.0', 'latest'], {
    filterTags: config.filterTags,
    policy: config.policy,
  });
  assert.deepEqual(decision, { tag: 'v7.0.1-rc.1', value: '7.0.1-rc.1', candidates: 5 });

  const minimal = ok(
    readImagePolicySpec({ imageRepositoryRef: { name: 'app', namespace: 'other' }, policy: { alphabetical: {} } }, 'apps'),
  );
  assert.deepEqual(minimal.imageRepositoryRef, { name: 'app', namespace: 'other' });
  assert.equal(minimal.digestReflectionPolicy, 'Never');
  assert.equal(minimal.filterTags.pattern, '');
});

test('ImagePolicy under lockdown: another namespace in imageRepositoryRef is a spec problem at its field', () => {
  const spec = { imageRepositoryRef: { name: 'app', namespace: 'other' }, policy: { alphabetical: {} } };
  assertHas(
    problems(readImagePolicySpec(spec, 'apps', { noCrossNamespaceRefs: true })),
    /spec\.imageRepositoryRef\.namespace: "other" is another namespace/,
  );
  ok(readImagePolicySpec({ ...spec, imageRepositoryRef: { name: 'app', namespace: 'apps' } }, 'apps', { noCrossNamespaceRefs: true }));
  ok(readImagePolicySpec({ ...spec, imageRepositoryRef: { name: 'app' } }, 'apps', { noCrossNamespaceRefs: true }));
});

test('ImagePolicy: all problems at once, with codes that say what to fix', () => {
  const list = problems(readImagePolicySpec(fixture('image-policy-broken.yaml'), 'apps'));
  assertHas(list, /^InvalidSpec spec\.imageRepositoryRef\.name: "Podinfo" is not a valid name/);
  assertHas(list, /^InvalidSpec spec\.imageRepositoryRef\.namespace: "under_score" is not a valid namespace/);
  assertHas(list, /^InvalidSpec spec\.filterTags\.anchor: unknown field/);
  assertHas(list, /^InvalidFilterPattern spec\.filterTags\.pattern "\^v\(\?P<version>\[0-9\.\]\+" is not a valid RE2 pattern: missing \)/);
  assertHas(list, /^InvalidPolicy spec\.policy sets semver and numerical; set exactly one/);
  assertHas(list, /^InvalidSpec spec\.digestReflectionPolicy: "Sometimes" is not one of Never, IfNotPresent, Always/);
  assert.equal(list.length, 6);

  assertHas(problems(readImagePolicySpec({ imageRepositoryRef: { name: 'a' } }, 'apps')), /^InvalidPolicy spec\.policy: is required/);
  assertHas(problems(readImagePolicySpec({ policy: { numerical: {} } }, 'apps')), /spec\.imageRepositoryRef: is required/);
  assertHas(
    problems(readImagePolicySpec({ imageRepositoryRef: { name: 'a' }, policy: { semver: { range: '1.2.3.4' } } }, 'apps')),
    /^InvalidSemverRange spec\.policy\.semver\.range "1\.2\.3\.4" is not a valid range/,
  );
  assertHas(
    problems(readImagePolicySpec({ imageRepositoryRef: { name: 'a' }, policy: { latest: {} } }, 'apps')),
    /^InvalidPolicy spec\.policy has unknown kind "latest"/,
  );
});

test('inline block: the seed declares an ImageRepository + ImagePolicy pair named after the ContinuousDeployment', () => {
  const cd = fixture('seed-continuous-deployment.yaml') as ContinuousDeployment;
  const derived = ok(readInlineImageObjects(cd));
  const metadata = {
    name: 'image-gitops',
    namespace: 'default',
    annotations: { 'tidemark.dev/owned-by': 'default/image-gitops' },
  };
  assert.deepEqual(derived.imageRepository, {
    apiVersion: 'tidemark.dev/v1alpha1',
    kind: 'ImageRepository',
    metadata,
    // The seed's pullInterval (1m), not a fixed 5m: a new tag reaches Git within one pull interval.
    spec: { image: 'registry.example.com/team/app', interval: '1m', secretRef: { name: 'image-pull' } },
  });
  assert.equal(derived.repository.intervalMs, 60_000);
  assert.deepEqual(derived.imagePolicy, {
    apiVersion: 'tidemark.dev/v1alpha1',
    kind: 'ImagePolicy',
    metadata,
    spec: {
      imageRepositoryRef: { name: 'image-gitops' },
      filterTags: { pattern: '^master-[a-f0-9]+-(?P<ts>[0-9]+)', extract: '$ts' },
      policy: { numerical: { order: 'asc' } },
    },
  });
  assert.equal(derived.commitMessage, 'Image: {{range .Updated.Images}}{{println .}}{{end}}');
  assert.equal(derived.repository.secretRef, 'image-pull');
  assert.deepEqual(derived.policy.imageRepositoryRef, { name: 'image-gitops', namespace: 'default' });

  // The derived configuration decides the seed case.
  const decision = decide(['master-1a2b3c4-1700000100', 'master-9f8e7d6-1700000200', 'master-9f8e7d6-1700000200.sig', 'latest'], {
    filterTags: derived.policy.filterTags,
    exclusionList: derived.repository.exclusionList,
    policy: derived.policy.policy,
  });
  assert.deepEqual(decision, { tag: 'master-9f8e7d6-1700000200', value: '1700000200', candidates: 2 });

  // The derived specs pass the standalone validators too.
  ok(readImageRepositorySpec(derived.imageRepository.spec));
  ok(readImagePolicySpec(derived.imagePolicy.spec, 'default'));
});

test('inline block: errors name the inline fields', () => {
  const seed = fixture('seed-continuous-deployment.yaml') as ContinuousDeployment;
  const withBlock = (block: unknown): ContinuousDeployment =>
    ({ ...seed, spec: { ...seed.spec, imageRepository: block } }) as ContinuousDeployment;

  const list = problems(
    readInlineImageObjects(
      withBlock({
        image: 'registry.example.com/team/app:latest',
        secretRef: { name: 'image-pull' },
        filterTags: { pattern: '^master-(?P<ts>[0-9]+)', extract: '$tsx' },
        policy: { numerical: { order: 'newest' } },
        interval: '0s',
        commitMesage: 'typo',
      }),
    ),
  );
  assertHas(list, /^InvalidSpec spec\.imageRepository\.image: .*must not include a tag/);
  assertHas(list, /^InvalidSpec spec\.imageRepository\.secretRef: must be a string, not an object/);
  assertHas(list, /^InvalidFilterExtract spec\.imageRepository\.filterTags\.extract "\$tsx" refers to \$tsx/);
  assertHas(list, /^InvalidPolicy spec\.imageRepository\.policy\.numerical\.order "newest" is not asc or desc/);
  assertHas(list, /^InvalidSpec spec\.imageRepository\.interval: "0s" is shorter than 1s/);
  assertHas(list, /^InvalidSpec spec\.imageRepository\.commitMesage: unknown field/);
  assert.equal(list.length, 6);

  assertHas(problems(readInlineImageObjects(withBlock({ image: 'app' }))), /^InvalidPolicy spec\.imageRepository\.policy: is required/);
  assertHas(problems(readInlineImageObjects(withBlock('app'))), /^InvalidSpec spec\.imageRepository: must be an object/);
  assertHas(
    problems(readInlineImageObjects(withBlock({ policy: { semver: { range: '*' } } }))),
    /spec\.imageRepository\.image: is required/,
  );
});

test('inline block: optional ImageRepository settings carry over; absent block yields nothing', () => {
  const seed = fixture('seed-continuous-deployment.yaml') as ContinuousDeployment;
  const derived = ok(
    readInlineImageObjects({
      ...seed,
      spec: {
        ...seed.spec,
        imageRepository: {
          image: 'localhost:5000/app',
          insecure: true,
          interval: '30s',
          exclusionList: [],
          policy: { semver: { range: '^1' } },
          digestReflectionPolicy: 'Always',
        },
      },
    }),
  );
  assert.deepEqual(derived.imageRepository.spec, {
    image: 'localhost:5000/app',
    interval: '30s',
    insecure: true,
    exclusionList: [],
  });
  assert.equal(derived.repository.intervalMs, 30_000);
  assert.equal(derived.policy.digestReflectionPolicy, 'Always');

  const rest = { ...seed.spec };
  delete rest.imageRepository;
  assert.equal(readInlineImageObjects({ ...seed, spec: rest }), undefined);
});

test('inline block: the scan interval follows pullInterval unless the block sets its own; a bad pullInterval is named as such', () => {
  const seed = fixture('seed-continuous-deployment.yaml') as ContinuousDeployment;
  const withSpec = (spec: Record<string, unknown>): ContinuousDeployment => ({ ...seed, spec: { ...seed.spec, ...spec } });
  const block = seed.spec.imageRepository as Record<string, unknown>;

  assert.equal(ok(readInlineImageObjects(withSpec({ pullInterval: '10s' }))).imageRepository.spec.interval, '10s');
  assert.equal(ok(readInlineImageObjects(withSpec({ pullInterval: '10s' }))).repository.intervalMs, 10_000);
  const unset = { ...seed.spec };
  delete unset.pullInterval;
  assert.equal(ok(readInlineImageObjects({ ...seed, spec: unset })).imageRepository.spec.interval, '5m', "pullInterval's own default");
  const own = ok(readInlineImageObjects(withSpec({ pullInterval: '10m', imageRepository: { ...block, interval: '30s' } })));
  assert.equal(own.imageRepository.spec.interval, '30s', "the block's interval wins");

  const bad = problems(readInlineImageObjects(withSpec({ pullInterval: 'soon' })));
  assertHas(bad, /^InvalidDuration spec\.pullInterval: invalid duration "soon"/);
  assert.ok(!bad.some((p) => p.includes('spec.imageRepository.interval')), bad.join('\n'));
  assertHas(
    problems(readInlineImageObjects(withSpec({ pullInterval: '10m', imageRepository: { ...block, interval: 'soon' } }))),
    /^InvalidDuration spec\.imageRepository\.interval: invalid duration "soon"/,
  );
});
