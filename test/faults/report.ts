import { appendFileSync } from 'node:fs';

/** One line of the fault table: what was injected and what the system was left with. */
export interface FaultRow {
  fault: string;
  converged: boolean;
  /** Objects of the commit missing or wrong at the end, plus any Git still had that were deleted. */
  lostObjects: number;
  /** Objects left behind that the commit no longer has. */
  orphans: number;
  /** Human commits missing from the branch at the end (Git faults). */
  lostCommits?: number;
  /** Known secret values found in logs, status, Events or output. */
  secretHits?: number;
  /** Seconds from the end of the fault (or the restart after a kill) until the system had converged. */
  recoverySeconds?: number;
  /** The agent process's peak resident memory during the case, in MiB (bad-input cases). */
  peakRssMiB?: number;
}

/** Where `npm run faults` collects rows (JSON lines); unset in `npm test`, which only asserts. */
export const REPORT_ENV = 'TIDEMARK_FAULTS_REPORT';

export function recordRow(row: FaultRow): void {
  const file = process.env[REPORT_ENV];
  if (file) appendFileSync(file, `${JSON.stringify(row)}\n`);
}
