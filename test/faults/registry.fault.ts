import { after, before, describe, it } from 'node:test';
import type { KubeClient } from '../../shared/kube/client.ts';
import { startImageUpdater, type RunningImageUpdater } from '../../image-updater/index.ts';
import { testCluster } from '../harness/cluster.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { startRegistryFaultProxy, type RegistryFaultProxy } from '../harness/registry-fault-proxy.ts';
import { startRegistry, type TestRegistry } from '../harness/registry.ts';
import { installCrds, testClient, testLogger } from '../harness/tidemark.ts';
import { GOOD_TAGS, REGISTRY_FAULTS, REPO, runRegistryFault, startOtherHost, type OtherHost } from './registry-faults.ts';
import { recordRow } from './report.ts';

/** `npm run faults`: image scans against the real registry (token auth) through a fault proxy. */
describe('image scans under registry faults', () => {
  let cluster: ClusterAccess;
  let kube: KubeClient;
  let registry: TestRegistry;
  let proxy: RegistryFaultProxy;
  let other: OtherHost;
  let updater: RunningImageUpdater | undefined;
  let namespace = '';

  before(async () => {
    cluster = await testCluster();
    await installCrds(cluster);
    kube = testClient(cluster);
    namespace = await cluster.createNamespace('registry-faults');
    registry = await startRegistry({ auth: 'token' });
    await registry.pushImage(REPO, GOOD_TAGS);
    proxy = await startRegistryFaultProxy({ url: registry.url, tokenUrl: registry.issuer?.url });
    other = await startOtherHost();
    const auth = Buffer.from(`${registry.username}:${registry.password}`).toString('base64');
    await kube.rest.request({
      method: 'POST',
      path: `/api/v1/namespaces/${namespace}/secrets`,
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'registry-creds' },
        type: 'kubernetes.io/dockerconfigjson',
        data: { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths: { [proxy.host]: { auth } } })).toString('base64') },
      },
    });
    updater = await startImageUpdater({
      kubeconfigPath: cluster.kubeconfigPath,
      namespace,
      log: testLogger(),
      workers: 2,
      // Short waits so each case is seconds: three attempts, backoff from 200 ms, Retry-After up to 3 s.
      registry: { attempts: 3, backoff: { initialMs: 200, maxMs: 3000, factor: 2, jitter: 0 }, timeoutMs: 5000 },
    });
  });

  after(async () => {
    await updater?.stop();
    await proxy?.close();
    await other?.close();
    await registry?.stop();
    if (namespace) await cluster.deleteNamespace(namespace).catch(() => undefined);
    await kube?.close();
  });

  REGISTRY_FAULTS.forEach((fault, index) => {
    it(`reports and recovers from ${fault.name}`, async () => {
      recordRow(await runRegistryFault({ kube, namespace, registry, proxy, other }, fault, index));
    });
  });
});
