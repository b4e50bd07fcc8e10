import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useAgentWorld } from '../harness/agent-world.ts';
import { waitFor } from '../harness/process.ts';
import {
  applyCd,
  condition,
  getCd,
  getObject,
  listEvents,
  requestSync,
  waitForCd,
  waitForEvent,
  waitForFailedAttempt,
} from '../harness/tidemark.ts';
import { configMapYaml, deploymentYaml } from '../harness/manifests.ts';

const configMap = (name: string, data: Record<string, string>, namespace?: string) => configMapYaml(name, data, { namespace });
const deployment = deploymentYaml;

describe('agent: Git to cluster', () => {
  const world = useAgentWorld('agent', { http: true, ssh: true, workers: 4 });

  const cm = (name: string, namespace = world().apps) => getObject(world().kube, `/api/v1/namespaces/${namespace}/configmaps/${name}`);

  it('first sync creates everything and reports Synced with the revision', async () => {
    const { kube, git, ns, apps } = world();
    const sha = await git.repos.createRepo(
      'infra',
      {
        'infrastructure/config.yaml': configMap('settings', { color: 'blue' }),
        'infrastructure/app/web.yaml': deployment('web', 'nginx:1.25'),
        'infrastructure/multi.yaml': `${configMap('one', { n: '1' })}---\n${configMap('two', { n: '2' })}`,
        'README.md': 'not a manifest',
      },
      { branch: 'infra' },
    );
    await applyCd(kube, {
      metadata: { name: 'infra', namespace: ns },
      spec: {
        repoType: 'git',
        url: git.repos.fileUrl('infra'),
        pullInterval: '1h',
        git: { branch: 'infra' },
        path: './infrastructure',
        targetNamespace: apps,
      },
    });
    const cd = await waitForCd(kube, ns, 'infra', (c) => c.status?.sync?.status === 'Synced', 'first sync');
    assert.equal(cd.status?.sync?.revision, `infra@sha1:${sha}`);
    assert.equal(cd.status?.lastAppliedRevision, `infra@sha1:${sha}`);
    assert.equal(condition(cd, 'Ready')?.status, 'True');
    assert.deepEqual(cd.status?.location, { cluster: 'in-cluster', namespace: apps });
    // The first sync of a new deployment is a spec change (a generation the status had not seen).
    assert.deepEqual(
      cd.status?.history?.map((h) => [h.revision, h.result, h.trigger]),
      [[`infra@sha1:${sha}`, 'Succeeded', 'SpecChange']],
    );
    assert.deepEqual(cd.status?.resources?.map((r) => `${r.kind}/${r.name}`).sort(), [
      'ConfigMap/one',
      'ConfigMap/settings',
      'ConfigMap/two',
      'Deployment/web',
    ]);
    const settings = await cm('settings');
    assert.equal((settings?.data as Record<string, string>).color, 'blue');
    assert.equal(settings?.metadata.annotations?.['tidemark.dev/owned-by'], `${ns}/infra:/ConfigMap:${apps}/settings`);
    const managers = (settings?.metadata.managedFields as Array<{ manager: string }>).map((m) => m.manager);
    assert.ok(managers.includes('tidemark'), `field managers: ${managers.join(', ')}`);
    await waitForEvent(
      kube,
      ns,
      'infra',
      (e) => e.reason === 'ReconciliationSucceeded' && e.message.includes('created 4'),
      'the sync Event',
    );
  });

  it('a new commit that changes, adds and removes objects is applied and pruned', async () => {
    const { kube, git, ns } = world();
    const sha = await git.repos.commitFiles(
      'infra',
      'infra',
      {
        'infrastructure/config.yaml': configMap('settings', { color: 'green' }),
        'infrastructure/multi.yaml': configMap('one', { n: '1' }),
        'infrastructure/three.yaml': configMap('three', { n: '3' }),
      },
      'change, add, remove',
    );
    await requestSync(kube, ns, 'infra');
    const cd = await waitForCd(kube, ns, 'infra', (c) => c.status?.lastAppliedRevision === `infra@sha1:${sha}`, 'second sync');
    assert.equal(cd.status?.sync?.status, 'Synced');
    assert.equal(((await cm('settings'))?.data as Record<string, string>).color, 'green');
    assert.ok(await cm('three'));
    assert.equal(await cm('two'), undefined, 'two left Git and is pruned');
    assert.deepEqual(cd.status?.resources?.map((r) => r.name).sort(), ['one', 'settings', 'three', 'web']);
    assert.deepEqual(cd.status?.history?.map((h) => [h.subject ?? '', h.result, h.trigger]).slice(0, 2), [
      ['change, add, remove', 'Succeeded', 'SyncRequest'],
      [cd.status?.history?.[1]?.subject ?? '', 'Succeeded', 'SpecChange'],
    ]);
    assert.equal(cd.status?.history?.[0]?.revision, `infra@sha1:${sha}`);
  });

  it('a broken commit changes nothing in the cluster and says why', async () => {
    const { kube, git, ns } = world();
    const good = (await getCd(kube, ns, 'infra'))?.status?.lastAppliedRevision;
    const sha = await git.repos.commitFiles(
      'infra',
      'infra',
      {
        'infrastructure/config.yaml': configMap('settings', { color: 'red' }),
        'infrastructure/three.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: three\n data: [unclosed\n',
      },
      'broken yaml',
    );
    await requestSync(kube, ns, 'infra');
    const cd = await waitForFailedAttempt(kube, ns, 'infra', `infra@sha1:${sha}`, 'render failure reported');
    const ready = condition(cd, 'Ready');
    assert.equal(ready?.reason, 'ManifestParseFailed');
    assert.match(ready?.message ?? '', /three\.yaml/);
    assert.equal(condition(cd, 'Stalled')?.status, 'True');
    assert.equal(cd.status?.lastAppliedRevision, good);
    assert.equal(((await cm('settings'))?.data as Record<string, string>).color, 'green', 'nothing applied');
    assert.ok(await cm('three'), 'nothing pruned');
    await waitForEvent(kube, ns, 'infra', (e) => e.type === 'Warning' && e.reason === 'ManifestParseFailed', 'the parse failure Event');
    const newest = cd.status?.history?.[0];
    assert.deepEqual(
      [newest?.revision, newest?.subject, newest?.result, newest?.reason],
      [`infra@sha1:${sha}`, 'broken yaml', 'Failed', 'ManifestParseFailed'],
    );
  });

  it('an object the server rejects blocks the whole apply and is named', async () => {
    const { kube, git, ns } = world();
    const sha = await git.repos.commitFiles(
      'infra',
      'infra',
      {
        'infrastructure/three.yaml': configMap('three', { n: '3' }),
        'infrastructure/bad.yaml': 'apiVersion: v1\nkind: Service\nmetadata:\n  name: bad\nspec:\n  ports:\n    - port: 99999\n',
      },
      'invalid service',
    );
    await requestSync(kube, ns, 'infra');
    const cd = await waitForFailedAttempt(kube, ns, 'infra', `infra@sha1:${sha}`, 'server rejection reported');
    assert.equal(condition(cd, 'Ready')?.reason, 'ObjectInvalid', condition(cd, 'Ready')?.message);
    assert.match(condition(cd, 'Ready')?.message ?? '', /Service\/.*\/bad/);
    assert.equal(((await cm('settings'))?.data as Record<string, string>).color, 'green', 'dry-run failed: nothing applied');
  });

  for (const [name, files, reason] of [
    ['an object without kind', { 'x/a.yaml': 'apiVersion: v1\nmetadata:\n  name: a\n' }, 'ManifestInvalid'],
    ['a kind the server does not know', { 'x/a.yaml': 'apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: a\n' }, 'UnknownKind'],
    ['duplicate objects', { 'x/a.yaml': configMap('dup', { a: '1' }), 'x/b.yaml': configMap('dup', { a: '2' }) }, 'DuplicateObject'],
  ] as const) {
    it(`bad input: ${name} → ${reason}`, async () => {
      const { kube, git, ns, apps } = world();
      const repo = `bad-${reason.toLowerCase()}`;
      await git.repos.createRepo(repo, files, { branch: 'main' });
      const cdName = repo;
      await applyCd(kube, {
        metadata: { name: cdName, namespace: ns },
        spec: { url: git.repos.fileUrl(repo), path: 'x', targetNamespace: apps },
      });
      const cd = await waitForCd(kube, ns, cdName, (c) => condition(c, 'Ready')?.status === 'False', `${reason} reported`);
      assert.equal(condition(cd, 'Ready')?.reason, reason, condition(cd, 'Ready')?.message);
    });
  }

  it('an invalid spec: every problem in one condition and one Event, nothing fetched', async () => {
    const { kube, ns, apps } = world();
    // Values the schema admits but git would refuse or misread: the agent names them all at once.
    await applyCd(kube, {
      metadata: { name: 'invalid-spec', namespace: ns },
      spec: { url: 'ext::sh', git: { branch: 'a..b' }, pullInterval: '500ms', targetNamespace: apps },
    });
    const cd = await waitForCd(kube, ns, 'invalid-spec', (c) => condition(c, 'Ready')?.status === 'False', 'invalid spec reported');
    const ready = condition(cd, 'Ready');
    assert.equal(ready?.reason, 'InvalidSpec', ready?.message);
    assert.match(ready?.message ?? '', /^Reconcile failed: 3 problems: spec\.url: .*transport that is not allowed/);
    assert.match(
      ready?.message ?? '',
      /; spec\.pullInterval: "500ms" is shorter than 1s \(.*\); spec\.git\.branch: "a\.\.b" is not a valid branch name/,
    );
    assert.equal(condition(cd, 'Stalled')?.status, 'True', 'terminal: waits for a spec change');
    assert.equal(cd.status?.lastAttemptedRevision, undefined, 'nothing was fetched');
    // The Event is recorded after the status write: wait for it, then hold that there is one.
    const invalidSpecEvents = async () => (await listEvents(kube, ns, 'invalid-spec')).filter((e) => e.reason === 'InvalidSpec');
    await waitFor(async () => (await invalidSpecEvents()).length > 0, { timeoutMs: 30_000, what: 'the InvalidSpec Event' });
    const events = await invalidSpecEvents();
    assert.equal(events.length, 1, JSON.stringify(events));
    assert.equal(events[0]?.message, ready?.message);
  });

  it('git.commit: the API server takes a full SHA-1 or SHA-256 and refuses an abbreviated one', async () => {
    const { kube, ns } = world();
    const spec = (commit: string) => ({ url: 'https://git.example.test/org/infra.git', git: { commit }, suspend: true });
    for (const [name, commit] of [
      ['sha1', '5b1c0e8f0f3c2b8d8a1d0c9e7f6a5b4c3d2e1f00'],
      ['sha256', '6f4ee2a0a5f8b8c2b0d6e1c3a7b9d2e4f6a8c0e2b4d6f8a0c2e4a6b8d0f2a4c6'],
    ] as const) {
      await applyCd(kube, { metadata: { name: `commit-${name}`, namespace: ns }, spec: spec(commit) });
      assert.equal((await getCd(kube, ns, `commit-${name}`))?.spec.git?.commit, commit);
    }
    await assert.rejects(applyCd(kube, { metadata: { name: 'commit-short', namespace: ns }, spec: spec('5b1c0e8') }), (err: unknown) => {
      assert.match(String((err as Error).message), /spec\.git\.commit/);
      return true;
    });
    assert.equal(await getCd(kube, ns, 'commit-short'), undefined);
  });

  it('bad source: unreachable repository, missing branch, wrong password', async () => {
    const { kube, git, ns } = world();
    await git.repos.createRepo('private', { 'deploy/cm.yaml': configMap('private-cm', { a: '1' }) }, { branch: 'main' });
    await kube.rest.request({
      method: 'POST',
      path: `/api/v1/namespaces/${ns}/secrets`,
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'wrong' },
        stringData: { username: git.http!.reader.username, password: 'not-the-password' },
      },
    });
    await applyCd(kube, {
      metadata: { name: 'unreachable', namespace: ns },
      spec: { url: 'http://127.0.0.1:9/nothing.git', path: 'deploy' },
    });
    await applyCd(kube, {
      metadata: { name: 'nobranch', namespace: ns },
      spec: { url: git.repos.fileUrl('private'), git: { branch: 'does-not-exist' }, path: 'deploy' },
    });
    await applyCd(kube, {
      metadata: { name: 'wrongpass', namespace: ns },
      spec: { url: git.http!.url('private'), secretRef: 'wrong', path: 'deploy' },
    });
    const unreachable = await waitForCd(kube, ns, 'unreachable', (c) => condition(c, 'Ready')?.status === 'False', 'unreachable reported');
    assert.equal(condition(unreachable, 'Ready')?.reason, 'GitUnreachable');
    assert.equal(condition(unreachable, 'Reconciling')?.status, 'True', 'transient: retried');
    const nobranch = await waitForCd(kube, ns, 'nobranch', (c) => condition(c, 'Ready')?.status === 'False', 'missing branch reported');
    assert.equal(condition(nobranch, 'Ready')?.reason, 'GitRefNotFound');
    const wrongpass = await waitForCd(kube, ns, 'wrongpass', (c) => condition(c, 'Ready')?.status === 'False', 'wrong password reported');
    assert.equal(condition(wrongpass, 'Ready')?.reason, 'GitAuthenticationFailed');
    assert.doesNotMatch(JSON.stringify(wrongpass.status), /not-the-password/);
    const events = JSON.stringify(await listEvents(kube, ns, 'wrongpass'));
    assert.doesNotMatch(events, /not-the-password/);
  });

  it('private repositories over HTTP (basic auth) and SSH (key + known_hosts)', async () => {
    const { kube, git, ns, apps } = world();
    await kube.rest.request({
      method: 'POST',
      path: `/api/v1/namespaces/${ns}/secrets`,
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'http-creds' },
        stringData: { username: git.http!.reader.username, password: git.http!.reader.password },
      },
    });
    await kube.rest.request({
      method: 'POST',
      path: `/api/v1/namespaces/${ns}/secrets`,
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'ssh-creds' },
        stringData: { identity: git.ssh!.privateKey, known_hosts: git.ssh!.knownHosts },
      },
    });
    await git.repos.createRepo('private-http', { 'deploy/cm.yaml': configMap('via-http', { a: '1' }) }, { branch: 'main' });
    await git.repos.createRepo('private-ssh', { 'deploy/cm.yaml': configMap('via-ssh', { a: '1' }) }, { branch: 'main' });
    await applyCd(kube, {
      metadata: { name: 'http', namespace: ns },
      spec: { url: git.http!.url('private-http'), secretRef: 'http-creds', path: 'deploy', targetNamespace: apps },
    });
    await applyCd(kube, {
      metadata: { name: 'ssh', namespace: ns },
      spec: { url: git.ssh!.url('private-ssh'), secretRef: 'ssh-creds', path: 'deploy', targetNamespace: apps },
    });
    await waitForCd(kube, ns, 'http', (c) => c.status?.sync?.status === 'Synced', 'http synced');
    await waitForCd(kube, ns, 'ssh', (c) => c.status?.sync?.status === 'Synced', 'ssh synced');
    assert.ok(await cm('via-http'));
    assert.ok(await cm('via-ssh'));
  });

  it('manual mode reports OutOfSync and applies only when a sync is requested', async () => {
    const { kube, git, ns, apps } = world();
    const sha = await git.repos.createRepo('manual', { 'deploy/cm.yaml': configMap('manual-cm', { a: '1' }) }, { branch: 'main' });
    await applyCd(kube, {
      metadata: { name: 'manual', namespace: ns },
      spec: { url: git.repos.fileUrl('manual'), path: 'deploy', targetNamespace: apps, syncPolicy: { manual: true } },
    });
    const pending = await waitForCd(kube, ns, 'manual', (c) => c.status?.sync?.status === 'OutOfSync', 'manual: OutOfSync');
    assert.equal(pending.status?.sync?.revision, `main@sha1:${sha}`);
    assert.equal(condition(pending, 'Ready')?.reason, 'ManualSyncRequired');
    assert.equal(pending.status?.resources?.[0]?.health?.status, 'Missing');
    assert.equal(await cm('manual-cm'), undefined, 'nothing applied without a request');
    await requestSync(kube, ns, 'manual');
    await waitForCd(kube, ns, 'manual', (c) => c.status?.sync?.status === 'Synced', 'manual: synced on request');
    assert.ok(await cm('manual-cm'));
  });

  it('an empty render never prunes everything', async () => {
    const { kube, git, ns, apps } = world();
    await git.repos.createRepo('emptied', { 'deploy/cm.yaml': configMap('emptied-cm', { a: '1' }) }, { branch: 'main' });
    await applyCd(kube, {
      metadata: { name: 'emptied', namespace: ns },
      spec: { url: git.repos.fileUrl('emptied'), path: 'deploy', targetNamespace: apps },
    });
    await waitForCd(kube, ns, 'emptied', (c) => c.status?.sync?.status === 'Synced', 'emptied: first sync');
    const sha = await git.repos.commitFiles('emptied', 'main', { 'deploy/cm.yaml': null, 'deploy/.keep': '' }, 'empty the path');
    await requestSync(kube, ns, 'emptied');
    const cd = await waitForCd(
      kube,
      ns,
      'emptied',
      (c) => c.status?.lastAttemptedRevision === `main@sha1:${sha}`,
      'emptied: second reconcile',
    );
    assert.ok(await cm('emptied-cm'), 'not pruned');
    assert.equal(cd.status?.sync?.status, 'OutOfSync');
    await waitForEvent(kube, ns, 'emptied', (e) => e.reason === 'PruneBlockedEmptyRender', 'the blocked-prune Event');
  });

  it('prune: false keeps tracking what left Git, so turning prune on later removes it', async () => {
    const { kube, git, ns, apps } = world();
    await git.repos.createRepo(
      'unpruned',
      { 'd/keep.yaml': configMap('unpruned-keep', { a: '1' }), 'd/old.yaml': configMap('unpruned-old', { a: '1' }) },
      { branch: 'main' },
    );
    const spec = { url: git.repos.fileUrl('unpruned'), path: 'd', targetNamespace: apps, prune: false };
    await applyCd(kube, { metadata: { name: 'unpruned', namespace: ns }, spec });
    await waitForCd(kube, ns, 'unpruned', (c) => c.status?.sync?.status === 'Synced', 'unpruned: first sync');
    const sha = await git.repos.commitFiles('unpruned', 'main', { 'd/old.yaml': null }, 'old leaves Git');
    await requestSync(kube, ns, 'unpruned');
    const kept = await waitForCd(
      kube,
      ns,
      'unpruned',
      (c) => c.status?.lastAppliedRevision === `main@sha1:${sha}`,
      'unpruned: second sync',
    );
    assert.ok(await cm('unpruned-old'), 'prune is off: the object stays');
    const entry = kept.status?.resources?.find((r) => r.name === 'unpruned-old');
    assert.equal(entry?.status, 'OutOfSync', JSON.stringify(kept.status?.resources));
    assert.match(entry?.message ?? '', /prune is false/);
    assert.equal(kept.status?.sync?.status, 'OutOfSync');

    await applyCd(kube, { metadata: { name: 'unpruned', namespace: ns }, spec: { ...spec, prune: true } });
    await waitForCd(kube, ns, 'unpruned', (c) => c.status?.sync?.status === 'Synced', 'unpruned: pruned once prune is on');
    assert.equal(await cm('unpruned-old'), undefined, 'still tracked, so pruned now');
    assert.ok(await cm('unpruned-keep'));
  });

  it('two ContinuousDeployments with different intervals poll side by side', async () => {
    const { kube, git, ns, apps } = world();
    await git.repos.createRepo('fast', { 'd/cm.yaml': configMap('fast-cm', { v: '1' }) }, { branch: 'main' });
    await git.repos.createRepo('slow', { 'd/cm.yaml': configMap('slow-cm', { v: '1' }) }, { branch: 'main' });
    await applyCd(kube, {
      metadata: { name: 'fast', namespace: ns },
      spec: { url: git.repos.fileUrl('fast'), path: 'd', pullInterval: '1s', targetNamespace: apps },
    });
    await applyCd(kube, {
      metadata: { name: 'slow', namespace: ns },
      spec: { url: git.repos.fileUrl('slow'), path: 'd', pullInterval: '3s', targetNamespace: apps },
    });
    await waitForCd(kube, ns, 'fast', (c) => c.status?.sync?.status === 'Synced', 'fast synced');
    await waitForCd(kube, ns, 'slow', (c) => c.status?.sync?.status === 'Synced', 'slow synced');
    const fastSha = await git.repos.commitFiles('fast', 'main', { 'd/cm.yaml': configMap('fast-cm', { v: '2' }) }, 'fast v2');
    const slowSha = await git.repos.commitFiles('slow', 'main', { 'd/cm.yaml': configMap('slow-cm', { v: '2' }) }, 'slow v2');
    // No sync request: each picks its commit up on its own interval.
    await waitForCd(kube, ns, 'fast', (c) => c.status?.lastAppliedRevision === `main@sha1:${fastSha}`, 'fast polled');
    await waitForCd(kube, ns, 'slow', (c) => c.status?.lastAppliedRevision === `main@sha1:${slowSha}`, 'slow polled');
    assert.equal(((await cm('fast-cm'))?.data as Record<string, string>).v, '2');
    assert.equal(((await cm('slow-cm'))?.data as Record<string, string>).v, '2');
  });

  it('new objects are created without a dry-run, all or nothing: an invalid one among them leaves none behind and is named', async () => {
    const { cluster, kube, git, ns } = world();
    const fresh = await cluster.createNamespace('creates');
    const at = (name: string) => cm(name, fresh);
    // Not ours yet (no label): the watch cache cannot see it, so only the server can say it exists.
    await kube.port.create(
      { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'adopted', namespace: fresh }, data: { v: 'old' } },
    );
    const good: Record<string, string> = {};
    for (let i = 1; i <= 6; i++) good[`x/ok-${i}.yaml`] = configMap(`ok-${i}`, { n: String(i) });
    good['x/adopted.yaml'] = configMap('adopted', { v: 'new' });
    // This API server's Service storage refuses a create-only apply outright: it takes the dry-run path.
    good['x/svc.yaml'] = [
      'apiVersion: v1',
      'kind: Service',
      'metadata:',
      '  name: svc',
      'spec:',
      '  clusterIP: None',
      '  ports:',
      '    - port: 80',
      '      protocol: TCP',
      '',
    ].join('\n');
    const svc = () => getObject(kube, `/api/v1/namespaces/${fresh}/services/svc`);
    const sha = await git.repos.createRepo(
      'creates',
      { ...good, 'x/bad.yaml': configMap('bad', { 'not a key': '1' }) },
      { branch: 'main' },
    );
    await applyCd(kube, {
      metadata: { name: 'creates', namespace: ns },
      spec: { url: git.repos.fileUrl('creates'), path: 'x', targetNamespace: fresh },
    });
    const failed = await waitForFailedAttempt(kube, ns, 'creates', `main@sha1:${sha}`, 'failed create reported');
    const ready = condition(failed, 'Ready');
    assert.equal(ready?.reason, 'ObjectInvalid', ready?.message);
    assert.match(ready?.message ?? '', new RegExp(`ConfigMap/${fresh}/bad`));
    for (let i = 1; i <= 6; i++) assert.equal(await at(`ok-${i}`), undefined, `ok-${i} was rolled back`);
    assert.equal(await svc(), undefined);
    assert.equal(await at('bad'), undefined);
    assert.deepEqual((await at('adopted'))?.data, { v: 'old' }, 'an existing object is written only after every create stood');

    const fixed = await git.repos.commitFiles('creates', 'main', { 'x/bad.yaml': null }, 'drop the bad one');
    await requestSync(kube, ns, 'creates');
    const synced = await waitForCd(kube, ns, 'creates', (c) => condition(c, 'Ready')?.status === 'True', 'synced once fixed');
    // At the first attempt: the refused Service create rolled nothing back.
    const attempts = (synced.status?.history ?? []).filter((h) => h.revision === `main@sha1:${fixed}`);
    assert.deepEqual(
      attempts.map((h) => h.result),
      ['Succeeded'],
      JSON.stringify(attempts),
    );
    for (let i = 1; i <= 6; i++) assert.deepEqual((await at(`ok-${i}`))?.data, { n: String(i) });
    assert.ok(await svc(), 'the Service was created');
    const adopted = await at('adopted');
    assert.deepEqual(adopted?.data, { v: 'new' });
    await kube.port.delete(
      { group: 'tidemark.dev', version: 'v1alpha1', kind: 'ContinuousDeployment', plural: 'continuousdeployments', namespaced: true },
      ns,
      'creates',
      'background',
    );
    await cluster.deleteNamespace(fresh);
  });

  it('deleting the ContinuousDeployment deletes what it applied; orphan keeps it', async () => {
    const { kube, git, ns, apps } = world();
    await git.repos.createRepo('doomed', { 'd/cm.yaml': configMap('doomed-cm', { a: '1' }) }, { branch: 'main' });
    await git.repos.createRepo('kept', { 'd/cm.yaml': configMap('kept-cm', { a: '1' }) }, { branch: 'main' });
    await applyCd(kube, {
      metadata: { name: 'doomed', namespace: ns },
      spec: { url: git.repos.fileUrl('doomed'), path: 'd', targetNamespace: apps },
    });
    await applyCd(kube, {
      metadata: { name: 'kept', namespace: ns, annotations: { 'tidemark.dev/deletion-policy': 'orphan' } },
      spec: { url: git.repos.fileUrl('kept'), path: 'd', targetNamespace: apps },
    });
    await waitForCd(kube, ns, 'doomed', (c) => c.status?.sync?.status === 'Synced', 'doomed synced');
    await waitForCd(kube, ns, 'kept', (c) => c.status?.sync?.status === 'Synced', 'kept synced');
    await kube.rest.request({
      method: 'DELETE',
      path: `/apis/tidemark.dev/v1alpha1/namespaces/${ns}/continuousdeployments/doomed`,
    });
    await kube.rest.request({
      method: 'DELETE',
      path: `/apis/tidemark.dev/v1alpha1/namespaces/${ns}/continuousdeployments/kept`,
    });
    const { waitFor } = await import('../harness/process.ts');
    await waitFor(async () => (await getCd(kube, ns, 'doomed')) === undefined && (await getCd(kube, ns, 'kept')) === undefined, {
      timeoutMs: 60_000,
      what: 'finalizers released',
    });
    assert.equal(await cm('doomed-cm'), undefined);
    assert.ok(await cm('kept-cm'));
  });
});
