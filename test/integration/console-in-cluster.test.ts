import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startConsole } from '../../console/index.ts';
import type { RunningConsole } from '../../console/index.ts';
import type { KubeClient } from '../../shared/kube/client.ts';
import { silentLogger } from '../../shared/log/index.ts';
import { testCluster } from '../harness/cluster.ts';
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
    running = await startConsole({
      inCluster: { server: cluster.server, ca: testConnection(cluster).tls.ca, hosts: [HOST], secure: false, listenHost: '127.0.0.1' },
      log: silentLogger,
    });
  });

  after(async () => {
    await running?.stop();
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
});
