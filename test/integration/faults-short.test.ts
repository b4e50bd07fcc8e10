import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../shared/kube/client.ts';
import { testCluster } from '../harness/cluster.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { startGitServers } from '../harness/git.ts';
import type { GitServers } from '../harness/git.ts';
import { installCrds, testClient } from '../harness/tidemark.ts';
import { CRASH_POINTS, runCrashPoint } from '../faults/agent-crash.ts';

/**
 * The short form of `npm run faults` that `npm test` runs: the agent killed in the middle of the
 * apply of a first sync, and in the middle of a prune. The full matrix is `npm run faults`.
 */
const SHORT = ['during apply (250th write)', 'during prune (50th delete)'];

describe('faults (short form): agent killed mid-sync', () => {
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

  for (const point of CRASH_POINTS.filter((p) => SHORT.includes(p.name))) {
    it(`converges after SIGKILL ${point.name}`, async () => {
      await runCrashPoint({ cluster, admin, git }, point);
    });
  }
});
