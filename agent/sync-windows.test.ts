import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SyncWindow } from '../shared/api/continuous-deployment.ts';
import { MAX_WINDOWS, validateSyncWindows, type CompiledWindow } from '../shared/spec/index.ts';
import { syncWindowState } from './sync-windows.ts';

/** The windows as the spec reader hands them over (its refusals are tested in shared/spec). */
function compile(windows: SyncWindow[]): CompiledWindow[] {
  const read = validateSyncWindows(windows);
  if (!read.ok) throw new Error(read.errors.map((e) => e.message).join('; '));
  return read.value;
}

const at = (iso: string) => Date.parse(iso);
const state = (windows: SyncWindow[], iso: string, manual = false) => syncWindowState(compile(windows), at(iso), manual);
const allow = (schedule: string, duration: string, extra: Partial<SyncWindow> = {}): SyncWindow => ({
  kind: 'allow',
  schedule,
  duration,
  ...extra,
});
const deny = (schedule: string, duration: string, extra: Partial<SyncWindow> = {}): SyncWindow => ({
  kind: 'deny',
  schedule,
  duration,
  ...extra,
});

test('no windows: never blocked', () => {
  assert.deepEqual(syncWindowState([], at('2026-01-01T12:00:00Z'), false), { blocked: false, message: 'no sync windows', windows: 0 });
});

test('an allow window opens for its duration after each firing', () => {
  const windows = [allow('0 22 * * *', '1h')];
  assert.equal(state(windows, '2026-01-01T22:00:00Z').blocked, false, 'open at the firing');
  assert.equal(state(windows, '2026-01-01T22:59:59Z').blocked, false);
  const outside = state(windows, '2026-01-01T23:00:00Z');
  assert.equal(outside.blocked, true, 'closed when the duration has passed');
  assert.equal(outside.until, '2026-01-02T22:00:00Z');
  assert.equal(outside.message, 'outside every allow window; the next opens at 2026-01-02T22:00:00Z');
});

test('a deny window blocks automatic syncs until it closes; manualSync lets a requested sync through', () => {
  const windows = [deny('0 9 * * 1-5', '8h', { manualSync: true })];
  const monday = '2026-01-05T10:00:00Z';
  const auto = state(windows, monday);
  assert.equal(auto.blocked, true);
  assert.equal(auto.until, '2026-01-05T17:00:00Z');
  assert.equal(auto.message, 'a deny window (0 9 * * 1-5) is active until 2026-01-05T17:00:00Z');
  assert.equal(state(windows, monday, true).blocked, false);
  assert.equal(state(windows, '2026-01-03T10:00:00Z').blocked, false, 'Saturday');
});

test('a manual sync passes only when every open deny window allows it', () => {
  const windows = [deny('0 9 * * *', '8h', { manualSync: true }), deny('0 10 * * *', '1h')];
  assert.equal(state(windows, '2026-01-05T10:30:00Z', true).blocked, true);
  assert.equal(state(windows, '2026-01-05T11:30:00Z', true).blocked, false);
});

test('deny wins over allow', () => {
  const windows = [allow('* * * * *', '1h'), deny('0 12 * * *', '30m')];
  assert.equal(state(windows, '2026-01-01T12:10:00Z').blocked, true);
  assert.equal(state(windows, '2026-01-01T12:40:00Z').blocked, false);
});

test('outside every allow window, a manualSync allow window lets a requested sync through', () => {
  const windows = [allow('0 22 * * *', '1h', { manualSync: true })];
  assert.equal(state(windows, '2026-01-01T12:00:00Z', true).blocked, false);
  assert.equal(state(windows, '2026-01-01T12:00:00Z', false).blocked, true);
});

test('a block lasts while deny windows overlap or follow on without a gap', () => {
  // 09:00-12:00 and 11:00-14:00 and 14:00-15:00: one block until 15:00.
  const windows = [deny('0 9 * * *', '3h'), deny('0 11 * * *', '3h'), deny('0 14 * * *', '1h')];
  assert.equal(state(windows, '2026-01-01T09:30:00Z').until, '2026-01-01T15:00:00Z');
  // An hourly window of 90 minutes re-opens before it closes, all day long; 22:00 is the last firing.
  assert.equal(state([deny('0 8-22 * * *', '90m')], '2026-01-01T09:10:00Z').until, '2026-01-01T23:30:00Z');
});

