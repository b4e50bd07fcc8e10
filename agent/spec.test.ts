import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContinuousDeployment } from '../shared/api/continuous-deployment.ts';
import { readSpec } from './spec.ts';

const cd = (spec: Record<string, unknown>): ContinuousDeployment => ({
  apiVersion: 'tidemark.dev/v1alpha1',
  kind: 'ContinuousDeployment',
  metadata: { name: 'x', namespace: 'default' },
  spec: spec as never,
});

test('the seed properties block reads with defaults', () => {
  const config = readSpec(
    cd({
      repoType: 'git',
      url: 'https://git.example.com/org/config',
      secretRef: 'git-secret',
      pullInterval: '10m',
      git: { branch: 'infra' },
      path: './infrastructure',
      prune: true,
    }),
  );
  assert.equal(config.intervalMs, 600_000);
  assert.deepEqual(config.ref, { kind: 'branch', value: 'infra' });
  assert.equal(config.path, './infrastructure');
  assert.equal(config.policy.propagation, 'background');
  assert.equal(config.policy.selfHeal, true);
});

test('defaults: branch main, path ./, interval 5m, prune on', () => {
  const config = readSpec(cd({ url: 'file:///repo' }));
  assert.deepEqual(config.ref, { kind: 'branch', value: 'main' });
  assert.equal(config.path, './');
  assert.equal(config.intervalMs, 300_000);
  assert.equal(config.prune, true);
});

for (const [name, spec, code] of [
  ['repoType other than git', { repoType: 'helm', url: 'x' }, 'InvalidSpec'],
  ['missing url', {}, 'InvalidSpec'],
  ['option-like url', { url: '--upload-pack=evil' }, 'InvalidSpec'],
  ['option-like branch', { url: 'x', git: { branch: '-x' } }, 'InvalidSpec'],
  ['two refs', { url: 'x', git: { branch: 'main', tag: 'v1' } }, 'InvalidSpec'],
  ['bad duration', { url: 'x', pullInterval: 'ten minutes' }, 'InvalidDuration'],
  ['bad propagation', { url: 'x', syncPolicy: { prunePropagationPolicy: 'sideways' } }, 'InvalidSpec'],
] as const) {
  test(`refused: ${name}`, () => {
    assert.throws(
      () => readSpec(cd(spec as Record<string, unknown>)),
      (err: Error & { code?: string; kind?: string }) => err.code === code && err.kind === 'terminal',
    );
  });
}
