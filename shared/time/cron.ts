import { terminal } from '../errors/index.ts';
import type { TidemarkError } from '../errors/index.ts';
import { UTC, zone as zoneByName } from './zone.ts';
import type { Zone } from './zone.ts';

/**
 * Five-field cron schedules (minute hour day-of-month month day-of-week) with the semantics of
 * robfig/cron's standard parser, which Argo CD's sync windows and Kubernetes CronJobs use:
 *
 * - `*`, `?`, `N`, `N-M`, `*`/`N-M`/`N` with `/step` (`N/step` is `N-max/step`), lists with `,`;
 *   month names JAN-DEC and day names SUN-SAT; day-of-week 0-6 with 7 also Sunday (as in Vixie cron).
 * - Day of month and day of week: when either field is unrestricted (`*` or `?`, without a step
 *   above 1) a day must match both; when both are restricted, either one is enough (`0 0 1 * MON`
 *   fires on the 1st and on every Monday), as Vixie cron and robfig do.
 * - `@yearly`/`@annually`, `@monthly`, `@weekly`, `@daily`/`@midnight`, `@hourly`.
 *
 * Fire times are computed directly from the fields, never by trying minute after minute. In a time
 * zone, a local time that happens twice (clocks going back) fires at both instants, as in robfig;
 * a local time that does not happen (clocks going forward) fires at the instant the clocks jump,
 * as in Vixie cron, so a window never silently disappears on the night of a change.
 */
export interface CronSchedule {
  readonly expression: string;
  readonly zone: Zone;
  /** The earliest fire time strictly after `instant` (ms), or undefined if none within 10 years. */
  next(instant: number): number | undefined;
  /** The latest fire time at or before `instant` (ms), or undefined if none within 10 years. */
  previous(instant: number): number | undefined;
}

interface Fields {
  minutes: boolean[];
  hours: boolean[];
  /** Index 1-31. */
  days: boolean[];
  /** Index 1-12. */
  months: boolean[];
  /** Index 0-6, Sunday 0. */
  weekdays: boolean[];
  /** True when day-of-month or day-of-week is unrestricted: then both must match (AND), else either (OR). */
  and: boolean;
}

const MINUTE = 60_000;
/** The longest wait between two fires of a valid schedule is 8 years (29 February across 2100). */
const SEARCH_DAYS = 10 * 366;

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** Highest value written explicitly (7 for Sunday in day of week); `*` and `N/step` stop at max. */
  top?: number;
}

const FIELD_SPECS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day of week', min: 0, max: 6, names: WEEKDAYS, top: 7 },
];

/** Parses a schedule; `timeZone` is an IANA name (default UTC). Throws InvalidCronSchedule or InvalidTimeZone. */
export function parseCron(expression: string, timeZone?: string): CronSchedule {
  const fields = parseFields(expression);
  const tz = timeZone === undefined || timeZone === '' ? UTC : zoneByName(timeZone);
  return {
    expression,
    zone: tz,
    next: (instant) => nextFire(fields, tz, instant),
    previous: (instant) => previousFire(fields, tz, instant),
  };
}

