/**
 * `npm run faults`: every fault case on the real servers (test/faults/*.fault.ts, through the test
 * runner and its control plane), then the table the README shows. `npm test` runs a short form
 * (test/integration/faults-short.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPORT_ENV, type FaultRow } from './report.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tidemark-faults-'));
const report = join(dir, 'rows.jsonl');
try {
  const run = spawnSync(process.execPath, ['test/run.ts', 'test/faults/*.fault.ts', ...process.argv.slice(2)], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, [REPORT_ENV]: report },
  });
  let rows: FaultRow[] = [];
  try {
    rows = readFileSync(report, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as FaultRow);
  } catch {
    // No case finished.
  }
  process.stdout.write(`\n${faultTable(rows)}\n`);
  process.exitCode = run.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}

function faultTable(rows: readonly FaultRow[]): string {
  const header = [
    '| fault | converged | recovered in | lost objects | orphans | lost commits | secret hits | agent peak RSS |',
    '| --- | :---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ].join('\n');
  const lines = rows.map((r) => {
    const recovered = r.recoverySeconds === undefined ? '—' : `${r.recoverySeconds.toFixed(1)} s`;
    const cells = [
      r.fault,
      r.converged ? 'yes' : '**no**',
      recovered,
      r.lostObjects,
      r.orphans,
      r.lostCommits ?? '—',
      r.secretHits ?? '—',
      r.peakRssMiB === undefined ? '—' : `${r.peakRssMiB} MiB`,
    ];
    return `| ${cells.join(' | ')} |`;
  });
  return [header, ...lines].join('\n');
}
