import { describe, it } from 'node:test';
import { useFaultEnv } from './case-env.ts';
import { API_FAULTS, CRASH_POINTS, crashFault, runSyncFault } from './sync-faults.ts';
import { recordRow } from './report.ts';

/** `npm run faults`: a 500-object sync under every fault — the agent killed, the API server failing. */
describe('a sync under faults (full matrix)', () => {
  const env = useFaultEnv();

  for (const fault of [...CRASH_POINTS.map(crashFault), ...API_FAULTS]) {
    it(`converges after ${fault.name}`, async () => {
      recordRow(await runSyncFault(env(), fault));
    });
  }
});
