import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateContinuousDeploymentSpec, type DeploymentConfig } from './index.ts';

const URL = 'https://git.example.com/org/config';

function read(extra: Record<string, unknown>): DeploymentConfig {
  const result = validateContinuousDeploymentSpec({ url: URL, ...extra });
  if (!result.ok) assert.fail(result.errors.map((e) => e.message).join('\n'));
  return result.value;
}

function problems(extra: Record<string, unknown>): string[] {
  const result = validateContinuousDeploymentSpec({ url: URL, ...extra });
  assert.equal(result.ok, false, 'expected problems');
  return result.ok ? [] : result.errors.map((e) => `${e.code} ${e.message}`);
}

test('postBuild and decryption: read with defaults; absent is undefined', () => {
  const config = read({
    postBuild: {
      substitute: { cluster_name: 'prod', REPLICAS: '3' },
      substituteFrom: [
        { kind: 'ConfigMap', name: 'vars' },
        { kind: 'Secret', name: 'secret-vars', optional: true },
      ],
    },
    decryption: { provider: 'sops', secretRef: { name: 'sops-keys' } },
  });
  assert.deepEqual(config.postBuild, {
    substitute: { cluster_name: 'prod', REPLICAS: '3' },
    substituteFrom: [
      { kind: 'ConfigMap', name: 'vars', optional: false },
      { kind: 'Secret', name: 'secret-vars', optional: true },
    ],
  });
  assert.deepEqual(config.decryption, { provider: 'sops', secretRef: 'sops-keys' });
  const plain = read({});
  assert.equal(plain.postBuild, undefined);
  assert.equal(plain.decryption, undefined);
});

test('postBuild and decryption: every problem at once, each with its field path', () => {
  const found = problems({
    postBuild: {
      substitute: { 'bad-name': 'x', n: 3 },
      substituteFrom: [
        { kind: 'Pod', name: 'x' },
        { kind: 'Secret' },
        { kind: 'ConfigMap', name: 'Bad_Name', optional: 'yes', namespace: 'other' },
        'x',
      ],
      extra: 1,
    },
    decryption: { provider: 'kms', secretRef: { name: '' } },
  });
  const expected = [
    /spec\.postBuild\.extra/,
    /spec\.postBuild\.substitute\.bad-name: "bad-name" is not a valid variable name/,
    /spec\.postBuild\.substitute\.n: must be a string/,
    /spec\.postBuild\.substituteFrom\[0\]\.kind: "Pod" is not one of ConfigMap, Secret/,
    /spec\.postBuild\.substituteFrom\[1\]\.name: is required/,
    /spec\.postBuild\.substituteFrom\[2\]\.name/,
    /spec\.postBuild\.substituteFrom\[2\]\.optional: must be true or false/,
    // No namespace field: sources are always in the deployment's namespace, as in Flux.
    /spec\.postBuild\.substituteFrom\[2\]\.namespace/,
    /spec\.postBuild\.substituteFrom\[3\]: must be an object/,
    /spec\.decryption\.provider: "kms" is not supported/,
    /spec\.decryption\.secretRef\.name/,
  ];
  for (const pattern of expected)
    assert.ok(
      found.some((p) => pattern.test(p)),
      `${pattern} in\n${found.join('\n')}`,
    );
  assert.ok(found.every((p) => p.startsWith('InvalidSpec ')));
});

test('decryption needs a secretRef; postBuild must be an object', () => {
  const found = problems({ decryption: { provider: 'sops' }, postBuild: 'x' });
  assert.ok(
    found.some((p) => /spec\.decryption\.secretRef: is required/.test(p)),
    found.join('\n'),
  );
  assert.ok(
    found.some((p) => /spec\.postBuild: must be an object/.test(p)),
    found.join('\n'),
  );
});
