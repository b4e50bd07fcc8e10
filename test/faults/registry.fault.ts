import { after, before, describe, it } from 'node:test';
import { testCluster } from '../harness/cluster.ts';
import { installCrds } from '../harness/tidemark.ts';
import { REGISTRY_FAULTS, runRegistryFault, startRegistryFaultEnv, type RegistryFaultEnv } from './registry-faults.ts';
import { recordRow } from './report.ts';

/** `npm run faults`: image scans against the real registry (token auth) through a fault proxy. */
describe('image scans under registry faults', () => {
  let env: (RegistryFaultEnv & { stop(): Promise<void> }) | undefined;

  before(async () => {
    const cluster = await testCluster();
    await installCrds(cluster);
    env = await startRegistryFaultEnv(cluster);
  });

  after(async () => {
    await env?.stop();
  });

  REGISTRY_FAULTS.forEach((fault, index) => {
    it(`reports and recovers from ${fault.name}`, async () => {
      recordRow(await runRegistryFault(env as RegistryFaultEnv, fault, index));
    });
  });
});
