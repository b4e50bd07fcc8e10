import assert from 'node:assert/strict';
import { request } from 'node:http';
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
import { startGitServers } from '../harness/git.ts';
import type { GitServers } from '../harness/git.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { applyCd, installCrds, testClient, testConnection } from '../harness/tidemark.ts';

/**
 * The console in in-cluster mode against the real API server, with real user tokens: a user who
 * may read one namespace sees that namespace only and is refused a sync by the API server.
 */

const HOST = 'console.test';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: { host: HOST, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }), ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function readStream(port: number, cookie: string, until: (text: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/events', headers: { host: HOST, cookie } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if (until(text)) {
          req.destroy();
          resolve(text);
        }
      });
    });
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
    req.end();
  });
}

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
    mine = await cluster.createNamespace('console-mine');
    theirs = await cluster.createNamespace('console-theirs');
    for (const namespace of [mine, theirs]) {
      await applyCd(kube, {
        metadata: { name: 'site', namespace },
        spec: { url: 'https://git.example/site.git', path: 'deploy', pullInterval: '1h' },
      });
    }
    // carol may read ContinuousDeployments in `mine` and nothing else.
    await kube.rest.request({
      method: 'POST',
      path: `/apis/rbac.authorization.k8s.io/v1/namespaces/${mine}/roles`,
      body: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'cd-reader' },
        rules: [{ apiGroups: ['tidemark.dev'], resources: ['continuousdeployments'], verbs: ['get', 'list', 'watch'] }],
      },
    });
    await kube.rest.request({
      method: 'POST',
      path: `/apis/rbac.authorization.k8s.io/v1/namespaces/${mine}/rolebindings`,
      body: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'carol-cd-reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cd-reader' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'carol' }],
      },
    });
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
    call(
      running.port,
      'POST',
      '/login',
      { origin: `http://${HOST}`, 'content-type': 'application/x-www-form-urlencoded' },
      new URLSearchParams({ token, namespace }).toString(),
    );

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
    const cookie = String(reply.headers['set-cookie']).split(';')[0] ?? '';

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
    await kube.rest.request({
      method: 'POST',
      path: `/apis/rbac.authorization.k8s.io/v1/namespaces/${mine}/roles`,
      body: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'planner' },
        rules: [
          { apiGroups: ['tidemark.dev'], resources: ['continuousdeployments'], verbs: ['get', 'list', 'watch'] },
          { apiGroups: [''], resources: ['secrets'], resourceNames: ['git-credentials'], verbs: ['get'] },
          { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'create', 'patch'] },
        ],
      },
    });
    await kube.rest.request({
      method: 'POST',
      path: `/apis/rbac.authorization.k8s.io/v1/namespaces/${mine}/rolebindings`,
      body: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'dave-planner' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'planner' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'dave' }],
      },
    });
    const cachesBefore = (await readdir(cacheRoot)).length;
    let cookie = '';
    const compare = async (user: string) => {
      cookie = String((await login(cluster.userToken(user), mine)).headers['set-cookie']).split(';')[0] ?? '';
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
