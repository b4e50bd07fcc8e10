import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCron } from './cron.ts';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString().replace('.000Z', 'Z'));
const next = (expr: string, from: string, tz?: string) => iso(parseCron(expr, tz).next(at(from)));
const prev = (expr: string, from: string, tz?: string) => iso(parseCron(expr, tz).previous(at(from)));
/** Successive fire times after `from`. */
const fires = (expr: string, from: string, n: number, tz?: string) => {
  const schedule = parseCron(expr, tz);
  const out: Array<string | undefined> = [];
  for (let t = at(from), i = 0; i < n; i++) {
    const f = schedule.next(t);
    out.push(iso(f));
    if (f === undefined) break;
    t = f;
  }
  return out;
};

describe('cron: parsing', () => {
  const refused = (expr: string, pattern: RegExp, tz?: string, code = 'InvalidCronSchedule') => {
    assert.throws(
      () => parseCron(expr, tz),
      (err: Error & { code?: string; kind?: string; hint?: string }) => {
        assert.equal(err.code, code, err.message);
        assert.equal(err.kind, 'terminal');
        assert.match(`${err.message} (${err.hint})`, pattern);
        return true;
      },
    );
  };

  it('a six-field (seconds) schedule is refused and the message says why', () => {
    refused('30 * * * * *', /six fields; a seconds field is not supported.*use five fields/);
    refused('0 0 22 * * 1-5', /six fields/);
  });

  it('refuses malformed schedules with the field named', () => {
    refused('every day', /2 fields, not five/);
    refused('* * * *', /4 fields/);
    refused('60 * * * *', /minute 60 is outside 0-59/);
    refused('* 24 * * *', /hour 24 is outside 0-23/);
    refused('* * 0 * *', /day of month 0 is outside 1-31/);
    refused('* * * 13 *', /month 13 is outside 1-12/);
    refused('* * * * 8', /day of week 8 is outside 0-7/);
    refused('5-1 * * * *', /range "5-1" runs backwards/);
    refused('*/0 * * * *', /step "0" is not a whole number above 0/);
    refused('*/x * * * *', /step "x"/);
    refused('1/2/3 * * * *', /malformed/);
    refused('1-2-3 * * * *', /malformed/);
    refused(', * * * *', /malformed/);
    refused('* * * JANUARY *', /"JANUARY" is not a valid month/);
    refused('-1 * * * *', /malformed|not a valid/);
    refused('@every 1h', /unknown descriptor/);
    refused('@reboot', /unknown descriptor/);
    refused('@DAILY', /unknown descriptor/);
  });

  it('refuses a schedule that can never fire', () => {
    refused('0 0 30 2 *', /never fires/);
    refused('0 0 31 4,6,9,11 *', /never fires/);
    // With a day of week as well, either may match: it fires on Mondays.
    assert.equal(next('0 0 30 2 MON', '2026-01-01T00:00:00Z'), '2026-02-02T00:00:00Z');
  });

  it('refuses an unknown time zone', () => {
    refused('0 0 * * *', /unknown time zone "Mars\/Olympus".*IANA name/, 'Mars/Olympus', 'InvalidTimeZone');
  });
});

