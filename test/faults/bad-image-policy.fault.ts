import { after, before, describe, it } from 'node:test';
import { testCluster } from '../harness/cluster.ts';
import { installCrds } from '../harness/tidemark.ts';
import { BAD_POLICIES, runBadPolicy, startBadPolicyEnv, type BadPolicyEnv } from './bad-image-policy-faults.ts';
import { recordRow } from './report.ts';

/** `npm run faults`: bad regexes and semver ranges in ImagePolicies, beside a healthy one. */
describe('the image updater under bad policies', { concurrency: 1 }, () => {
  let env: BadPolicyEnv | undefined;

  before(async () => {
    const cluster = await testCluster();
    await installCrds(cluster);
    env = await startBadPolicyEnv(cluster);
  });

  after(async () => {
    await env?.stop();
  });

  BAD_POLICIES.forEach((bad, index) => {
    it(`reports, keeps the last tag and serves the rest: ${bad.name}`, async () => {
      recordRow(await runBadPolicy(env as BadPolicyEnv, bad, index));
    });
  });
});
