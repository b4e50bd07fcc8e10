import type { SyncWindow } from '../api/continuous-deployment.ts';
import type { Reason } from '../errors/index.ts';
import { parseCron, type CronSchedule } from '../time/cron.ts';
import { parseDuration } from '../time/duration.ts';
import { zone } from '../time/zone.ts';
import { checkKnownFields, isObject, Problems, type Validated } from './problems.ts';
import { describe, readBoolean, readString } from './read.ts';

/**
 * The longest window: a year. A window open longer than its schedule's period is simply always
 * open, and a bound keeps every computation on windows short (the CRD says the same in words).
 */
export const MAX_WINDOW_DURATION_MS = 8760 * 3_600_000;

/**
 * The most windows one deployment may have. Every reconcile evaluates each window (and, for a
 * deny block, each deny window up to 64 times to find its end), so the count bounds that work;
 * Argo CD projects rarely need more than a handful. The CRD's `maxItems` says the same.
 */
export const MAX_WINDOWS = 32;

/** A window with its schedule parsed and its duration checked, as the reader returns it. */
export interface CompiledWindow {
  window: SyncWindow;
  durationMs: number;
  schedule: CronSchedule;
}

const WINDOW_FIELDS = ['kind', 'schedule', 'duration', 'manualSync', 'timeZone'] as const;
const CODE: Reason = 'InvalidSyncWindow';

/**
 * Reads `spec.syncPolicy.windows` (Argo CD's sync windows) at `at`: each window's kind, its
 * five-field cron schedule in its time zone, and a duration above zero and at most a year. Every
 * problem with a window is an InvalidSyncWindow problem naming its field.
 */
export function readSyncWindows(problems: Problems, value: unknown, at: string): CompiledWindow[] | undefined {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    problems.add(at, `must be a list of windows, not ${describe(value)}`);
    return undefined;
  }
  if (value.length > MAX_WINDOWS) {
    problems.add(
      at,
      `has ${value.length} windows; at most ${MAX_WINDOWS} are allowed`,
      'merge windows with cron lists and ranges, e.g. "0 22 * * 1-5" instead of one window per day',
      CODE,
    );
    return undefined;
  }
  const before = problems.errors.length;
  const windows = value.map((entry: unknown, i) => readWindow(problems, entry, `${at}[${i}]`));
  return problems.errors.length > before ? undefined : (windows as CompiledWindow[]);
}

/** The windows alone, at `spec.syncPolicy.windows` (for callers and tests that have only them). */
export function validateSyncWindows(value: unknown): Validated<CompiledWindow[]> {
  const problems = new Problems();
  const windows = readSyncWindows(problems, value, 'syncPolicy.windows');
  return problems.result(() => windows as CompiledWindow[]);
}

function readWindow(parent: Problems, entry: unknown, at: string): CompiledWindow | undefined {
  // Every problem with a window, a missing field as much as a bad schedule, has one reason.
  const problems = parent.withCode(CODE);
  const window = readWindowFields(problems, entry, at);
  parent.merge(problems.errors);
  return window;
}

function readWindowFields(problems: Problems, entry: unknown, at: string): CompiledWindow | undefined {
  if (!isObject(entry)) {
    problems.add(at, `must be an object {kind, schedule, duration}, not ${describe(entry)}`);
    return undefined;
  }
  checkKnownFields(problems, `${at}.`, entry, WINDOW_FIELDS);
  const kind = readString(problems, entry, 'kind', { required: true, at: `${at}.kind` });
  if (kind !== undefined && kind !== 'allow' && kind !== 'deny') {
    problems.add(`${at}.kind`, `${JSON.stringify(kind)} is not allow or deny`);
  }
  const timeZone = readString(problems, entry, 'timeZone', { at: `${at}.timeZone` });
  const zoneOk = timeZone === undefined || timeZone === '' || problems.check(`${at}.timeZone`, () => zone(timeZone), CODE) !== undefined;
  const schedule = readSchedule(problems, entry, at, zoneOk ? timeZone : undefined);
  const durationMs = readWindowDuration(problems, entry, at);
  const manualSync = readBoolean(problems, entry, 'manualSync', false, `${at}.manualSync`);
  if (problems.errors.length > 0) return undefined;
  const window: SyncWindow = { kind: kind as SyncWindow['kind'], schedule: entry.schedule as string, duration: entry.duration as string };
  if (entry.manualSync !== undefined) window.manualSync = manualSync;
  if (timeZone !== undefined) window.timeZone = timeZone;
  return { window, durationMs: durationMs as number, schedule: schedule as CronSchedule };
}

function readSchedule(
  problems: Problems,
  entry: Record<string, unknown>,
  at: string,
  timeZone: string | undefined,
): CronSchedule | undefined {
  const expression = readString(problems, entry, 'schedule', { required: true, at: `${at}.schedule` });
  if (expression === undefined) return undefined;
  if (expression.trim() === '') {
    problems.add(`${at}.schedule`, 'must not be empty', 'use five cron fields, e.g. "0 22 * * *"');
    return undefined;
  }
  return problems.check(`${at}.schedule`, () => parseCron(expression, timeZone), CODE);
}

function readWindowDuration(problems: Problems, entry: Record<string, unknown>, at: string): number | undefined {
  const duration = readString(problems, entry, 'duration', { required: true, at: `${at}.duration` });
  if (duration === undefined) return undefined;
  const ms = problems.check(`${at}.duration`, () => parseDuration(duration), CODE);
  if (ms === undefined) return undefined;
  if (ms <= 0) {
    problems.add(`${at}.duration`, `${JSON.stringify(duration)} is not above zero: the window would never open`, 'e.g. 1h or 30m');
    return undefined;
  }
  if (ms > MAX_WINDOW_DURATION_MS) {
    problems.add(
      `${at}.duration`,
      `${JSON.stringify(duration)} is longer than 8760h (a year)`,
      'a window that should always apply can use a schedule that fires more often',
    );
    return undefined;
  }
  return ms;
}
