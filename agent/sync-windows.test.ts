import { test } from 'node:test';
import assert from 'node:assert/strict';
import { syncWindowState } from './sync-windows.ts';

const at = (iso: string) => Date.parse(iso);

test('no windows: never blocked', () => {
  assert.equal(syncWindowState([], at('2026-01-01T12:00:00Z'), false).blocked, false);
});

test('an allow window opens for its duration after each firing', () => {
  const windows = [{ kind: 'allow' as const, schedule: '0 22 * * *', duration: '1h' }];
  assert.equal(syncWindowState(windows, at('2026-01-01T22:30:00Z'), false).blocked, false);
  const outside = syncWindowState(windows, at('2026-01-01T23:30:00Z'), false);
  assert.equal(outside.blocked, true);
  assert.equal(outside.until, '2026-01-02T22:00:00Z');
});

test('a deny window blocks automatic syncs; manualSync lets a requested sync through', () => {
  const windows = [{ kind: 'deny' as const, schedule: '0 9 * * 1-5', duration: '8h', manualSync: true }];
  const monday = at('2026-01-05T10:00:00Z');
  const auto = syncWindowState(windows, monday, false);
  assert.equal(auto.blocked, true);
  assert.equal(auto.until, '2026-01-05T17:00:00Z');
  assert.equal(syncWindowState(windows, monday, true).blocked, false);
  assert.equal(syncWindowState(windows, at('2026-01-03T10:00:00Z'), false).blocked, false); // Saturday
});

test('deny wins over allow', () => {
  const windows = [
    { kind: 'allow' as const, schedule: '* * * * *', duration: '1h' },
    { kind: 'deny' as const, schedule: '0 12 * * *', duration: '30m' },
  ];
  assert.equal(syncWindowState(windows, at('2026-01-01T12:10:00Z'), false).blocked, true);
  assert.equal(syncWindowState(windows, at('2026-01-01T12:40:00Z'), false).blocked, false);
});

test('time zones shift the schedule', () => {
  const windows = [{ kind: 'allow' as const, schedule: '0 9 * * *', duration: '1h', timeZone: 'America/New_York' }];
  assert.equal(syncWindowState(windows, at('2026-01-01T14:30:00Z'), false).blocked, false);
  assert.equal(syncWindowState(windows, at('2026-01-01T09:30:00Z'), false).blocked, true);
});

test('an invalid schedule is a terminal error', () => {
  assert.throws(
    () => syncWindowState([{ kind: 'allow', schedule: 'every day', duration: '1h' }], 0, false),
    (err: Error & { code?: string }) => err.code === 'InvalidSyncWindow',
  );
});
