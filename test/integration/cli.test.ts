import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../cli/main.ts';
import { startAgent } from '../../agent/index.ts';
import type { RunningAgent } from '../../agent/index.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import { testCluster } from '../harness/cluster.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { startGitServers } from '../harness/git.ts';
import type { GitServers } from '../harness/git.ts';
import { applyCd, getCd, getObject, installCrds, testClient, testLogger, waitForCd } from '../harness/tidemark.ts';

interface Run {
  code: number;
  out: string;
  err: string;
}

describe('tidemark CLI against a real cluster', () => {
  let cluster: ClusterAccess;
  let kube: KubeClient;
  let git: GitServers;
  let agent: RunningAgent;
  let ns: string;
  let cacheDir: string;

  const run = async (...argv: string[]): Promise<Run> => {
    let out = '';
    let err = '';
    const code = await main([...argv, '--kubeconfig', cluster.kubeconfigPath], {
      out: (t) => void (out += t),
      err: (t) => void (err += t),
      env: {},
    });
    return { code, out, err };
  };

  before(async () => {
    cluster = await testCluster();
    await installCrds(cluster);
    kube = testClient(cluster);
    git = await startGitServers({ http: false, ssh: false });
    ns = await cluster.createNamespace('cli');
    cacheDir = await mkdtemp(join(tmpdir(), 'tidemark-cli-agent-'));
    agent = await startAgent({ allowLocalGit: true, kubeconfigPath: cluster.kubeconfigPath, namespace: ns, cacheDir, log: testLogger() });
    await git.repos.createRepo(
      'site',
      { 'deploy/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: site\ndata:\n  color: blue\n' },
      { branch: 'main' },
    );
    await applyCd(kube, {
      metadata: { name: 'site', namespace: ns },
      spec: { url: git.repos.fileUrl('site'), path: 'deploy', pullInterval: '1h', syncPolicy: { selfHeal: false } },
    });
    await waitForCd(kube, ns, 'site', (c) => c.status?.sync?.status === 'Synced', 'site synced');
  });

  after(async () => {
    await agent?.stop();
    await git?.stop();
    await kube?.close();
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  });

  it('get cd prints the list with the KubeSphere columns', async () => {
    const { code, out } = await run('get', 'cd', '-n', ns);
    assert.equal(code, 0);
    const normalized = out.replace(/main@[0-9a-f]{7}/, 'main@<sha>').replace(/ \d+s /, ' <age> ');
    assert.match(normalized, /^NAME\s+HEALTH\s+SYNC\s+LOCATION\s+REVISION\s+UPDATED\s+READY\n/);
    assert.match(normalized, new RegExp(`^site\\s+Healthy\\s+Synced\\s+in-cluster/${ns}\\s+main@<sha>\\s+<age>\\s+True$`, 'm'));
    const json = await run('get', 'cd', '-n', ns, '-o', 'json');
    assert.equal((JSON.parse(json.out) as { items: unknown[] }).items.length, 1);
    const all = await run('get', 'cd', '-A');
    assert.match(all.out, /^NAMESPACE\s+NAME/);
    assert.match(all.out, new RegExp(`^${ns}\\s+site\\s`, 'm'));
  });

  it('status shows the source, the resources and recent events', async () => {
    const { code, out } = await run('status', 'site', '-n', ns);
    assert.equal(code, 0, out);
    assert.ok(out.includes('Source:\n  URL:        file://'), out);
    assert.match(out, /ConfigMap\s+\S+\s+site\s+Synced\s+Healthy/);
    assert.match(out, /ReconciliationSucceeded/);
  });

  it('diff exits 0 when in sync, 1 with a readable diff after drift', async () => {
    assert.equal((await run('diff', 'site', '-n', ns)).code, 0);
    await kube.rest.request({
      method: 'PATCH',
      path: `/api/v1/namespaces/${ns}/configmaps/site`,
      contentType: 'application/merge-patch+json',
      body: { data: { color: 'red' } },
    });
    const { code, out } = await run('diff', 'site', '-n', ns);
    assert.equal(code, 1, out);
    assert.match(out, /~ update ConfigMap\/.*\/site/);
    assert.match(out, /^- {2}color: red$/m);
    assert.match(out, /^\+ {2}color: blue$/m);
  });

  it('diff masks Secret values as kubectl diff does: changed keys (before)/(after), the rest ***', async () => {
    await git.repos.createRepo(
      'vault',
      {
        'deploy/secret.yaml':
          'apiVersion: v1\nkind: Secret\nmetadata:\n  name: vault\nstringData:\n  password: git-side-password\n  user: admin-user\n',
      },
      { branch: 'main' },
    );
    await applyCd(kube, {
      metadata: { name: 'vault', namespace: ns },
      spec: { url: git.repos.fileUrl('vault'), path: 'deploy', pullInterval: '1h', syncPolicy: { selfHeal: false } },
    });
    await waitForCd(kube, ns, 'vault', (c) => c.status?.sync?.status === 'Synced', 'vault synced');
    await kube.rest.request({
      method: 'PATCH',
      path: `/api/v1/namespaces/${ns}/secrets/vault`,
      contentType: 'application/merge-patch+json',
      body: { data: { password: Buffer.from('live-side-password').toString('base64') } },
    });
    const { code, out } = await run('diff', 'vault', '-n', ns);
    assert.equal(code, 1, out);
    assert.match(out, /~ update Secret\/.*\/vault/);
    for (const clear of ['git-side-password', 'live-side-password', 'admin-user']) {
      assert.ok(!out.includes(clear) && !out.includes(Buffer.from(clear).toString('base64')), `${clear} printed:\n${out}`);
    }
    assert.match(out, /^- {2}password: "\*\*\*\*\* \(before\)"$/m);
    assert.match(out, /^\+ {2}password: "\*\*\*\*\* \(after\)"$/m);
    assert.match(out, /^ {3}user: "\*\*\*"$/m);
  });

  it('sync --wait applies and reports the result', async () => {
    const { code, out } = await run('sync', 'site', '-n', ns, '--wait', '--timeout', '60s');
    assert.equal(code, 0, out);
    assert.match(out, /✔ synced main@sha1:/);
    const site = await getObject(kube, `/api/v1/namespaces/${ns}/configmaps/site`);
    assert.equal((site?.data as Record<string, string>).color, 'blue');
  });

  it('suspend and resume flip spec.suspend; status shows Suspended', async () => {
    assert.equal((await run('suspend', 'site', '-n', ns)).code, 0);
    await waitForCd(kube, ns, 'site', (c) => c.status?.health?.status === 'Suspended', 'suspended');
    assert.equal((await getCd(kube, ns, 'site'))?.spec.suspend, true);
    assert.equal((await run('resume', 'site', '-n', ns)).code, 0);
    await waitForCd(kube, ns, 'site', (c) => c.spec.suspend === false && c.status?.health?.status === 'Healthy', 'resumed');
  });

  it('get images lists repositories and policies', async () => {
    const { code, out } = await run('get', 'images', '-n', ns);
    assert.equal(code, 0);
    assert.match(out, /^NAME\s+IMAGE \/ LATEST\s+TAGS\s+SCANNED\s+READY\n/);
  });

  it('exit codes: unknown object 3, usage error 2', async () => {
    const missing = await run('status', 'nope', '-n', ns);
    assert.equal(missing.code, 3);
    assert.match(missing.err, /not found/);
    assert.equal((await run('get', 'widgets')).code, 2);
    assert.equal((await run('get', 'cd', '-o', 'xml')).code, 2);
    const unknown = await run('agent', '--bogus');
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /Unknown option '--bogus'\nRun 'tidemark agent --help' for usage/);
  });

  it('--help answers without touching the cluster, for the programs too', async () => {
    for (const argv of [
      ['agent', '--help'],
      ['image-updater', '-h'],
      ['status', 'site', '-n', ns, '--help'],
    ]) {
      const { code, out, err } = await run(...argv);
      assert.equal(code, 0, `tidemark ${argv.join(' ')}: ${err}`);
      assert.match(out, new RegExp(`^Usage: tidemark ${argv[0] ?? ''} `));
    }
  });
});
