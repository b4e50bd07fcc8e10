import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../shared/kube/client.ts';
import { testCluster } from '../harness/cluster.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { startGitServers } from '../harness/git.ts';
import type { GitServers } from '../harness/git.ts';
import { installCrds, testClient } from '../harness/tidemark.ts';
import { WATCH_FAULTS, runWatchFault } from './watch-faults.ts';
import { recordRow } from './report.ts';

/** `npm run faults`: the agent's watches of what it manages expiring under it, with no sync asked for. */
describe('the agent under expiring watches', () => {
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

  for (const fault of WATCH_FAULTS) {
    it(`relists and heals drift after: ${fault.name}`, async () => {
      recordRow(await runWatchFault({ cluster, admin, git }, fault));
    });
  }
});
