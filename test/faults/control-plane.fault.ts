import { after, before, describe, it } from 'node:test';
import { startControlPlane, type ControlPlane } from '../harness/control-plane.ts';
import { startGitServers } from '../harness/git.ts';
import { installCrds, testClient } from '../harness/tidemark.ts';
import type { FaultEnv } from './case-env.ts';
import { controlPlaneFaults } from './control-plane-faults.ts';
import { recordRow } from './report.ts';
import { runSyncFault } from './sync-faults.ts';

/** `npm run faults`: kube-apiserver and etcd failing under a 500-object sync, on a control plane of its own. */
describe('a sync while the control plane fails', () => {
  let plane: ControlPlane | undefined;
  let env: FaultEnv | undefined;

  before(async () => {
    plane = await startControlPlane();
    await installCrds(plane);
    env = { cluster: plane, admin: testClient(plane), git: await startGitServers({ http: { allowAnonymousRead: true }, ssh: false }) };
  });

  after(async () => {
    await env?.git.stop();
    await env?.admin.close();
    await plane?.stop();
  });

  const need = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('used before the before() hook ran');
    return value;
  };

  for (const fault of controlPlaneFaults(() => need(plane))) {
    it(`converges after ${fault.name}`, async () => {
      recordRow(await runSyncFault(need(env), fault));
    });
  }
});
