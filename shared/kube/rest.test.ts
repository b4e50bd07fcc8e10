import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { KubeApiError } from './errors.ts';
import type { KubeConnection } from './kubeconfig/index.ts';
import { KubeRest } from './rest.ts';
import { TokenBucket } from './rate-limit.ts';
import { FakeClock, settle } from '../time/fake-clock.ts';
import { registry } from '../metrics/index.ts';
import { parseTextFormat } from '../metrics/text-format.ts';

/** Real I/O settles on its own time: polls `check` until it holds (at most ~5 s). */
async function waitUntil(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check());
}

/** A loopback HTTP server that records each request's headers and answers 403 on /forbidden. */
describe('KubeRest impersonation', () => {
  let server: Server;
  const seen: IncomingHttpHeaders[] = [];
  let connection: KubeConnection;

  before(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers);
      if (req.url === '/forbidden') {
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ kind: 'Status', reason: 'Forbidden', message: 'configmaps "x" is forbidden' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    connection = {
      server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      clusterName: 'test',
      contextName: undefined,
      namespace: undefined,
      tls: { ca: undefined, cert: undefined, key: undefined, serverName: undefined, rejectUnauthorized: true },
      // The kubeconfig's own `as`: a ServiceAccount view must replace it, never add to it.
      headers: { 'impersonate-user': 'alice', 'impersonate-group': 'ops', 'Impersonate-Extra-scopes': 'view' },
      auth: { kind: 'static', credentials: () => Promise.resolve({ authorization: 'Bearer agent-token' }) },
    };
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('sends only Impersonate-User for a ServiceAccount, with the connection’s own credentials', async () => {
    const rest = new KubeRest(connection);
    const tenant = rest.as({ namespace: 'team-a', name: 'deployer' });
    seen.length = 0;
    await tenant.request({ method: 'GET', path: '/api' });
    await rest.request({ method: 'GET', path: '/api' });
    const [asTenant, asAgent] = seen;
    assert.equal(asTenant?.['impersonate-user'], 'system:serviceaccount:team-a:deployer');
    assert.equal(asTenant?.['impersonate-group'], undefined);
    assert.equal(asTenant?.['impersonate-extra-scopes'], undefined);
    assert.equal(asTenant?.authorization, 'Bearer agent-token');
    // The client it came from keeps its own identity.
    assert.equal(asAgent?.['impersonate-user'], 'alice');
    assert.equal(tenant.stats, rest.stats);
    assert.equal(rest.stats.reads, 2);
    await tenant.close();
    // Closing the view left the pool open for the client.
    await rest.request({ method: 'GET', path: '/api' });
    await rest.close();
  });

  it('takes a token of the client’s rate limit before each request, its impersonating views too', async () => {
    const clock = new FakeClock();
    const rest = new KubeRest(connection, undefined, new TokenBucket({ qps: 1, burst: 2 }, clock));
    const tenant = rest.as({ namespace: 'team-a', name: 'deployer' });
    seen.length = 0;
    const answered: number[] = [];
    const all = [rest, tenant, rest].map((client, i) => client.request({ method: 'GET', path: '/api' }).then(() => answered.push(i)));
    await waitUntil(() => answered.length === 2);
    await settle();
    assert.equal(seen.length, 2, 'the burst of 2 went out, the third waits for a token');
    await clock.advance(1000);
    await Promise.all(all);
    assert.equal(seen.length, 3);
    await rest.close();
  });

  it('refuses identities that are not DNS-1123 names before sending anything', () => {
    const rest = new KubeRest(connection);
    for (const [namespace, name] of [
      ['team-a', 'x:y'],
      ['team-a', 'a\r\nImpersonate-Group: system:masters'],
      ['Team-A', 'deployer'],
      ['team.a', 'deployer'],
      ['', 'deployer'],
      ['team-a', ''],
    ] as const) {
      assert.throws(
        () => rest.as({ namespace, name }),
        (err: unknown) => err instanceof Error && 'code' in err && err.code === 'InvalidSpec',
        `${namespace}/${name}`,
      );
    }
  });

  it('says whose rights decide in a 403 hint', async () => {
    const rest = new KubeRest(connection);
    await assert.rejects(
      rest.as({ namespace: 'team-a', name: 'deployer' }).request({ method: 'GET', path: '/forbidden' }),
      (err: unknown) => {
        assert.ok(err instanceof KubeApiError);
        assert.equal(err.code, 'Forbidden');
        assert.match(err.hint ?? '', /ServiceAccount team-a\/deployer/);
        return true;
      },
    );
    await assert.rejects(rest.request({ method: 'GET', path: '/forbidden' }), (err: unknown) => {
      assert.ok(err instanceof KubeApiError);
      assert.match(err.hint ?? '', /grant the agent/);
      return true;
    });
    await rest.close();
  });

  it('counts requests by verb and code in tidemark_kube_requests_total, unanswered ones as "error"', async () => {
    const count = async (verb: string, code: string) =>
      parseTextFormat(await registry.metrics())
        .get('tidemark_kube_requests_total')
        ?.samples.find((s) => s.labels.verb === verb && s.labels.code === code)?.value ?? 0;
    const before = [await count('DELETE', '403'), await count('DELETE', '200'), await count('DELETE', 'error')];
    const rest = new KubeRest(connection);
    await assert.rejects(rest.request({ method: 'DELETE', path: '/forbidden' }), KubeApiError);
    await rest.request({ method: 'DELETE', path: '/x' });
    await rest.request({ method: 'DELETE', path: '/x' });
    await rest.close();
    // A port nothing listens on: closed right after it was opened.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const unreachable = new KubeRest({ ...connection, server: `http://127.0.0.1:${port}` });
    await assert.rejects(unreachable.request({ method: 'DELETE', path: '/x' }), /cannot reach the API server/);
    await unreachable.close();
    const after = [await count('DELETE', '403'), await count('DELETE', '200'), await count('DELETE', 'error')];
    assert.deepEqual(
      after.map((n, i) => n - (before[i] ?? 0)),
      [1, 2, 1],
    );
  });
});