function parseFields(expression: string): Fields {
  const trimmed = expression.trim();
  // Lower case only, as in robfig.
  const text = trimmed.startsWith('@') ? DESCRIPTORS[trimmed] : trimmed;
  if (text === undefined)
    throw invalid(
      expression,
      `unknown descriptor ${JSON.stringify(trimmed)}`,
      'use @yearly, @monthly, @weekly, @daily or @hourly, or five fields',
    );
  const parts = text.split(/\s+/).filter(Boolean);
  if (parts.length === 6) {
    throw invalid(
      expression,
      'it has six fields; a seconds field is not supported (sync windows open at whole minutes)',
      'use five fields: minute hour day-of-month month day-of-week, e.g. "30 22 * * *"',
    );
  }
  if (parts.length !== 5)
    throw invalid(
      expression,
      `it has ${parts.length} field${parts.length === 1 ? '' : 's'}, not five`,
      'use five fields: minute hour day-of-month month day-of-week, e.g. "0 22 * * *"',
    );
  const [minutes, hours, days, months, weekdays] = parts.map((part, i) => parseField(expression, part, FIELD_SPECS[i]!)) as [
    Parsed,
    Parsed,
    Parsed,
    Parsed,
    Parsed,
  ];
  const fields: Fields = {
    minutes: minutes.set,
    hours: hours.set,
    days: days.set,
    months: months.set,
    weekdays: weekdays.set,
    and: days.star || weekdays.star,
  };
  // With AND semantics a day of month that none of the months has (31 February) never comes.
  if (weekdays.star && !days.star) {
    const longest = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    const possible = fields.months.some((on, m) => on && fields.days.some((d, day) => d && day <= longest[m]!));
    if (!possible) throw invalid(expression, 'it never fires: none of its months has that day', 'check the day of month and the month');
  }
  return fields;
}

interface Parsed {
  set: boolean[];
  /** `*` or `?` without a step above 1: robfig's "star" that switches day matching to AND. */
  star: boolean;
}

function parseField(expression: string, text: string, spec: FieldSpec): Parsed {
  const top = spec.top ?? spec.max;
  const set = new Array<boolean>(top + 1).fill(false);
  let star = false;
  for (const item of text.split(',')) {
    const [range, stepText, extra] = item.split('/');
    if (range === undefined || range === '' || extra !== undefined)
      throw invalid(expression, `the ${spec.name} field ${JSON.stringify(text)} is malformed`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) < 1)
        throw invalid(expression, `the ${spec.name} step ${JSON.stringify(stepText)} is not a whole number above 0`);
      step = Number(stepText);
    }
    let low: number;
    let high: number;
    if (range === '*' || range === '?') {
      [low, high] = [spec.min, spec.max];
      if (step === 1) star = true;
    } else {
      const [a, b, more] = range.split('-');
      if (a === undefined || more !== undefined) throw invalid(expression, `the ${spec.name} range ${JSON.stringify(range)} is malformed`);
      low = value(expression, a, spec, top);
      // `N/step` runs from N to the field's maximum, as in robfig and Vixie cron.
      high = b !== undefined ? value(expression, b, spec, top) : stepText !== undefined ? spec.max : low;
      if (high < low) throw invalid(expression, `the ${spec.name} range ${JSON.stringify(range)} runs backwards`);
    }
    for (let v = low; v <= high; v += step) set[v] = true;
  }
  // Day of week 7 is Sunday again (Vixie cron); fold it onto 0.
  if (top > spec.max) {
    for (let v = spec.max + 1; v <= top; v++) if (set[v]) set[v - (spec.max + 1)] = true;
    set.length = spec.max + 1;
  }
  return { set, star };
}

function value(expression: string, text: string, spec: FieldSpec, top: number): number {
  const named = spec.names?.indexOf(text.toUpperCase()) ?? -1;
  if (named >= 0) return named + spec.min;
  if (!/^\d+$/.test(text)) throw invalid(expression, `${JSON.stringify(text)} is not a valid ${spec.name}`);
  const n = Number(text);
  if (n < spec.min || n > top) throw invalid(expression, `the ${spec.name} ${n} is outside ${spec.min}-${top}`);
  return n;
}

function invalid(expression: string, why: string, hint?: string): TidemarkError {
  return terminal(
    'InvalidCronSchedule',
    `cron schedule ${JSON.stringify(expression)} is not valid: ${why}`,
    hint ?? 'use five cron fields, e.g. "0 22 * * 1-5"',
  );
}

// ---- wall-clock search: times are "naive" ms whose UTC fields are the local fields ----------

function dayMatches(f: Fields, wall: Date): boolean {
  const dom = f.days[wall.getUTCDate()] === true;
  const dow = f.weekdays[wall.getUTCDay()] === true;
  return f.and ? dom && dow : dom || dow;
}

