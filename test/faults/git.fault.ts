import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../shared/kube/client.ts';
import { testCluster } from '../harness/cluster.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { startGitServers } from '../harness/git.ts';
import type { GitServers } from '../harness/git.ts';
import { installCrds, testClient } from '../harness/tidemark.ts';
import { GIT_FAULTS, runGitFault } from './git-faults.ts';
import { recordRow } from './report.ts';

/** `npm run faults`: the agent against a Git server that is down, slow, garbled, locked or gone. */
describe('the agent under Git faults', () => {
  let cluster: ClusterAccess;
  let admin: KubeClient;
  let git: GitServers;

  before(async () => {
    cluster = await testCluster();
    await installCrds(cluster);
    admin = testClient(cluster);
    git = await startGitServers({ http: { allowAnonymousRead: true }, ssh: false });
  });

  after(async () => {
    await git?.stop();
    await admin?.close();
  });

  for (const fault of GIT_FAULTS) {
    it(`keeps the last good state and syncs again after: ${fault.name}`, async () => {
      recordRow(await runGitFault({ cluster, admin, git }, fault));
    });
  }
});
