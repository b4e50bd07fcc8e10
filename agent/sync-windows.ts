import type { CompiledWindow } from '../shared/spec/index.ts';
import { rfc3339 } from '../shared/time/clock.ts';

export interface WindowState {
  blocked: boolean;
  /** When the block ends, when that is known (see blockEnd). */
  until?: string;
  message: string;
  windows: number;
}

/**
 * Argo CD's sync windows: automatic syncs run only inside an allow window (when any allow window
 * exists) and never inside a deny window; a manual sync is let through when every blocking window
 * says `manualSync: true`. A window is open for `duration` after each time its schedule fires:
 * at `now` when the schedule last fired in (now - duration, now].
 */
export function syncWindowState(windows: readonly CompiledWindow[], nowMs: number, manual: boolean): WindowState {
  if (windows.length === 0) return { blocked: false, message: 'no sync windows', windows: 0 };
  const count = windows.length;
  const active = windows.filter((w) => openSince(w, nowMs) !== undefined);
  const denying = active.filter((w) => w.window.kind === 'deny' && !(manual && w.window.manualSync));
  if (denying.length > 0) {
    const end = blockEnd(
      windows.filter((w) => w.window.kind === 'deny' && !(manual && w.window.manualSync)),
      nowMs,
    );
    const which = `a deny window (${denying[0]!.window.schedule})`;
    if (end.known) return { blocked: true, until: rfc3339(end.at), message: `${which} is active until ${rfc3339(end.at)}`, windows: count };
    // No timestamp: the message stays the same from one reconcile to the next, so no status write.
    return { blocked: true, message: `${which} is active with no end in sight: it opens again before it closes`, windows: count };
  }
  const allows = windows.filter((w) => w.window.kind === 'allow');
  const insideAllow = active.some((w) => w.window.kind === 'allow');
  if (allows.length > 0 && !insideAllow && !(manual && allows.some((w) => w.window.manualSync))) {
    const opens = allows.map((w) => w.schedule.next(nowMs)).filter((t) => t !== undefined);
    const until = opens.length > 0 ? rfc3339(Math.min(...opens)) : undefined;
    return {
      blocked: true,
      ...(until ? { until } : {}),
      message: `outside every allow window${until ? `; the next opens at ${until}` : ''}`,
      windows: count,
    };
  }
  return { blocked: false, message: insideAllow ? 'inside an allow window' : 'no window blocks syncing', windows: count };
}

/** The start of the opening that covers `ms`, if one does: one look back, never a scan. */
function openSince(w: CompiledWindow, ms: number): number | undefined {
  const fired = w.schedule.previous(ms);
  return fired !== undefined && fired > ms - w.durationMs ? fired : undefined;
}

/** Openings followed before giving up on finding the end of a block. */
const MAX_STEPS = 64;

/**
 * When the block by these deny windows ends: the first moment none of them is open. An opening
 * that starts before another ends extends the block, so each step jumps to the end of the last
 * opening that reaches the current end; a schedule that always re-opens in time (`* * * * *` for
 * 1h) never ends, and after MAX_STEPS the end is not known.
 */
function blockEnd(denying: readonly CompiledWindow[], nowMs: number): { at: number; known: boolean } {
  let end = nowMs;
  for (let step = 0; step < MAX_STEPS; step++) {
    let later = end;
    for (const w of denying) {
      // Open at `end` (an opening that reaches `end` exactly carries on at once).
      const fired = w.schedule.previous(end);
      if (fired !== undefined && fired + w.durationMs > end) later = Math.max(later, fired + w.durationMs);
    }
    if (later === end) return { at: end, known: true };
    end = later;
  }
  return { at: end, known: false };
}