/** The first matching wall minute at or after `from` (a whole minute), within the search span. */
function nextWall(f: Fields, from: number): number | undefined {
  let d = new Date(from);
  let hour = d.getUTCHours();
  let minute = d.getUTCMinutes();
  for (let i = 0; i < SEARCH_DAYS; i++) {
    if (!f.months[d.getUTCMonth() + 1]) {
      d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
      [hour, minute] = [0, 0];
      continue;
    }
    if (dayMatches(f, d)) {
      for (let h = hour; h < 24; h++) {
        if (!f.hours[h]) continue;
        const m = f.minutes.indexOf(true, h === hour ? minute : 0);
        if (m >= 0) return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), h, m);
      }
    }
    d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1));
    [hour, minute] = [0, 0];
  }
  return undefined;
}

/** The last matching wall minute at or before `from` (a whole minute), within the search span. */
function previousWall(f: Fields, from: number): number | undefined {
  let d = new Date(from);
  let hour = d.getUTCHours();
  let minute = d.getUTCMinutes();
  for (let i = 0; i < SEARCH_DAYS; i++) {
    if (!f.months[d.getUTCMonth() + 1]) {
      d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) - MINUTE); // last minute of the month before
      [hour, minute] = [23, 59];
      continue;
    }
    if (dayMatches(f, d)) {
      for (let h = hour; h >= 0; h--) {
        if (!f.hours[h]) continue;
        const m = f.minutes.lastIndexOf(true, h === hour ? minute : 59);
        if (m >= 0) return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), h, m);
      }
    }
    d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - MINUTE);
    [hour, minute] = [23, 59];
  }
  return undefined;
}

const floorMinute = (ms: number) => Math.floor(ms / MINUTE) * MINUTE;
const ceilMinute = (ms: number) => Math.ceil(ms / MINUTE) * MINUTE;

/** True when a local minute the clocks skip at `change` (from `before` to `after`) would have fired. */
function skippedFire(f: Fields, change: number, before: number, after: number): boolean {
  if (after <= before) return false;
  const w = nextWall(f, ceilMinute(change + before));
  return w !== undefined && w < change + after;
}

// ---- instants: walk the stretches of constant UTC offset ----------------------------------

/** Offset changes crossed in one search; a zone changes at most a few times a year. */
const MAX_CHANGES = 64;

function nextFire(f: Fields, tz: Zone, instant: number): number | undefined {
  let cursor = instant;
  let offset = tz.offsetAt(cursor);
  // Fires are strictly after `instant`; after an offset change, at or after the change.
  let wallFrom = floorMinute(instant + offset) + MINUTE;
  for (let i = 0; i < MAX_CHANGES; i++) {
    const wall = nextWall(f, wallFrom);
    if (wall === undefined) return undefined;
    const candidate = wall - offset;
    const change = tz.changeAfter(cursor, candidate);
    if (change === undefined) return candidate;
    const after = tz.offsetAt(change);
    if (skippedFire(f, change, offset, after)) return change;
    [cursor, offset] = [change, after];
    wallFrom = ceilMinute(change + after);
  }
  return undefined;
}

function previousFire(f: Fields, tz: Zone, instant: number): number | undefined {
  let cursor = instant;
  let offset = tz.offsetAt(cursor);
  for (let i = 0; i < MAX_CHANGES; i++) {
    const wall = previousWall(f, floorMinute(cursor + offset));
    if (wall === undefined) return undefined;
    const candidate = wall - offset;
    // When the stretch with this offset began after the candidate, the candidate's local time
    // belongs to another offset; and the stretch may begin with a skipped fire.
    const start = tz.changeBefore(cursor, candidate);
    if (start === undefined) return candidate;
    const before = tz.offsetAt(start - 1000);
    if (skippedFire(f, start, before, offset)) return start;
    [cursor, offset] = [start - 1, before];
  }
  return undefined;
}
