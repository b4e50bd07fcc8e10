import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sessionPlanner } from '../../cli/console-planner.ts';
import { startConsole } from '../../console/index.ts';
import type { CdComparison, RunningConsole } from '../../console/index.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import { silentLogger } from '../../shared/log/index.ts';
import { testCluster } from '../harness/cluster.ts';
import { twoNamespaces } from '../harness/console.ts';
import { call as callConsole, cookieOf, postLogin, readStream as readEvents } from '../harness/console-http.ts';
import { startGitServers } from '../harness/git.ts';
import type { GitServers } from '../harness/git.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { grantRole, READ_CDS } from '../harness/rbac.ts';
import { applyCd, installCrds, testClient, testConnection } from '../harness/tidemark.ts';

/**
 * The console in in-cluster mode against the real API server, with real user tokens: a user who
 * may read one namespace sees that namespace only and is refused a sync by the API server.
 */

const HOST = 'console.test';

/** The console answers only to its configured host names. */
const call = (port: number, method: string, path: string, headers: Record<string, string> = {}) =>
  callConsole(port, method, path, { host: HOST, ...headers });
const readStream = (port: number, cookie: string, until: (text: string) => boolean) => readEvents(port, cookie, until, { host: HOST });

describe('console in-cluster mode with real tokens', () => {
  let cluster: ClusterAccess;
  let kube: KubeClient;
  let running: RunningConsole;
  let mine: string;
  let theirs: string;
  let git: GitServers;
  let cacheRoot: string;

  before(async () => {
    cluster = await testCluster();
    await installCrds(cluster);
    kube = testClient(cluster);
    ({ mine, theirs } = await twoNamespaces(cluster, kube, 'console-mine'));
    // carol may read ContinuousDeployments in `mine` and nothing else.
    await grantRole(kube, mine, 'carol', [READ_CDS]);
    cacheRoot = await mkdtemp(join(tmpdir(), 'tidemark-console-cache-'));
    running = await startConsole({
      inCluster: {
        server: cluster.server,
        ca: testConnection(cluster).tls.ca,
        hosts: [HOST],
        secure: false,
        listenHost: '127.0.0.1',
        // What `tidemark dashboard --in-cluster` injects: each session plans with its user's client.
        planner: (client) => sessionPlanner(client, { cacheRoot, log: silentLogger }),
      },
      log: silentLogger,
    });
  });

  after(async () => {
    await running?.stop();
    await git?.stop();
    if (cacheRoot) await rm(cacheRoot, { recursive: true, force: true });
    await kube?.close();
    for (const namespace of [mine, theirs]) if (namespace) await cluster.deleteNamespace(namespace);
  });

  const login = (token: string, namespace: string) =>
    postLogin(running.port, { token, namespace }, { host: HOST, origin: `http://${HOST}` });

  it('refuses a token the API server does not know', async () => {
    const reply = await login('not-a-token', mine);
    assert.equal(reply.status, 303);
    assert.equal(reply.headers.location, '/login?failed=token');
    assert.equal(reply.headers['set-cookie'], undefined);
  });

  it("a user who may read one namespace sees only it, and the API server's refusal of a sync reaches the page", async () => {
    const reply = await login(cluster.userToken('carol'), mine);
    assert.equal(reply.status, 303, reply.body);
    assert.equal(reply.headers.location, '/');
    const cookie = cookieOf(reply);

    const stream = await readStream(running.port, cookie, (t) => t.includes('"synced":true') || t.includes('event: problem'));
    assert.match(stream, new RegExp(`"scope":\\{"all":false,"namespace":"${mine}"\\}`));
    assert.match(stream, new RegExp(`"namespace":"${mine}","name":"site"`));
    assert.doesNotMatch(stream, new RegExp(theirs));

    assert.equal((await call(running.port, 'GET', `/api/cds/${mine}/site`, { cookie })).status, 200);
    const other = await call(running.port, 'GET', `/api/cds/${theirs}/site`, { cookie });
    assert.equal(other.status, 403);

    const session = JSON.parse((await call(running.port, 'GET', '/api/session', { cookie })).body) as { csrfToken: string };
    const sync = await call(running.port, 'POST', `/api/cds/${mine}/site/sync`, {
      cookie,
      origin: `http://${HOST}`,
      'x-csrf-token': session.csrfToken,
    });
    assert.equal(sync.status, 403);
    const refusal = JSON.parse(sync.body) as { error: string; reason: string };
    assert.equal(refusal.reason, 'Forbidden');
    assert.match(refusal.error, /carol/);
    assert.doesNotMatch(sync.body, new RegExp(cluster.userToken('carol')));
  });

  it('compares with Git as the user: credentials read with their token; one who may not read them is told so', async () => {
    git = await startGitServers({ http: true, ssh: false });
    await git.repos.createRepo('private', {
      'deploy/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-git\ndata:\n  color: blue\n',
    });
    await kube.rest.request({
      method: 'POST',
      path: `/api/v1/namespaces/${mine}/secrets`,
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'git-credentials' },
        stringData: { username: git.http!.reader.username, password: git.http!.reader.password },
      },
    });
    await applyCd(kube, {
      metadata: { name: 'private', namespace: mine },
      spec: { url: git.http!.url('private'), secretRef: 'git-credentials', path: 'deploy', pullInterval: '1h' },
    });
    // dave may also read that Secret and dry-run ConfigMaps; carol may read only the deployments.
    await grantRole(kube, mine, 'dave', [
      READ_CDS,
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['git-credentials'], verbs: ['get'] },
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'create', 'patch'] },
    ]);
    const cachesBefore = (await readdir(cacheRoot)).length;
    let cookie = '';
    const compare = async (user: string) => {
      cookie = cookieOf(await login(cluster.userToken(user), mine));
      const reply = await call(running.port, 'GET', `/api/cds/${mine}/private/compare`, { cookie });
      assert.equal(reply.status, 200, reply.body);
      assert.doesNotMatch(reply.body, new RegExp(git.http!.reader.password));
      return JSON.parse(reply.body) as CdComparison;
    };

    const refused = await compare('carol');
    assert.match(
      refused.problem ?? '',
      /cannot read the credentials: forbidden \(Secret console-mine-\S+\/git-credentials, spec\.secretRef\)/,
    );
    assert.match(refused.problem ?? '', /"carol" cannot get resource "secrets"/);
    assert.deepEqual(refused.changes, []);

    const planned = await compare('dave');
    assert.equal(planned.problem, undefined, JSON.stringify(planned));
    assert.match(planned.revision, /^main@sha1:[0-9a-f]{40}$/);
    assert.deepEqual(
      planned.changes.map((c) => `${c.action} ${c.object}`),
      [`create ConfigMap/${mine}/from-git`],
    );
    assert.equal(planned.commit?.subject !== undefined, true);
    // Each session has its own Git cache, kept only while it lasts.
    assert.equal((await readdir(cacheRoot)).length, cachesBefore + 2);
    const { csrfToken } = JSON.parse((await call(running.port, 'GET', '/api/session', { cookie })).body) as { csrfToken: string };
    const logout = await call(running.port, 'POST', '/api/logout', { cookie, origin: `http://${HOST}`, 'x-csrf-token': csrfToken });
    assert.equal(logout.status, 200);
    assert.equal((await readdir(cacheRoot)).length, cachesBefore + 1);
  });
});
