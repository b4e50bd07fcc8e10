import { describe, it } from 'node:test';
import { useFaultEnv } from './case-env.ts';
import { GIT_FAULTS, runGitFault } from './git-faults.ts';
import { recordRow } from './report.ts';

/** `npm run faults`: the agent against a Git server that is down, slow, garbled, locked or gone. */
describe('the agent under Git faults', () => {
  const env = useFaultEnv();

  for (const fault of GIT_FAULTS) {
    it(`keeps the last good state and syncs again after: ${fault.name}`, async () => {
      recordRow(await runGitFault(env(), fault));
    });
  }
});
