import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_WINDOWS, validateContinuousDeploymentSpec, validateSyncWindows } from './index.ts';

function problems(windows: unknown): string[] {
  const read = validateSyncWindows(windows);
  assert.equal(read.ok, false, 'expected problems');
  return read.ok ? [] : read.errors.map((e) => `${e.code} ${e.message}`);
}

test('windows are parsed when the spec is read: schedule in its zone, duration, the window as written', () => {
  const read = validateContinuousDeploymentSpec({
    url: 'file:///r',
    syncPolicy: { windows: [{ kind: 'deny', schedule: '0 22 * * 1-5', duration: '8h', timeZone: 'Europe/Berlin', manualSync: true }] },
  });
  assert.ok(read.ok);
  const [window] = read.value.policy.windows;
  assert.equal(window?.durationMs, 8 * 3_600_000);
  assert.equal(window?.schedule.zone.name, 'Europe/Berlin');
  assert.deepEqual(window?.window, { kind: 'deny', schedule: '0 22 * * 1-5', duration: '8h', manualSync: true, timeZone: 'Europe/Berlin' });
  const plain = validateSyncWindows([{ kind: 'allow', schedule: '@daily', duration: '1h' }]);
  assert.ok(plain.ok);
  assert.deepEqual(plain.value[0]?.window, { kind: 'allow', schedule: '@daily', duration: '1h' });
  assert.equal(plain.value[0]?.schedule.zone.name, 'UTC');
});

test('a six-field (seconds) schedule is refused, not accepted as a window that never opens', () => {
  assert.deepEqual(problems([{ kind: 'deny', schedule: '30 * * * * *', duration: '1h' }]), [
    'InvalidSyncWindow spec.syncPolicy.windows[0].schedule: cron schedule "30 * * * * *" is not valid: ' +
      'it has six fields; a seconds field is not supported (sync windows open at whole minutes)',
  ]);
});

for (const [name, window, pattern] of [
  [
    'a schedule that is no cron expression',
    { kind: 'allow', schedule: 'every day', duration: '1h' },
    /windows\[0\]\.schedule: cron schedule "every day" is not valid/,
  ],
  [
    'an unknown time zone',
    { kind: 'allow', schedule: '0 9 * * *', duration: '1h', timeZone: 'Europe/Atlantis' },
    /windows\[0\]\.timeZone: unknown time zone "Europe\/Atlantis"/,
  ],
  [
    'a duration that is no duration',
    { kind: 'allow', schedule: '0 9 * * *', duration: 'an hour' },
    /windows\[0\]\.duration: invalid duration "an hour"/,
  ],
  ['a zero duration', { kind: 'allow', schedule: '0 9 * * *', duration: '0' }, /windows\[0\]\.duration: "0" is not above zero/],
  ['a duration over a year', { kind: 'deny', schedule: '0 9 * * *', duration: '10000h' }, /"10000h" is longer than 8760h/],
  [
    'a kind other than allow or deny',
    { kind: 'maybe', schedule: '* * * * *', duration: '1h' },
    /windows\[0\]\.kind: "maybe" is not allow or deny/,
  ],
  ['a missing schedule', { kind: 'deny', duration: '1h' }, /windows\[0\]\.schedule: is required/],
  ['an empty schedule', { kind: 'deny', schedule: ' ', duration: '1h' }, /windows\[0\]\.schedule: must not be empty/],
  ['an unknown field', { kind: 'deny', schedule: '* * * * *', duration: '1h', timezone: 'UTC' }, /windows\[0\]\.timezone: unknown field/],
  ['a window that is no object', 'deny', /windows\[0\]: must be an object/],
] as const) {
  test(`refused: ${name}`, () => {
    const list = problems([window]);
    assert.equal(list.length, 1, list.join('\n'));
    assert.match(list[0] ?? '', /^InvalidSyncWindow /);
    assert.match(list[0] ?? '', pattern);
  });
}

test('every window problem at once, all InvalidSyncWindow; windows that are no list are InvalidSpec', () => {
  const list = problems([
    { kind: 'deny', schedule: '61 * * * *', duration: '1h', timeZone: 'Nowhere/Here' },
    { kind: 'allow', schedule: '0 0 * * *' },
  ]);
  assert.deepEqual(
    list.map((line) => line.replace(/: .*/, '')),
    [
      'InvalidSyncWindow spec.syncPolicy.windows[0].timeZone',
      'InvalidSyncWindow spec.syncPolicy.windows[0].schedule',
      'InvalidSyncWindow spec.syncPolicy.windows[1].duration',
    ],
  );
  assert.deepEqual(problems({ kind: 'deny' }), ['InvalidSpec spec.syncPolicy.windows: must be a list of windows, not an object']);
});

test('hundreds of windows are refused with one problem; the most allowed are read', () => {
  const window = { kind: 'deny', schedule: '* * * * *', duration: '8760h' };
  assert.deepEqual(problems(Array.from({ length: 500 }, () => window)), [
    `InvalidSyncWindow spec.syncPolicy.windows: has 500 windows; at most ${MAX_WINDOWS} are allowed`,
  ]);
  assert.equal(problems(Array.from({ length: MAX_WINDOWS + 1 }, () => window)).length, 1);
  const most = validateSyncWindows(Array.from({ length: MAX_WINDOWS }, () => window));
  assert.ok(most.ok);
  assert.equal(most.value.length, MAX_WINDOWS);
});