describe('cron: fire times in UTC', () => {
  it('daily, strictly after and at or before', () => {
    assert.equal(next('0 22 * * *', '2026-01-01T21:59:59Z'), '2026-01-01T22:00:00Z');
    assert.equal(next('0 22 * * *', '2026-01-01T22:00:00Z'), '2026-01-02T22:00:00Z');
    assert.equal(prev('0 22 * * *', '2026-01-01T22:00:00Z'), '2026-01-01T22:00:00Z');
    assert.equal(prev('0 22 * * *', '2026-01-01T21:59:59Z'), '2025-12-31T22:00:00Z');
  });

  it('ranges, steps, lists and names', () => {
    assert.deepEqual(fires('*/20 9-10 * * MON-FRI', '2026-01-02T10:30:00Z', 4), [
      '2026-01-02T10:40:00Z',
      '2026-01-05T09:00:00Z',
      '2026-01-05T09:20:00Z',
      '2026-01-05T09:40:00Z',
    ]);
    assert.deepEqual(fires('5/20 0 1 1 *', '2025-12-31T00:00:00Z', 3), [
      '2026-01-01T00:05:00Z',
      '2026-01-01T00:25:00Z',
      '2026-01-01T00:45:00Z',
    ]);
    assert.deepEqual(fires('0 12 * jan,Mar *', '2026-01-31T13:00:00Z', 2), ['2026-03-01T12:00:00Z', '2026-03-02T12:00:00Z']);
    assert.deepEqual(fires('0 0 * * 5-7', '2026-01-05T00:00:00Z', 4), [
      '2026-01-09T00:00:00Z',
      '2026-01-10T00:00:00Z',
      '2026-01-11T00:00:00Z',
      '2026-01-16T00:00:00Z',
    ]);
    assert.equal(next('0 0 * * 7', '2026-01-05T00:00:00Z'), '2026-01-11T00:00:00Z', '7 is Sunday');
    assert.equal(next('0 0 * * SUN', '2026-01-05T00:00:00Z'), '2026-01-11T00:00:00Z');
    assert.deepEqual(
      fires('0 0 * * 1/3', '2026-01-04T00:00:00Z', 3),
      ['2026-01-05T00:00:00Z', '2026-01-08T00:00:00Z', '2026-01-12T00:00:00Z'],
      '1/3 is Monday and Thursday, not Sunday',
    );
  });

  it('day of month and day of week: OR when both are restricted, AND when either is *', () => {
    // 2026-01-02 is a Friday. The 1st or any Monday:
    assert.deepEqual(fires('0 0 1 * MON', '2026-01-02T00:00:00Z', 5), [
      '2026-01-05T00:00:00Z',
      '2026-01-12T00:00:00Z',
      '2026-01-19T00:00:00Z',
      '2026-01-26T00:00:00Z',
      '2026-02-01T00:00:00Z',
    ]);
    // A step above 1 is a restriction (robfig): odd days or Mondays.
    assert.deepEqual(fires('0 0 */2 * 1', '2026-01-03T12:00:00Z', 3), [
      '2026-01-05T00:00:00Z',
      '2026-01-07T00:00:00Z',
      '2026-01-09T00:00:00Z',
    ]);
    // * and ? leave the other field alone.
    assert.deepEqual(fires('0 0 * * MON', '2026-01-02T00:00:00Z', 2), ['2026-01-05T00:00:00Z', '2026-01-12T00:00:00Z']);
    assert.deepEqual(fires('0 0 ? * 1', '2026-01-02T00:00:00Z', 1), ['2026-01-05T00:00:00Z']);
    assert.deepEqual(fires('0 0 13 * ?', '2026-01-02T00:00:00Z', 2), ['2026-01-13T00:00:00Z', '2026-02-13T00:00:00Z']);
    assert.deepEqual(fires('0 0 13 * */1', '2026-01-02T00:00:00Z', 1), ['2026-01-13T00:00:00Z'], '*/1 is still *');
  });

  it('the 31st skips short months; 29 February waits eight years across 2100', () => {
    assert.deepEqual(fires('0 0 31 * *', '2026-01-31T00:00:00Z', 3), [
      '2026-03-31T00:00:00Z',
      '2026-05-31T00:00:00Z',
      '2026-07-31T00:00:00Z',
    ]);
    assert.equal(next('0 0 29 2 *', '2097-01-01T00:00:00Z'), '2104-02-29T00:00:00Z');
    assert.equal(prev('0 0 29 2 *', '2103-12-31T00:00:00Z'), '2096-02-29T00:00:00Z');
    assert.equal(prev('59 23 31 12 *', '2026-06-01T00:00:00Z'), '2025-12-31T23:59:00Z');
  });

  it('descriptors', () => {
    assert.equal(next('@hourly', '2026-01-01T10:00:00Z'), '2026-01-01T11:00:00Z');
    assert.equal(next('@daily', '2026-01-01T10:00:00Z'), '2026-01-02T00:00:00Z');
    assert.equal(next('@midnight', '2026-01-01T10:00:00Z'), '2026-01-02T00:00:00Z');
    assert.equal(next('@weekly', '2026-01-01T10:00:00Z'), '2026-01-04T00:00:00Z');
    assert.equal(next('@monthly', '2026-01-01T10:00:00Z'), '2026-02-01T00:00:00Z');
    assert.equal(next('@yearly', '2026-01-01T10:00:00Z'), '2027-01-01T00:00:00Z');
    assert.equal(next('@annually', '2026-01-01T10:00:00Z'), '2027-01-01T00:00:00Z');
  });

  it('answers at once far from a fire: no minute-by-minute search', () => {
    const schedule = parseCron('0 0 29 2 *', 'Europe/Berlin');
    const started = performance.now();
    // Seven years back in a zone with two changes a year; minute by minute would take half a minute each.
    for (let i = 0; i < 20; i++) assert.equal(iso(schedule.previous(at('2103-12-31T00:00:00Z') - i * 86_400_000)), '2096-02-28T23:00:00Z');
    assert.ok(performance.now() - started < 3_000, `${performance.now() - started} ms`);
  });
});

