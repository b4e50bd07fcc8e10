import { test } from 'node:test';
import assert from 'node:assert/strict';
import { terminal } from '../errors/index.ts';
import type { ContinuousDeployment } from '../api/continuous-deployment.ts';
import {
  inlineToImageObjects,
  plainCompilers,
  validateImagePolicySpec,
  validateImageRepositorySpec,
  type ImageCompilers,
  type PlainForms,
  type Validated,
} from './index.ts';

function ok<T>(result: Validated<T> | undefined): T {
  assert.ok(result, 'expected a result');
  if (!result.ok) assert.fail(result.errors.map((e) => `${e.code}: ${e.message}`).join('\n'));
  return result.value;
}

function messages<T>(result: Validated<T> | undefined): string[] {
  assert.ok(result && !result.ok, 'expected problems');
  return result.ok ? [] : result.errors.map((e) => `${e.code} ${e.message}`);
}

/** Compilers that record what they were given and refuse the value "bad" the way the updater's do. */
function spying(): { compilers: ImageCompilers<PlainForms>; seen: unknown[] } {
  const seen: unknown[] = [];
  return {
    seen,
    compilers: {
      exclusionList(patterns) {
        seen.push(['exclusionList', patterns]);
        const bad = (patterns ?? []).indexOf('bad');
        if (bad >= 0) throw terminal('InvalidExclusionPattern', `exclusionList[${bad}] "bad" is not a valid RE2 pattern`);
        return plainCompilers.exclusionList(patterns);
      },
      filterTags(spec) {
        seen.push(['filterTags', spec]);
        if (spec?.pattern === 'bad') throw terminal('InvalidFilterPattern', 'filterTags.pattern "bad" is not a valid RE2 pattern');
        return plainCompilers.filterTags(spec);
      },
      policy(choice) {
        seen.push(['policy', choice]);
        if ('bad' in choice) throw terminal('InvalidPolicy', 'policy has unknown kind "bad"');
        return choice;
      },
    },
  };
}

test('ImageRepository: shape checked here, the exclusion list handed to the compiler (default list when unset)', () => {
  const { compilers, seen } = spying();
  assert.deepEqual(ok(validateImageRepositorySpec({ image: 'nginx' }, compilers)), {
    image: 'nginx',
    intervalMs: 300_000,
    timeoutMs: 300_000,
    secretRef: undefined,
    certSecretRef: undefined,
    insecure: false,
    suspend: false,
    exclusionList: ['^.*\\.sig$'],
    accessFrom: undefined,
  });
  assert.deepEqual(seen, [['exclusionList', undefined]]);
});

test("ImageRepository: a compiler's refusal is one problem among the others", () => {
  const { compilers } = spying();
  assert.deepEqual(messages(validateImageRepositorySpec({ image: 'Nginx', exclusionList: ['ok', 'bad'], interval: 'x' }, compilers)), [
    'InvalidSpec spec.image: "Nginx" is not a valid image repository ' +
      '(lowercase path components separated by "/", optionally behind a registry host[:port])',
    'InvalidDuration spec.interval: invalid duration "x"',
    'InvalidExclusionPattern spec.exclusionList[1] "bad" is not a valid RE2 pattern',
  ]);
});

test('ImagePolicy: the filter and the policy handed to the compilers; their refusals reported with the rest', () => {
  const { compilers, seen } = spying();
  const config = ok(
    validateImagePolicySpec(
      { imageRepositoryRef: { name: 'app' }, filterTags: { pattern: '^v(.*)$', extract: '$1' }, policy: { semver: { range: '^1' } } },
      'apps',
      compilers,
    ),
  );
  assert.deepEqual(config, {
    imageRepositoryRef: { name: 'app', namespace: 'apps' },
    filterTags: { pattern: '^v(.*)$', extract: '$1' },
    policy: { semver: { range: '^1' } },
    digestReflectionPolicy: 'Never',
  });
  assert.deepEqual(seen, [
    ['filterTags', { pattern: '^v(.*)$', extract: '$1' }],
    ['policy', { semver: { range: '^1' } }],
  ]);
  assert.deepEqual(
    messages(
      validateImagePolicySpec(
        { imageRepositoryRef: { name: 'app' }, filterTags: { pattern: 'bad' }, policy: { bad: {} } },
        'apps',
        compilers,
      ),
    ),
    ['InvalidFilterPattern spec.filterTags.pattern "bad" is not a valid RE2 pattern', 'InvalidPolicy spec.policy has unknown kind "bad"'],
  );
  assert.deepEqual(messages(validateImagePolicySpec({ imageRepositoryRef: { name: 'app' }, policy: 'semver' }, 'apps', compilers)), [
    'InvalidPolicy spec.policy: must be an object, not string "semver"',
  ]);
});

test('inline block: the same readers, errors naming the inline fields', () => {
  const cd = (block: unknown): ContinuousDeployment => ({
    apiVersion: 'tidemark.dev/v1alpha1',
    kind: 'ContinuousDeployment',
    metadata: { name: 'app', namespace: 'team' },
    spec: { url: 'file:///r', imageRepository: block as never },
  });
  const derived = ok(inlineToImageObjects(cd({ image: 'ghcr.io/org/app', secretRef: 'pull', policy: { numerical: {} } }), plainCompilers));
  assert.equal(derived.repository.secretRef, 'pull');
  assert.deepEqual(derived.policy.imageRepositoryRef, { name: 'app', namespace: 'team' });
  assert.deepEqual(derived.imageRepository.spec, { image: 'ghcr.io/org/app', interval: '5m', secretRef: { name: 'pull' } });

  const { compilers } = spying();
  assert.deepEqual(
    messages(inlineToImageObjects(cd({ image: 'app', secretRef: 'Pull', filterTags: { pattern: 'bad' }, policy: {} }), compilers)),
    [
      "InvalidSpec spec.imageRepository.secretRef: \"Pull\" is not a valid name (lowercase letters, digits, '-' and '.')",
      'InvalidFilterPattern spec.imageRepository.filterTags.pattern "bad" is not a valid RE2 pattern',
    ],
  );
  assert.equal(inlineToImageObjects(cd(undefined), plainCompilers), undefined);
});
