/**
 * Writes `cases.json`: the generated cases with what the Go oracle says Flux would set for each.
 * Run by scripts/build-marker-fixtures.sh, which builds the oracle first:
 * `node image-updater/markers/oracle/fixtures.ts <oracle binary> [seed]`.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateCases } from './generate.ts';
import type { GeneratedMarker } from './generate.ts';

/** What Flux sets for one marker: the value's position (characters, 1-based) and old value. */
export interface OracleSet {
  setter: string;
  line: number;
  column: number;
  value: string;
}

export interface OracleCase {
  id: string;
  text: string;
  markers: GeneratedMarker[];
  sets: OracleSet[];
  /** Why Flux's reader skips the whole file, when it does. */
  rejected?: string;
}

export const SEED = 17;
export const COUNT = 1500;
export const CASES_FILE = join(import.meta.dirname, 'cases.json');

function main(oracle: string, seed: number): void {
  const cases = generateCases(seed, COUNT);
  const input = JSON.stringify(cases.map(({ id, text }) => ({ id, text })));
  const answers = JSON.parse(execFileSync(oracle, { input, maxBuffer: 1 << 30 }).toString('utf8')) as Array<{
    id: string;
    sets: OracleSet[];
    rejected?: string;
  }>;
  const out: OracleCase[] = cases.map((c, i) => {
    const a = answers[i];
    if (a?.id !== c.id) throw new Error(`the oracle answered out of order at ${c.id}`);
    return { ...c, sets: a.sets, ...(a.rejected !== undefined ? { rejected: a.rejected } : {}) };
  });
  // One case per line: reviewable diffs when the generator or the oracle changes.
  writeFileSync(CASES_FILE, `[\n${out.map((c) => JSON.stringify(c)).join(',\n')}\n]\n`);
  const sets = out.reduce((n, c) => n + c.sets.length, 0);
  const markers = out.reduce((n, c) => n + c.markers.length, 0);
  const rejected = out.filter((c) => c.rejected !== undefined).length;
  process.stderr.write(`marker oracle: ${out.length} cases, ${markers} markers, ${sets} sets, ${rejected} files Flux skips\n`);
}

if (import.meta.main) {
  const [oracle, seed] = process.argv.slice(2);
  if (oracle === undefined) throw new Error('usage: fixtures.ts <oracle binary> [seed]');
  // Another seed checks the scan on inputs it was not fixed against; commit only the default.
  main(oracle, seed === undefined ? SEED : Number(seed));
}
