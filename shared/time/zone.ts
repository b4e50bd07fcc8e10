import { LruMap } from '../cache/lru.ts';
import { terminal } from '../errors/index.ts';

/**
 * UTC offsets of an IANA time zone from the runtime's own tz database (Intl), and the instants
 * where they change. Everything here is at second precision, which is all tzdb has.
 */
export interface Zone {
  readonly name: string;
  /** Local wall-clock time minus UTC, in ms, at `instant`. */
  offsetAt(instant: number): number;
  /**
   * The first instant in (from, to] with an offset other than at `from`; undefined when the
   * offset stays the same over the whole span.
   */
  changeAfter(from: number, to: number): number | undefined;
  /** The first instant of the constant-offset stretch that holds `at`, when it starts after `from`. */
  changeBefore(at: number, from: number): number | undefined;
}

const SECOND = 1000;
/**
 * The offset is probed at this step and the change found by bisection between two probes. The
 * shortest stretch between two changes in tzdb since 2000 is 7 days (America/Boa_Vista's week of
 * DST in October 2000), so a step under that never jumps over a change and back.
 */
const PROBE_MS = 4 * 24 * 3600 * SECOND;

export const UTC: Zone = {
  name: 'UTC',
  offsetAt: () => 0,
  changeAfter: () => undefined,
  changeBefore: () => undefined,
};

/**
 * Formatters kept, one per zone name: Intl formatters are costly to build. Not bounded by the tz
 * database: Intl accepts a name in any case (`europe/berlin`, `EUROPE/Berlin`, ...), so tenants
 * can write endless distinct names. A zone already handed out keeps its own formatter.
 */
export const MAX_CACHED_ZONES = 64;
const formatters = new LruMap<string, Intl.DateTimeFormat>(MAX_CACHED_ZONES);

/** How many zone formatters are kept now (for tests and diagnostics). */
export function cachedZones(): number {
  return formatters.size;
}

/** A zone by IANA name (`Europe/Berlin`); refuses a name the runtime does not know. */
export function zone(name: string): Zone {
  if (name === 'UTC' || name === 'Etc/UTC') return UTC;
  let format = formatters.get(name);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat('en-US', {
        timeZone: name,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
        era: 'short',
      });
    } catch (err) {
      throw terminal(
        'InvalidTimeZone',
        `unknown time zone ${JSON.stringify(name)}`,
        'use an IANA name such as Europe/Berlin or America/New_York',
        err,
      );
    }
    formatters.set(name, format);
  }
  const fmt = format;
  const offsetAt = (instant: number): number => {
    const at = Math.floor(instant / SECOND) * SECOND;
    const f: Record<string, number> = {};
    let bc = false;
    for (const part of fmt.formatToParts(at)) {
      if (part.type === 'era') bc = part.value.startsWith('B');
      else if (part.type !== 'literal') f[part.type] = Number(part.value);
    }
    const year = bc ? 1 - (f.year ?? 0) : (f.year ?? 0);
    const wall = Date.UTC(year, (f.month ?? 1) - 1, f.day ?? 1, f.hour ?? 0, f.minute ?? 0, f.second ?? 0);
    // Date.UTC maps years 0-99 to 1900-1999.
    const fixed = year >= 0 && year < 100 ? new Date(wall).setUTCFullYear(year) : wall;
    return fixed - at;
  };
  /** The first second in (lo, hi] whose offset differs from lo's; lo and hi differ, one change between. */
  const bisect = (lo: number, hi: number, before: number): number => {
    while (hi - lo > SECOND) {
      const mid = lo + Math.floor((hi - lo) / 2 / SECOND) * SECOND;
      if (offsetAt(mid) === before) lo = mid;
      else hi = mid;
    }
    return hi;
  };
  return {
    name,
    offsetAt,
    changeAfter(from, to) {
      const start = Math.floor(from / SECOND) * SECOND;
      const before = offsetAt(start);
      for (let lo = start; lo < to; lo += PROBE_MS) {
        const hi = Math.min(lo + PROBE_MS, Math.ceil(to / SECOND) * SECOND);
        if (offsetAt(hi) !== before) return bisect(lo, hi, before);
      }
      return undefined;
    },
    changeBefore(at, from) {
      const end = Math.floor(at / SECOND) * SECOND;
      const current = offsetAt(end);
      for (let hi = end; hi > from; hi -= PROBE_MS) {
        const lo = Math.max(hi - PROBE_MS, Math.floor(from / SECOND) * SECOND);
        const earlier = offsetAt(lo);
        if (earlier !== current) {
          const change = bisect(lo, hi, earlier);
          return change > from ? change : undefined;
        }
      }
      return undefined;
    },
  };
}
