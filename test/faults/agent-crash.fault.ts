import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../shared/kube/client.ts';
import { testCluster } from '../harness/cluster.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { startGitServers } from '../harness/git.ts';
import type { GitServers } from '../harness/git.ts';
import { installCrds, testClient } from '../harness/tidemark.ts';
import { CRASH_POINTS, runCrashPoint } from './agent-crash.ts';
import { recordRow } from './report.ts';

/** `npm run faults`: the agent killed at every crash point of a 500-object sync. */
describe('agent killed mid-sync (full matrix)', () => {
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

  for (const point of CRASH_POINTS) {
    it(`converges after SIGKILL ${point.name}`, async () => {
      recordRow(await runCrashPoint({ cluster, admin, git }, point));
    });
  }
});
