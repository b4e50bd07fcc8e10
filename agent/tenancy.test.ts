import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContinuousDeployment } from '../shared/api/continuous-deployment.ts';
import { deploymentIdentity } from './tenancy.ts';

const cd = (namespace: string, serviceAccountName?: unknown): ContinuousDeployment => ({
  apiVersion: 'tidemark.dev/v1alpha1',
  kind: 'ContinuousDeployment',
  metadata: { name: 'app', namespace },
  spec: {
    url: 'https://git.example/config',
    ...(serviceAccountName === undefined ? {} : { serviceAccountName }),
  } as ContinuousDeployment['spec'],
});

test('the named ServiceAccount, always in the deployment’s own namespace', () => {
  assert.deepEqual(deploymentIdentity(cd('team-a', 'deployer'), {}), { namespace: 'team-a', name: 'deployer' });
  // A namespace allowed the agent's identity still acts as a ServiceAccount it names.
  assert.deepEqual(deploymentIdentity(cd('platform', 'deployer'), { agentIdentityNamespaces: ['platform'] }), {
    namespace: 'platform',
    name: 'deployer',
  });
});

test('without a name: the agent, unless lockdown sets a default; allowed namespaces keep the agent', () => {
  assert.equal(deploymentIdentity(cd('team-a'), {}), undefined);
  assert.equal(deploymentIdentity(cd('team-a', ''), {}), undefined);
  const lockdown = { defaultServiceAccount: 'default', agentIdentityNamespaces: ['platform'] };
  assert.deepEqual(deploymentIdentity(cd('team-a'), lockdown), { namespace: 'team-a', name: 'default' });
  assert.equal(deploymentIdentity(cd('platform'), lockdown), undefined);
});

test('a malformed name is a spec problem, never a header value nor a fallback to the agent', () => {
  for (const bad of ['a:b', 'x\r\nImpersonate-Group: system:masters', 'Deployer', 42]) {
    assert.throws(
      () => deploymentIdentity(cd('team-a', bad), {}),
      (err: unknown) => err instanceof Error && 'code' in err && err.code === 'InvalidSpec' && /spec\.serviceAccountName/.test(err.message),
    );
  }
});
