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

test('sync windows are parsed when the spec is read', () => {
  const config = readSpec(
    cd({
      url: 'x',
      syncPolicy: { windows: [{ kind: 'deny', schedule: '0 22 * * 1-5', duration: '8h', timeZone: 'Europe/Berlin', manualSync: true }] },
    }),
  );
  const [window] = config.policy.windows;
  assert.equal(window?.durationMs, 8 * 3_600_000);
  assert.equal(window?.schedule.zone.name, 'Europe/Berlin');
  assert.equal(window?.window.manualSync, true);
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
  [
    'a seconds field in a sync window',
    { url: 'x', syncPolicy: { windows: [{ kind: 'deny', schedule: '30 * * * * *', duration: '1h' }] } },
    'InvalidSyncWindow',
  ],
  [
    'a sync window over a year',
    { url: 'x', syncPolicy: { windows: [{ kind: 'deny', schedule: '0 0 * * *', duration: '10000h' }] } },
    'InvalidSyncWindow',
  ],
  [
    'a sync window in an unknown time zone',
    { url: 'x', syncPolicy: { windows: [{ kind: 'allow', schedule: '0 0 * * *', duration: '1h', timeZone: 'Nowhere/Here' }] } },
    'InvalidSyncWindow',
  ],
  ['windows that are no list', { url: 'x', syncPolicy: { windows: { kind: 'deny' } } }, 'InvalidSpec'],
] as const) {
  test(`refused: ${name}`, () => {
    assert.throws(
      () => readSpec(cd(spec as Record<string, unknown>)),
      (err: Error & { code?: string; kind?: string }) => err.code === code && err.kind === 'terminal',
    );
  });
}
