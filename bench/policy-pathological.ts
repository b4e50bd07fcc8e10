/**
 * Hostile tags against catastrophic-backtracking patterns: the tag filter (RE2) against the same
 * pattern in JavaScript's backtracking RegExp. Prints figures only; asserts nothing.
 *
 *   node bench/policy-pathological.ts      (also part of `npm run bench`)
 *
 * RE2 runs the whole policy decision over up to 10,000 tags of up to 128 characters (the OCI
 * limit); the time per tag should stay flat as the count grows (linear total). JavaScript's
 * RegExp gets a handful of short tags only, growing one length step at a time, and stops once a
 * single match takes longer than the budget, so the run ends in seconds.
 */
import { fileURLToPath } from 'node:url';
import { decide } from '../image-updater/index.ts';

const PATTERNS = ['^(a+)+$', '^(a|a)*b$'];
const COUNTS = [1_000, 2_000, 5_000, 10_000];
const JS_LENGTHS = [16, 18, 20, 22, 24, 26, 28, 30];
const JS_SINGLE_MATCH_BUDGET_MS = 1_500;
const JS_TOTAL_BUDGET_MS = 8_000;
const RE2_RUNS = 5;

export interface Re2Point {
  pattern: string;
  tags: number;
  totalMs: number;
  usPerTag: number;
  outcome: string;
}

export interface JsPoint {
  pattern: string;
  length: number;
  ms: number;
  /** Growth over the previous length, when that one was measurable. */
  factor: number | undefined;
}

export interface PathologicalResult {
  re2: Re2Point[];
  js: JsPoint[];
  /** Per pattern, where the JavaScript run stopped and what one 128-character tag would take. */
  jsStops: Array<{ pattern: string; length: number; extrapolatedYears: number | undefined }>;
}

/** `aaaa…a!`: matches neither pattern, after the engine has tried everything. Lengths vary. */
function hostileTags(count: number): string[] {
  const tags: string[] = [];
  for (let i = 0; i < count; i++) tags.push(`${'a'.repeat(64 + (i % 63))}!`);
  return tags;
}

function timeMs(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

export function runPathological(): PathologicalResult {
  const result: PathologicalResult = { re2: [], js: [], jsStops: [] };
  const allTags = hostileTags(Math.max(...COUNTS));
  for (const pattern of PATTERNS) {
    const options = { filterTags: { pattern }, policy: { alphabetical: {} } };
    decide(allTags.slice(0, 100), options); // warm up: compile paths, JIT
    for (const count of COUNTS) {
      const tags = allTags.slice(0, count);
      let outcome = '';
      // The median of a few runs: one run of a few milliseconds is at the mercy of a GC pause.
      const runs = Array.from({ length: RE2_RUNS }, () =>
        timeMs(() => {
          const decision = decide(tags, options);
          outcome = 'error' in decision ? decision.error.code : decision.tag;
        }),
      ).sort((a, b) => a - b);
      const ms = runs[Math.floor(runs.length / 2)] as number;
      result.re2.push({ pattern, tags: count, totalMs: ms, usPerTag: (ms * 1000) / count, outcome });
    }
  }
  let spent = 0;
  for (const pattern of PATTERNS) {
    const regex = new RegExp(pattern);
    let previous: number | undefined;
    for (const length of JS_LENGTHS) {
      const tag = `${'a'.repeat(length - 1)}!`;
      const ms = timeMs(() => regex.test(tag));
      spent += ms;
      const factor = previous && previous > 0.05 ? ms / previous : undefined;
      result.js.push({ pattern, length, ms, factor });
      if (ms > JS_SINGLE_MATCH_BUDGET_MS || spent > JS_TOTAL_BUDGET_MS) {
        const step = JS_LENGTHS[1]! - JS_LENGTHS[0]!;
        const years = factor ? (ms * factor ** ((128 - length) / step)) / 1000 / 3600 / 24 / 365 : undefined;
        result.jsStops.push({ pattern, length, extrapolatedYears: years });
        break;
      }
      previous = ms;
    }
  }
  return result;
}

function pad(text: string | number, width: number): string {
  return String(text).padStart(width);
}

export function formatPathological(result: PathologicalResult): string {
  const out: string[] = [];
  out.push('RE2 (Tidemark tag filter, full decide()): hostile tags of 65–127 characters');
  out.push(`${'pattern'.padEnd(12)} ${pad('tags', 7)} ${pad('total ms', 10)} ${pad('µs/tag', 8)}`);
  for (const p of result.re2) {
    out.push(`${p.pattern.padEnd(12)} ${pad(p.tags, 7)} ${pad(p.totalMs.toFixed(1), 10)} ${pad(p.usPerTag.toFixed(2), 8)}  ${p.outcome}`);
  }
  out.push('');
  out.push('JavaScript RegExp (backtracking), one tag per length, same patterns');
  out.push(`${'pattern'.padEnd(12)} ${pad('length', 7)} ${pad('ms', 10)} ${pad('× prev', 8)}`);
  for (const pattern of PATTERNS) {
    for (const p of result.js.filter((j) => j.pattern === pattern)) {
      out.push(`${p.pattern.padEnd(12)} ${pad(p.length, 7)} ${pad(p.ms.toFixed(1), 10)} ${pad(p.factor ? p.factor.toFixed(1) : '', 8)}`);
    }
    const stop = result.jsStops.find((s) => s.pattern === pattern);
    if (stop) {
      out.push(
        stop.extrapolatedYears !== undefined
          ? `${''.padEnd(12)} stopped at the time budget; extrapolated, one 128-character tag would take ` +
              `~${stop.extrapolatedYears.toExponential(1)} years`
          : `${''.padEnd(12)} stopped at the time budget`,
      );
    }
  }
  return out.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(formatPathological(runPathological()));
}