describe('cron: time zones and daylight saving', () => {
  const NY = 'America/New_York';

  it('a local schedule in standard and in summer time', () => {
    assert.equal(next('0 9 * * *', '2026-01-01T00:00:00Z', NY), '2026-01-01T14:00:00Z');
    assert.equal(next('0 9 * * *', '2026-07-01T00:00:00Z', NY), '2026-07-01T13:00:00Z');
  });

  it('clocks going forward: a skipped local time fires at the jump, the others as usual', () => {
    // 2026-03-08 02:00 EST -> 03:00 EDT (07:00Z); 02:30 does not happen that night.
    assert.deepEqual(fires('30 2 * * *', '2026-03-07T00:00:00Z', 3, NY), [
      '2026-03-07T07:30:00Z',
      '2026-03-08T07:00:00Z',
      '2026-03-09T06:30:00Z',
    ]);
    assert.equal(prev('30 2 * * *', '2026-03-08T08:00:00Z', NY), '2026-03-08T07:00:00Z');
    assert.equal(prev('30 2 * * *', '2026-03-08T06:59:59Z', NY), '2026-03-07T07:30:00Z');
    // Every quarter hour: 01:45 EST, then 03:00 EDT (the skipped 02:xx fire once, at the jump), 03:15.
    assert.deepEqual(fires('*/15 * * * *', '2026-03-08T06:40:00Z', 3, NY), [
      '2026-03-08T06:45:00Z',
      '2026-03-08T07:00:00Z',
      '2026-03-08T07:15:00Z',
    ]);
  });

  it('clocks going back: a local time that happens twice fires twice', () => {
    // 2026-11-01 02:00 EDT -> 01:00 EST (06:00Z): 01:30 happens at 05:30Z and at 06:30Z.
    assert.deepEqual(fires('30 1 * * *', '2026-10-31T12:00:00Z', 3, NY), [
      '2026-11-01T05:30:00Z',
      '2026-11-01T06:30:00Z',
      '2026-11-02T06:30:00Z',
    ]);
    assert.equal(prev('30 1 * * *', '2026-11-01T06:29:59Z', NY), '2026-11-01T05:30:00Z');
    assert.equal(prev('30 1 * * *', '2026-11-01T07:00:00Z', NY), '2026-11-01T06:30:00Z');
    assert.deepEqual(fires('0 * * * *', '2026-11-01T04:30:00Z', 4, NY), [
      '2026-11-01T05:00:00Z',
      '2026-11-01T06:00:00Z',
      '2026-11-01T07:00:00Z',
      '2026-11-01T08:00:00Z',
    ]);
  });

  it('half-hour changes (Lord Howe) and a day that never happened (Samoa, 30 December 2011)', () => {
    // Lord Howe: 02:00 +10:30 -> 02:30 +11 on 2026-10-04 (15:30Z the day before).
    assert.equal(next('15 2 * * *', '2026-10-03T12:00:00Z', 'Australia/Lord_Howe'), '2026-10-03T15:30:00Z');
    assert.equal(next('45 2 * * *', '2026-10-03T12:00:00Z', 'Australia/Lord_Howe'), '2026-10-03T15:45:00Z');
    // Apia went from 29 December 23:59 (-10) to 31 December 00:00 (+14) at 2011-12-30T10:00Z.
    assert.equal(next('0 12 * * *', '2011-12-29T12:00:00Z', 'Pacific/Apia'), '2011-12-29T22:00:00Z');
    assert.equal(next('0 12 * * *', '2011-12-29T22:00:00Z', 'Pacific/Apia'), '2011-12-30T10:00:00Z');
    assert.equal(next('0 12 * * *', '2011-12-30T10:00:00Z', 'Pacific/Apia'), '2011-12-30T22:00:00Z');
    assert.equal(prev('0 12 30 12 *', '2012-06-01T00:00:00Z', 'Pacific/Apia'), '2011-12-30T10:00:00Z');
  });

  it('agrees with a minute-by-minute reference around daylight saving changes', () => {
    const random = seeded(13);
    const zones = ['UTC', NY, 'Europe/Berlin', 'Australia/Lord_Howe', 'America/Sao_Paulo', 'Asia/Kolkata'];
    const changes = [
      '2026-03-08T07:00:00Z',
      '2026-11-01T06:00:00Z',
      '2026-03-29T01:00:00Z',
      '2026-10-25T01:00:00Z',
      '2026-04-04T15:00:00Z',
      '2026-10-03T15:30:00Z',
      '2018-11-04T03:00:00Z',
    ];
    for (let i = 0; i < 40; i++) {
      const tz = zones[i % zones.length]!;
      const expr = randomSchedule(random);
      const schedule = parseCron(expr, tz);
      const from = at(changes[Math.floor(random() * changes.length)]!) + Math.floor((random() - 0.5) * 2 * 86_400_000);
      const reference = referenceSchedule(expr, tz);
      const span = 3 * 86_400_000;
      const wantNext = reference.next(from, span);
      const gotNext = schedule.next(from);
      if (wantNext !== undefined || (gotNext !== undefined && gotNext - from <= span))
        assert.equal(iso(gotNext), iso(wantNext), `next("${expr}", ${tz}, ${iso(from)})`);
      const wantPrev = reference.previous(from, span);
      const gotPrev = schedule.previous(from);
      if (wantPrev !== undefined || (gotPrev !== undefined && from - gotPrev <= span))
        assert.equal(iso(gotPrev), iso(wantPrev), `previous("${expr}", ${tz}, ${iso(from)})`);
    }
  });
});

