import { after, before, describe, it } from 'node:test';
import { testCluster } from '../harness/cluster.ts';
import { startGitServers } from '../harness/git.ts';
import { installCrds, testClient } from '../harness/tidemark.ts';
import { BAD_INPUTS, runBadInput, startBadInputEnv, type BadInputEnv } from './bad-input-faults.ts';
import { recordRow } from './report.ts';

/** `npm run faults`: bad input from Git and from specs, against one agent that also runs a healthy deployment. */
describe('the agent under bad input', { concurrency: 1 }, () => {
  let env: BadInputEnv | undefined;

  before(async () => {
    const cluster = await testCluster();
    await installCrds(cluster);
    const git = await startGitServers({ http: { allowAnonymousRead: true }, ssh: false });
    env = await startBadInputEnv({ cluster, admin: testClient(cluster), git });
  });

  // The deployments are released while the API client and the Git server still run.
  after(async () => {
    await env?.stop();
  });

  BAD_INPUTS.forEach((input, index) => {
    it(`reports, keeps the good state and serves the rest: ${input.name}`, async () => {
      recordRow(await runBadInput(env as BadInputEnv, input, index));
    });
  });
});
