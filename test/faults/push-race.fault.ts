import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../shared/kube/client.ts';
import { testCluster } from '../harness/cluster.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { startGitServers } from '../harness/git.ts';
import type { GitServers } from '../harness/git.ts';
import { startRegistry, type TestRegistry } from '../harness/registry.ts';
import { installCrds, testClient } from '../harness/tidemark.ts';
import { runPushRace } from './push-race-faults.ts';
import { recordRow } from './report.ts';

/** `npm run faults`: the image updater's bot pushing to a branch ten people push to at the same time. */
describe('the image updater under concurrent human pushes', () => {
  let cluster: ClusterAccess;
  let admin: KubeClient;
  let git: GitServers;
  let registry: TestRegistry;

  before(async () => {
    cluster = await testCluster();
    await installCrds(cluster);
    admin = testClient(cluster);
    git = await startGitServers({ http: true, ssh: false });
    registry = await startRegistry({ auth: 'none' });
  });

  after(async () => {
    await registry?.stop();
    await git?.stop();
    await admin?.close();
  });

  it('keeps every human commit and exactly one copy of the bot change', async () => {
    recordRow(await runPushRace({ cluster, admin, git, registry }));
  });
});
