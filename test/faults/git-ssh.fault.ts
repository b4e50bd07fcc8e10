import { describe, it } from 'node:test';
import { useFaultEnv } from './case-env.ts';
import { GIT_SSH_FAULTS, runGitSshFault } from './git-ssh-faults.ts';
import { recordRow } from './report.ts';

/** `npm run faults`: the agent against Git over SSH that is down, slow, garbled, an impostor, locked or gone (sshd needs root). */
describe('the agent under Git faults over SSH', () => {
  const env = useFaultEnv();
  const skip = process.getuid?.() === 0 ? false : 'needs root: sshd refuses to run otherwise';

  for (const fault of GIT_SSH_FAULTS) {
    it(`keeps the last good state and syncs again after: ${fault.name}`, { skip }, async () => {
      recordRow(await runGitSshFault(env(), fault));
    });
  }
});