test('a deny window that always re-opens in time has no known end', () => {
  const s = state([deny('* * * * *', '1h')], '2026-01-01T12:00:30Z');
  assert.equal(s.blocked, true);
  assert.equal(s.until, undefined);
  assert.equal(s.message, 'a deny window (* * * * *) is active with no end in sight: it opens again before it closes');
});

test('time zones shift the schedule, daylight saving included', () => {
  const windows = [allow('0 9 * * *', '1h', { timeZone: 'America/New_York' })];
  assert.equal(state(windows, '2026-01-01T14:30:00Z').blocked, false, '09:30 EST');
  assert.equal(state(windows, '2026-01-01T09:30:00Z').blocked, true);
  assert.equal(state(windows, '2026-07-01T13:30:00Z').blocked, false, '09:30 EDT');
  // The night clocks go forward, a 02:30 window opens at the jump (03:00 EDT) instead of not at all.
  const night = [deny('30 2 * * *', '1h', { timeZone: 'America/New_York' })];
  assert.equal(state(night, '2026-03-08T07:30:00Z').until, '2026-03-08T08:00:00Z');
});

test('the longest window is cheap: no work per minute of its duration', () => {
  const windows = compile([deny('0 0 1 1 *', '8760h'), allow('*/5 * * * *', '1m', { timeZone: 'Europe/Berlin' })]);
  const started = performance.now();
  for (let i = 0; i < 100; i++) syncWindowState(windows, at('2026-06-01T12:00:00Z') + i * 3_600_000, false);
  assert.ok(performance.now() - started < 1_000, `${performance.now() - started} ms for 100 evaluations`);
  // 365 days from each New Year meet the next one until the leap year 2028 leaves a day's gap.
  assert.equal(syncWindowState(windows, at('2026-06-01T12:00:00Z'), false).until, '2028-12-31T00:00:00Z');
});

/** The windows with each schedule wrapped so the test counts the evaluator's cron lookups. */
function counted(windows: CompiledWindow[]): { windows: CompiledWindow[]; lookups: () => number } {
  let lookups = 0;
  const wrapped = windows.map(({ schedule, ...rest }) => ({
    ...rest,
    schedule: {
      expression: schedule.expression,
      zone: schedule.zone,
      next: (ms: number) => {
        lookups++;
        return schedule.next(ms);
      },
      previous: (ms: number) => {
        lookups++;
        return schedule.previous(ms);
      },
    },
  }));
  return { windows: wrapped, lookups: () => lookups };
}

/**
 * Item 2 of issue 21: a tenant's windows are evaluated on every reconcile. Each cron lookup is
 * bounded by construction (shared/time/cron.ts: at most 10 years of days, 64 offset changes), so
 * the number of lookups bounds the work; the reader admits at most MAX_WINDOWS windows.
 */
test('the worst window set the reader admits costs a bounded number of cron lookups', () => {
  // Deny windows that always open again before they close, in a zone with DST: the end of the
  // block is chased for as long as the evaluator allows.
  const worst = counted(
    compile(Array.from({ length: MAX_WINDOWS }, (_, i) => deny(`${i % 60} * * * *`, '8760h', { timeZone: 'Europe/Berlin' }))),
  );
  const blocked = syncWindowState(worst.windows, at('2026-03-29T00:30:00Z'), false);
  assert.equal(blocked.blocked, true);
  assert.equal(blocked.until, undefined, blocked.message);
  // One look back per window, then at most 64 steps of one look back per deny window.
  const bound = MAX_WINDOWS * (1 + 64);
  assert.ok(worst.lookups() <= bound, `${worst.lookups()} lookups, bound ${bound}`);
  assert.ok(worst.lookups() > MAX_WINDOWS * 64, `the worst case was reached: ${worst.lookups()} lookups`);

  // Allow windows, all closed: one look back and one look ahead each.
  const closed = counted(compile(Array.from({ length: MAX_WINDOWS }, () => allow('0 3 1 1 *', '1m', { timeZone: 'Europe/Berlin' }))));
  assert.equal(syncWindowState(closed.windows, at('2026-06-01T12:00:00Z'), false).blocked, true);
  assert.ok(closed.lookups() <= MAX_WINDOWS * 2, `${closed.lookups()} lookups`);

  // One window more is refused before anything is evaluated.
  assert.equal(validateSyncWindows(Array.from({ length: MAX_WINDOWS + 1 }, () => deny('* * * * *', '1h'))).ok, false);
});