// ---- a slow, obviously correct reference: every minute, local fields from Intl ---------------

function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    return s / 2_147_483_648;
  };
}

function randomSchedule(random: () => number): string {
  const pick = (n: number, from: number, count: number) =>
    [...new Set(Array.from({ length: count }, () => from + Math.floor(random() * n)))].sort((a, b) => a - b).join(',');
  const minute = random() < 0.3 ? `*/${[5, 15, 20, 30][Math.floor(random() * 4)]}` : pick(60, 0, 2);
  const hour = random() < 0.3 ? '*' : pick(24, 0, 3);
  const dom = random() < 0.7 ? '*' : pick(28, 1, 8);
  const dow = random() < 0.6 ? '*' : pick(7, 0, 3);
  return `${minute} ${hour} ${dom} * ${dow}`;
}

function referenceSchedule(expr: string, tz: string) {
  const [mi, ho, dm, , dw] = expr.split(' ') as [string, string, string, string, string];
  const list = (field: string, max: number) => {
    if (field === '*') return () => true;
    if (field.startsWith('*/')) return (v: number) => v % Number(field.slice(2)) === 0;
    const values = new Set(field.split(',').map(Number));
    return (v: number) => values.has(v) && v <= max;
  };
  const [minute, hour, dom, dow] = [list(mi, 59), list(ho, 23), list(dm, 31), list(dw, 6)];
  const and = dm === '*' || dw === '*';
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    weekday: 'short',
  });
  const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const local = (instant: number) => {
    const p = Object.fromEntries(fmt.formatToParts(instant).map((x) => [x.type, x.value]));
    return {
      wall: Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute)),
      dow: DAYS.indexOf(p.weekday ?? ''),
    };
  };
  const matches = (wall: number, weekday: number) => {
    const d = new Date(wall);
    const dayOk = and ? dom(d.getUTCDate()) && dow(weekday) : dom(d.getUTCDate()) || dow(weekday);
    return minute(d.getUTCMinutes()) && hour(d.getUTCHours()) && dayOk;
  };
  const isFire = (instant: number) => {
    const now = local(instant);
    if (matches(now.wall, now.dow)) return true;
    // Clocks jumped forward into this minute: did a skipped local minute match?
    const before = local(instant - 60_000);
    for (let w = before.wall + 60_000; w < now.wall; w += 60_000) if (matches(w, new Date(w).getUTCDay())) return true;
    return false;
  };
  return {
    next(from: number, span: number) {
      for (let t = Math.floor(from / 60_000) * 60_000 + 60_000; t <= from + span; t += 60_000) if (isFire(t)) return t;
      return undefined;
    },
    previous(from: number, span: number) {
      for (let t = Math.floor(from / 60_000) * 60_000; t >= from - span; t -= 60_000) if (isFire(t)) return t;
      return undefined;
    },
  };
}
