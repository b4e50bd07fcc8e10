import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../shared/kube/client.ts';
import { testCluster } from '../harness/cluster.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { startGitServers } from '../harness/git.ts';
import type { GitServers } from '../harness/git.ts';
import { installCrds, testClient } from '../harness/tidemark.ts';
import { API_FAULTS, CRASH_POINTS, crashFault, runSyncFault } from './sync-faults.ts';
import { recordRow } from './report.ts';

/** `npm run faults`: a 500-object sync under every fault — the agent killed, the API server failing. */
describe('a sync under faults (full matrix)', () => {
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

  for (const fault of [...CRASH_POINTS.map(crashFault), ...API_FAULTS]) {
    it(`converges after ${fault.name}`, async () => {
      recordRow(await runSyncFault({ cluster, admin, git }, fault));
    });
  }
});
