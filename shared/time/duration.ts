import { terminal } from '../errors/index.ts';

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;

/**
 * Parses a Go duration (`1h30m`, `90s`, `1.5h`, `500ms`, `0`) into milliseconds.
 * Negative durations are refused: every duration in a spec is an interval or a timeout.
 */
export function parseDuration(text: string): number {
  const input = text.trim();
  if (input === '0') return 0;
  if (input === '') throw invalid(text);
  let rest = input;
  let total = 0;
  while (rest.length > 0) {
    const m = PART.exec(rest);
    if (!m) throw invalid(text);
    const value = Number(m[1]);
    const unit = UNIT_MS[m[2] as string];
    if (unit === undefined || !Number.isFinite(value)) throw invalid(text);
    total += value * unit;
    rest = rest.slice(m[0].length);
  }
  return total;
}

/** Formats milliseconds the way Go prints durations, trimmed of zero parts: `1h30m0s` → `1h30m`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let seconds = Math.round(ms / 1000);
  const h = Math.floor(seconds / 3600);
  seconds -= h * 3600;
  const m = Math.floor(seconds / 60);
  seconds -= m * 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${seconds ? `${seconds}s` : ''}` || '0s';
}

function invalid(text: string) {
  return terminal('InvalidDuration', `invalid duration ${JSON.stringify(text)}`, 'use Go duration syntax such as 90s, 5m or 1h30m');
}
