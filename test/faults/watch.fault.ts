import { describe, it } from 'node:test';
import { useFaultEnv } from './case-env.ts';
import { WATCH_FAULTS, runWatchFault } from './watch-faults.ts';
import { recordRow } from './report.ts';

/** `npm run faults`: the agent's watches of what it manages expiring under it, with no sync asked for. */
describe('the agent under expiring watches', () => {
  const env = useFaultEnv();

  for (const fault of WATCH_FAULTS) {
    it(`relists and heals drift after: ${fault.name}`, async () => {
      recordRow(await runWatchFault(env(), fault));
    });
  }
});
