import { describe, it } from 'node:test';
import { useFaultEnv } from './case-env.ts';
import { runDiskFull, runKilledMidFetch } from './disk-faults.ts';
import { recordRow } from './report.ts';

/** `npm run faults`: the Git cache's disk full, and the agent killed mid-download (needs root for the tmpfs). */
describe('the agent with its Git cache under pressure', () => {
  const env = useFaultEnv();
  const root = process.getuid?.() === 0;
  const skip = root ? false : 'needs root to mount a tmpfs for the cache';

  it('reports DiskFull, keeps the last good state and syncs once space returns', { skip }, async () => {
    recordRow(await runDiskFull(env()));
  });

  it('removes what an agent killed mid-fetch left in its cache, and converges', { skip }, async (t) => {
    recordRow(await runKilledMidFetch(env(), (left) => t.diagnostic(`the kill left: ${left.join(', ')}`)));
  });
});
