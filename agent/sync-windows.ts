import { createTask, validate } from 'node-cron';
import type { ScheduledTask } from 'node-cron';
import type { SyncWindow } from '../shared/api/continuous-deployment.ts';
import { terminal } from '../shared/errors/index.ts';
import { rfc3339 } from '../shared/time/clock.ts';
import { parseDuration } from '../shared/time/duration.ts';

export interface WindowState {
  blocked: boolean;
  /** When the block ends, when that is known within a week. */
  until?: string;
  message: string;
  windows: number;
}

const MINUTE = 60_000;
const LOOKAHEAD_MINUTES = 8 * 24 * 60;

/**
 * Argo CD's sync windows: automatic syncs run only inside an allow window (when any allow window
 * exists) and never inside a deny window; a manual sync is let through a blocking window that
 * says `manualSync: true`. A window is open for `duration` after each time its cron schedule fires.
 */
export function syncWindowState(windows: readonly SyncWindow[], nowMs: number, manual: boolean): WindowState {
  if (windows.length === 0) return { blocked: false, message: 'no sync windows', windows: 0 };
  const parsed = windows.map(parseWindow);
  const active = parsed.filter((w) => w.openSince(nowMs) !== undefined);
  const deny = active.filter((w) => w.window.kind === 'deny');
  const allows = parsed.filter((w) => w.window.kind === 'allow');
  const activeAllow = active.filter((w) => w.window.kind === 'allow');

  const denying = deny.filter((w) => !(manual && w.window.manualSync));
  if (denying.length > 0) {
    const ends = Math.max(...denying.map((w) => (w.openSince(nowMs) as number) + w.durationMs));
    return {
      blocked: true,
      until: rfc3339(ends),
      message: `a deny window (${denying[0]!.window.schedule}) is active until ${rfc3339(ends)}`,
      windows: windows.length,
    };
  }
  if (allows.length > 0 && activeAllow.length === 0 && !(manual && allows.some((w) => w.window.manualSync))) {
    const next = nextOpening(allows, nowMs);
    const until = next === undefined ? undefined : rfc3339(next);
    return {
      blocked: true,
      ...(until ? { until } : {}),
      message: `outside every allow window${until ? `; the next opens at ${until}` : ''}`,
      windows: windows.length,
    };
  }
  return {
    blocked: false,
    message: activeAllow.length > 0 ? 'inside an allow window' : 'no window blocks syncing',
    windows: windows.length,
  };
}

interface ParsedWindow {
  window: SyncWindow;
  durationMs: number;
  matches(ms: number): boolean;
  /** The start of the opening that covers `ms`, if one does. */
  openSince(ms: number): number | undefined;
}

const tasks = new Map<string, ScheduledTask>();

function parseWindow(window: SyncWindow): ParsedWindow {
  if (!validate(window.schedule)) {
    throw terminal(
      'InvalidSyncWindow',
      `sync window schedule ${JSON.stringify(window.schedule)} is not a valid cron expression`,
      'use five cron fields, e.g. "0 22 * * *"',
    );
  }
  const durationMs = parseDuration(window.duration);
  const key = `${window.schedule}|${window.timeZone ?? 'UTC'}`;
  let task = tasks.get(key);
  if (!task) {
    try {
      task = createTask(window.schedule, () => undefined, { timezone: window.timeZone ?? 'UTC' });
    } catch (err) {
      throw terminal(
        'InvalidSyncWindow',
        `sync window time zone ${JSON.stringify(window.timeZone)} is not valid`,
        'use an IANA name such as Europe/Berlin',
        err,
      );
    }
    tasks.set(key, task);
  }
  const matcher = task;
  const matches = (ms: number) => matcher.match(new Date(ms));
  return {
    window,
    durationMs,
    matches,
    openSince(ms) {
      const start = Math.floor(ms / MINUTE) * MINUTE;
      for (let t = start; t > ms - durationMs; t -= MINUTE) {
        if (matches(t)) return t;
      }
      return undefined;
    },
  };
}

function nextOpening(windows: ParsedWindow[], nowMs: number): number | undefined {
  const start = Math.ceil(nowMs / MINUTE) * MINUTE;
  for (let i = 0; i < LOOKAHEAD_MINUTES; i++) {
    const t = start + i * MINUTE;
    if (windows.some((w) => w.matches(t))) return t;
  }
  return undefined;
}
