/**
 * Hostile tags against catastrophic-backtracking patterns: the tag filter (RE2) against the same
 * pattern in JavaScript's backtracking RegExp. Prints figures only; asserts nothing.
 *
 *   node bench/policy-pathological.ts
 *
 * RE2 runs the whole policy decision over up to 10,000 tags of up to 128 characters (the OCI
 * limit); the time per tag should stay flat as the count grows (linear total). JavaScript's
 * RegExp gets a handful of short tags only, growing one length step at a time, and stops once a
 * single match takes longer than the budget, so the run ends in seconds.
 */
import { decide } from '../image-updater/policy/index.ts';

const PATTERNS = ['^(a+)+$', '^(a|a)*b$'];
const COUNTS = [1_000, 2_000, 5_000, 10_000];
const JS_LENGTHS = [16, 18, 20, 22, 24, 26, 28, 30];
const JS_SINGLE_MATCH_BUDGET_MS = 1_500;
const JS_TOTAL_BUDGET_MS = 8_000;

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

function pad(text: string | number, width: number): string {
  return String(text).padStart(width);
}

const allTags = hostileTags(Math.max(...COUNTS));

console.log('RE2 (Tidemark tag filter, full decide()): hostile tags of 65–127 characters');
console.log(`${'pattern'.padEnd(12)} ${pad('tags', 7)} ${pad('total ms', 10)} ${pad('µs/tag', 8)}`);
for (const pattern of PATTERNS) {
  const options = { filterTags: { pattern }, policy: { alphabetical: {} } };
  decide(allTags.slice(0, 100), options); // warm up: compile paths, JIT
  for (const count of COUNTS) {
    const tags = allTags.slice(0, count);
    let outcome = '';
    const ms = timeMs(() => {
      const decision = decide(tags, options);
      outcome = 'error' in decision ? decision.error.code : decision.tag;
    });
    console.log(`${pattern.padEnd(12)} ${pad(count, 7)} ${pad(ms.toFixed(1), 10)} ${pad(((ms * 1000) / count).toFixed(2), 8)}  ${outcome}`);
  }
}

console.log('');
console.log('JavaScript RegExp (backtracking), one tag per length, same patterns');
console.log(`${'pattern'.padEnd(12)} ${pad('length', 7)} ${pad('ms', 10)} ${pad('× prev', 8)}`);
let spent = 0;
for (const pattern of PATTERNS) {
  const regex = new RegExp(pattern);
  let previous: number | undefined;
  for (const length of JS_LENGTHS) {
    const tag = `${'a'.repeat(length - 1)}!`;
    const ms = timeMs(() => regex.test(tag));
    spent += ms;
    const ratio = previous && previous > 0.05 ? ms / previous : undefined;
    console.log(`${pattern.padEnd(12)} ${pad(length, 7)} ${pad(ms.toFixed(1), 10)} ${pad(ratio ? ratio.toFixed(1) : '', 8)}`);
    if (ms > JS_SINGLE_MATCH_BUDGET_MS || spent > JS_TOTAL_BUDGET_MS) {
      if (ratio) {
        const years = (ms * ratio ** ((128 - length) / (JS_LENGTHS[1]! - JS_LENGTHS[0]!))) / 1000 / 3600 / 24 / 365;
        console.log(`${''.padEnd(12)} stopped at the time budget; extrapolated, one 128-character tag would take ~${years.toExponential(1)} years`);
      } else {
        console.log(`${''.padEnd(12)} stopped at the time budget`);
      }
      break;
    }
    previous = ms;
  }
}
