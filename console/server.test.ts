import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Annotations, API_VERSION } from '../shared/api/constants.ts';
import { KubeApiError } from '../shared/kube/errors.ts';
import { FakeKubePort } from '../shared/kube/fake-port.ts';
import { silentLogger } from '../shared/log/index.ts';
import { call, postLogin, readStream as readEvents } from '../test/harness/console-http.ts';
import { cdFixture, fakeConsoleKube, startFakeInCluster } from './fake-in-cluster.ts';
import type { FakeInCluster } from './fake-in-cluster.ts';
import { startConsole } from './index.ts';
import type { RunningConsole } from './index.ts';
import { CD_RESOURCE } from './kube.ts';

/** Reads the event stream; it must open as one (200, text/event-stream). */
function readStream(port: number, cookie: string, until: (text: string) => boolean, onOpen?: () => void): Promise<string> {
  return readEvents(port, cookie, until, {
    ...(onOpen ? { onOpen } : {}),
    onResponse: (status, contentType) => {
      assert.equal(status, 200);
      assert.match(contentType, /^text\/event-stream/);
    },
  });
}

const cd = cdFixture;

describe('the console server', () => {
  let fake: FakeKubePort;
  let app: RunningConsole;
  let cookie: string;
  let csrf: string;
  const origin = () => app.origin;
  const planned: string[] = [];

  before(async () => {
    fake = new FakeKubePort();
    fake.seed(cd('apps', 'web'));
    fake.seed(cd('team-b', 'api'));
    let n = 0;
    app = await startConsole({
      kube: fakeConsoleKube(fake, [
        { type: 'Normal', reason: 'ReconciliationSucceeded', message: 'applied 1 object', time: 't', count: 1 },
      ]),
      namespace: 'default',
      log: silentLogger,
      tokens: () => `tok${++n}`,
      planner: (deployment) => {
        planned.push(`${deployment.metadata.namespace}/${deployment.metadata.name} ${deployment.spec.path}`);
        return Promise.resolve({
          revision: 'main@sha1:0123456789abcdef0123456789abcdef01234567',
          commit: undefined,
          changes: [{ action: 'update', object: 'ConfigMap apps/site', diff: '--- live\n+++ git\n-a\n+b\n' }],
          notes: [],
          problem: undefined,
        });
      },
    });
  });

  after(async () => {
    await app?.stop();
  });

  it('answers only to its loopback Host (DNS rebinding)', async () => {
    for (const host of ['attacker.example', `attacker.example:${app.port}`, `127.0.0.1:${app.port + 1}`]) {
      const reply = await call(app.port, 'GET', '/', { host });
      assert.equal(reply.status, 403, host);
    }
    const login = await call(app.port, 'GET', `/login?token=tok1`, { host: `rebound.example:${app.port}` });
    assert.equal(login.status, 403, 'the login token is not spent through a foreign Host');
  });

  it('without the session cookie every page and API answers 401', async () => {
    for (const [method, path] of [
      ['GET', '/'],
      ['GET', '/api/session'],
      ['GET', '/api/events'],
      ['GET', '/api/cds/apps/web'],
      ['POST', '/api/cds/apps/web/sync'],
    ] as const) {
      const reply = await call(app.port, method, path, { origin: origin(), cookie: 'tidemark_session_1=nope' });
      assert.equal(reply.status, 401, `${method} ${path}`);
    }
    assert.equal(fake.writes().length, 0);
  });

  it('the printed URL logs in once: an HttpOnly SameSite=Strict cookie, then the token is spent', async () => {
    assert.equal(app.loginUrl, `${app.origin}/login?token=tok1`);
    assert.equal((await call(app.port, 'GET', '/login?token=tok2')).status, 401, 'a wrong token');
    const login = await call(app.port, 'GET', '/login?token=tok1');
    assert.equal(login.status, 303);
    assert.equal(login.headers.location, '/');
    const setCookie = String(login.headers['set-cookie']);
    assert.equal(setCookie, `tidemark_session_${app.port}=tok2; Path=/; HttpOnly; SameSite=Strict`);
    cookie = setCookie.split(';')[0] ?? '';
    assert.equal((await call(app.port, 'GET', '/login?token=tok1')).status, 401, 'the token works once');

    const page = await call(app.port, 'GET', '/', { cookie });
    assert.equal(page.status, 200);
    assert.match(page.body, /<script type="module" src="\/assets\/list.js"><\/script>/);
    assert.doesNotMatch(page.body, /tok[0-9]/, 'no token in the page');
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'; object-src 'none'/);
    assert.equal(page.headers['x-frame-options'], 'DENY');
    assert.equal(page.headers['access-control-allow-origin'], undefined, 'no CORS');

    const session = await call(app.port, 'GET', '/api/session', { cookie });
    csrf = (JSON.parse(session.body) as { csrfToken: string }).csrfToken;
    assert.equal(csrf, 'tok3');
  });

  it('a change needs the console Origin and the CSRF token (403 otherwise, nothing written)', async () => {
    const path = '/api/cds/apps/web/sync';
    for (const headers of [
      { cookie },
      { cookie, origin: origin() },
      { cookie, 'x-csrf-token': csrf },
      { cookie, origin: 'http://attacker.example', 'x-csrf-token': csrf },
      { cookie, origin: origin(), 'x-csrf-token': 'tok2' },
    ]) {
      const reply = await call(app.port, 'POST', path, headers);
      assert.equal(reply.status, 403, JSON.stringify(headers));
      assert.equal((JSON.parse(reply.body) as { reason: string }).reason, 'CsrfRejected');
    }
    const refusedDelete = await call(app.port, 'DELETE', '/api/cds/apps/web', { cookie, origin: origin() }, '{}');
    assert.equal(refusedDelete.status, 403);
    assert.equal(fake.writes().length, 0);

    const reply = await call(app.port, 'POST', path, { cookie, origin: origin(), 'x-csrf-token': csrf });
    assert.equal(reply.status, 200, reply.body);
    const { requestedAt } = JSON.parse(reply.body) as { requestedAt: string };
    const live = fake.peek(API_VERSION, 'ContinuousDeployment', 'apps', 'web');
    assert.equal(live?.metadata.annotations?.[Annotations.requestedAt], requestedAt);
  });

  it('suspend and resume patch spec.suspend; resume also asks for a sync', async () => {
    const headers = { cookie, origin: origin(), 'x-csrf-token': csrf };
    assert.equal((await call(app.port, 'POST', '/api/cds/team-b/api/suspend', headers)).status, 200);
    assert.equal((fake.peek(API_VERSION, 'ContinuousDeployment', 'team-b', 'api')?.spec as { suspend?: boolean }).suspend, true);
    const resumed = await call(app.port, 'POST', '/api/cds/team-b/api/resume', headers);
    assert.equal(resumed.status, 200);
    const live = fake.peek(API_VERSION, 'ContinuousDeployment', 'team-b', 'api');
    assert.equal((live?.spec as { suspend?: boolean }).suspend, false);
    assert.ok(live?.metadata.annotations?.[Annotations.requestedAt]);
  });

  it("passes Kubernetes' refusal on as it is", async () => {
    fake.fail('replace', { name: 'web' }, new KubeApiError(403, 'Forbidden', 'user "alice" cannot patch continuousdeployments'), 1);
    const reply = await call(app.port, 'POST', '/api/cds/apps/web/sync', { cookie, origin: origin(), 'x-csrf-token': csrf });
    assert.equal(reply.status, 403);
    assert.deepEqual(JSON.parse(reply.body), { error: 'user "alice" cannot patch continuousdeployments', reason: 'Forbidden' });
    const missing = await call(app.port, 'GET', '/api/cds/apps/nothing', { cookie });
    assert.equal(missing.status, 404);
    const bad = await call(app.port, 'GET', '/api/cds/Apps/web', { cookie });
    assert.equal(bad.status, 400, 'a name Kubernetes would refuse never reaches it');
  });

  it('the details: source, conditions, resources, events', async () => {
    const reply = await call(app.port, 'GET', '/api/cds/apps/web', { cookie });
    assert.equal(reply.status, 200);
    const details = JSON.parse(reply.body) as {
      row: { alias: string; health: string };
      source: { url: string; ref: string };
      resources: unknown[];
      events: unknown[];
    };
    assert.equal(details.row.alias, 'web app');
    assert.deepEqual(details.source.url, 'https://git.example/site.git');
    assert.equal(details.source.ref, 'branch main');
    assert.deepEqual(details.resources, [
      { kind: 'ConfigMap', namespace: 'apps', name: 'site', sync: 'Synced', health: 'Healthy', message: '' },
    ]);
    assert.equal(details.events.length, 1);
  });

  it('compare: the planner gets the deployment as the user reads it; a missing one is not planned', async () => {
    const writes = fake.writes().length;
    const reply = await call(app.port, 'GET', '/api/cds/apps/web/compare', { cookie });
    assert.equal(reply.status, 200);
    const body = JSON.parse(reply.body) as { changes: Array<{ object: string }> };
    assert.deepEqual(
      body.changes.map((c) => c.object),
      ['ConfigMap apps/site'],
    );
    assert.deepEqual(planned, ['apps/web deploy']);
    assert.equal((await call(app.port, 'GET', '/api/cds/apps/nothing/compare', { cookie })).status, 404);
    assert.deepEqual(planned, ['apps/web deploy']);
    assert.equal(fake.writes().length, writes, 'comparing writes nothing');
  });

  it('one event stream: a snapshot first, then each change as it happens', async () => {
    const text = await readStream(
      app.port,
      cookie,
      (t) => t.includes('event: upsert') && t.includes('event: changed'),
      () =>
        void (async () => {
          fake.seed(cd('apps', 'late'));
          const web = await fake.get(CD_RESOURCE, 'apps', 'web');
          await fake.replace(CD_RESOURCE, { ...web!, spec: { ...(web!.spec as object), pullInterval: '2h' } });
        })(),
    );
    const frames = text.split('\n\n').filter((f) => f.startsWith('event:'));
    assert.match(frames[0] ?? '', /^event: snapshot\ndata: /);
    const snapshot = JSON.parse((frames[0] ?? '').slice('event: snapshot\ndata: '.length)) as {
      scope: unknown;
      synced: boolean;
      rows: Array<{ name: string }>;
    };
    assert.deepEqual(snapshot.scope, { all: true });
    assert.equal(snapshot.synced, true);
    assert.deepEqual(
      snapshot.rows.map((r) => r.name),
      ['web', 'api'],
    );
    const upsert = frames.find((f) => f.startsWith('event: upsert')) ?? '';
    assert.equal((JSON.parse(upsert.slice(upsert.indexOf('data: ') + 6)) as { name: string }).name, 'late');
    const changed = frames.find((f) => f.startsWith('event: changed')) ?? '';
    assert.deepEqual(
      JSON.parse(changed.slice(changed.indexOf('data: ') + 6)),
      { namespace: 'apps', name: 'web' },
      'a change outside the row',
    );
  });

  it('Edit YAML: problems by field and nothing written; a valid edit is saved', async () => {
    const headers = { cookie, origin: origin(), 'x-csrf-token': csrf, 'content-type': 'application/json' };
    const opened = await call(app.port, 'GET', '/api/cds/apps/web/yaml', { cookie });
    const { yaml } = JSON.parse(opened.body) as { yaml: string };
    assert.match(yaml, /^ {2}path: deploy$/m);
    assert.doesNotMatch(yaml, /status:/);
    const writes = fake.writes().length;
    const bad = await call(
      app.port,
      'POST',
      '/api/cds/apps/web/yaml',
      headers,
      JSON.stringify({ yaml: yaml.replace('path: deploy', 'path: 7') }),
    );
    assert.equal(bad.status, 422);
    assert.deepEqual((JSON.parse(bad.body) as { problems: unknown }).problems, [
      { field: 'spec.path', message: 'must be a string, not number 7' },
    ]);
    assert.equal(fake.writes().length, writes);
    const noToken = await call(app.port, 'POST', '/api/cds/apps/web/yaml', { ...headers, 'x-csrf-token': '' }, JSON.stringify({ yaml }));
    assert.equal(noToken.status, 403);
    const good = await call(
      app.port,
      'POST',
      '/api/cds/apps/web/yaml',
      headers,
      JSON.stringify({ yaml: yaml.replace('path: deploy', 'path: deploy/v2') }),
    );
    assert.equal(good.status, 200, good.body);
    assert.equal((fake.peek(API_VERSION, 'ContinuousDeployment', 'apps', 'web')?.spec as { path: string }).path, 'deploy/v2');
  });

  it('create: problems by field and nothing written; a valid form is created once', async () => {
    const headers = { cookie, origin: origin(), 'x-csrf-token': csrf, 'content-type': 'application/json' };
    const form = { name: 'shop', namespace: 'apps', alias: 'Shop', spec: { url: 'https://git.example/shop.git', path: 'deploy' } };
    const writes = fake.writes().length;
    const bad = await call(app.port, 'POST', '/api/cds', headers, JSON.stringify({ ...form, spec: { ...form.spec, url: '' } }));
    assert.equal(bad.status, 422);
    assert.deepEqual(
      (JSON.parse(bad.body) as { problems: Array<{ field: string }> }).problems.map((p) => p.field),
      ['spec.url'],
    );
    assert.equal(fake.writes().length, writes, 'nothing written');
    const created = await call(app.port, 'POST', '/api/cds', headers, JSON.stringify(form));
    assert.equal(created.status, 201, created.body);
    const stored = fake.peek(API_VERSION, 'ContinuousDeployment', 'apps', 'shop');
    assert.equal(stored?.metadata.annotations?.['kubesphere.io/alias-name'], 'Shop');
    const again = await call(app.port, 'POST', '/api/cds', headers, JSON.stringify(form));
    assert.equal(again.status, 422);
    assert.match(again.body, /"field":"metadata.name","message":"apps\/shop exists already"/);
    const forged = await call(app.port, 'POST', '/api/cds', { ...headers, 'x-csrf-token': 'nope' }, JSON.stringify({ ...form, name: 'x' }));
    assert.equal(forged.status, 403);
  });

  it("import a repository: its Secret holds the credential under the agent's keys; no value comes back", async () => {
    const headers = { cookie, origin: origin(), 'x-csrf-token': csrf, 'content-type': 'application/json' };
    const form = { name: 'shop-repo', namespace: 'apps', url: 'https://git.example/shop.git', credential: 'basic', username: 'bot' };
    const bad = await call(app.port, 'POST', '/api/repositories', headers, JSON.stringify({ ...form, url: 'ext::sh -c evil' }));
    assert.equal(bad.status, 422);
    assert.deepEqual(
      (JSON.parse(bad.body) as { problems: Array<{ field: string }> }).problems.map((p) => p.field),
      ['url', 'password'],
    );
    const made = await call(app.port, 'POST', '/api/repositories', headers, JSON.stringify({ ...form, password: 's3cret-value' }));
    assert.equal(made.status, 201, made.body);
    assert.doesNotMatch(made.body, /s3cret/);
    const secret = fake.peek('v1', 'Secret', 'apps', 'shop-repo');
    assert.deepEqual(secret?.data, { username: 'Ym90', password: Buffer.from('s3cret-value').toString('base64') });
    assert.equal(secret?.metadata.annotations?.['tidemark.dev/repository-url'], 'https://git.example/shop.git');
    const list = await call(app.port, 'GET', '/api/repositories', { cookie });
    assert.equal(list.status, 200);
    assert.doesNotMatch(list.body, /s3cret|czNjcmV0|Ym90/, 'no value, plain or base64');
    assert.deepEqual((JSON.parse(list.body) as { repositories: unknown[] }).repositories, [
      { namespace: 'apps', name: 'shop-repo', url: 'https://git.example/shop.git', credential: 'basic', created: '1970-01-01T00:00:00Z' },
    ]);
  });

  it('Edit Information sets the alias and description', async () => {
    const headers = { cookie, origin: origin(), 'x-csrf-token': csrf, 'content-type': 'application/json' };
    const reply = await call(
      app.port,
      'POST',
      '/api/cds/apps/web/info',
      headers,
      JSON.stringify({ alias: 'Shop', description: 'the shop' }),
    );
    assert.equal(reply.status, 200, reply.body);
    const annotations = fake.peek(API_VERSION, 'ContinuousDeployment', 'apps', 'web')?.metadata.annotations ?? {};
    assert.equal(annotations['kubesphere.io/alias-name'], 'Shop');
    assert.equal(annotations['kubesphere.io/description'], 'the shop');
  });

  it('delete: the orphan choice becomes the deletion-policy annotation before the delete', async () => {
    const headers = { cookie, origin: origin(), 'x-csrf-token': csrf, 'content-type': 'application/json' };
    const reply = await call(app.port, 'DELETE', '/api/cds/apps/late', headers, JSON.stringify({ orphan: true }));
    assert.equal(reply.status, 200, reply.body);
    const writes = fake.writes().filter((w) => w.name === 'late');
    assert.deepEqual(
      writes.map((w) => w.op),
      ['replace', 'delete'],
    );
    assert.equal(fake.peek(API_VERSION, 'ContinuousDeployment', 'apps', 'late'), undefined);
  });
});

describe('the console without the right to watch every namespace', () => {
  it('shows the fallback namespace', async () => {
    const fake = new FakeKubePort();
    fake.deny({ verb: 'watch' });
    fake.seed(cd('mine', 'web'));
    const running = await startConsole({ kube: fakeConsoleKube(fake, []), namespace: 'mine', log: silentLogger, tokens: () => 'same' });
    try {
      const login = await call(running.port, 'GET', '/login?token=same');
      const cookie = String(login.headers['set-cookie']).split(';')[0] ?? '';
      const text = await readStream(running.port, cookie, (t) => t.includes('"synced":true'));
      assert.match(text, /"scope":\{"all":false,"namespace":"mine"\}/);
      assert.deepEqual(
        fake.accessReviews.map((r) => [r.verb, r.namespace]),
        [['watch', undefined]],
      );
    } finally {
      await running.stop();
    }
  });
});

describe('the console in in-cluster mode', () => {
  const host = 'console.example';
  const from = { host, origin: `https://${host}` };
  let c: FakeInCluster;
  let running: RunningConsole;

  before(async () => {
    c = await startFakeInCluster({ hosts: [host], secure: true, idleMs: 60_000 }, [cd('apps', 'web')]);
    running = c.running;
  });

  after(() => running.stop());

  const login = (token: string, origin = from.origin) => postLogin(running.port, { token, namespace: 'apps' }, { ...from, origin });

  it('answers only to its configured host names', async () => {
    assert.equal((await call(running.port, 'GET', '/login')).status, 403);
    assert.equal((await call(running.port, 'GET', '/login', { host: 'evil.example' })).status, 403);
    const page = await call(running.port, 'GET', '/login', from);
    assert.equal(page.status, 200);
    assert.match(page.body, /name="token"/);
    assert.doesNotMatch(page.body, /<script>/);
  });

  it('sends a browser without a session to the login page', async () => {
    const reply = await call(running.port, 'GET', '/', from);
    assert.equal(reply.status, 303);
    assert.equal(reply.headers.location, '/login');
    assert.equal((await call(running.port, 'GET', '/api/session', from)).status, 401);
  });

  it('refuses a login from another origin without asking the API server', async () => {
    const before = { asked: c.asked.length, connected: c.connected.length };
    assert.equal((await login('good-token', 'https://evil.example')).status, 403);
    assert.deepEqual({ asked: c.asked.length, connected: c.connected.length }, before);
  });

  it('refuses a token the API server does not accept, and sets no cookie', async () => {
    const reply = await login('bad-token');
    assert.equal(reply.status, 303);
    assert.equal(reply.headers.location, '/login?failed=token');
    assert.equal(reply.headers['set-cookie'], undefined);
    assert.doesNotMatch(JSON.stringify(reply), /bad-token/);
  });

  it('logs in with an accepted token: a Secure HttpOnly SameSite cookie that holds only a session id', async () => {
    const reply = await login('good-token');
    assert.equal(reply.status, 303);
    assert.equal(reply.headers.location, '/');
    const cookie = String(reply.headers['set-cookie']);
    assert.match(cookie, /^__Host-tidemark_session=sess\d+; Path=\/; HttpOnly; SameSite=Strict; Secure$/);
    assert.doesNotMatch(cookie, /good-token/);
    const jar = cookie.split(';')[0] ?? '';
    const session = await call(running.port, 'GET', '/api/session', { ...from, cookie: jar });
    assert.equal(session.status, 200);
    const body = JSON.parse(session.body) as { csrfToken: string; inCluster: boolean };
    assert.equal(body.inCluster, true);
    assert.doesNotMatch(session.body, /good-token/);

    const details = await call(running.port, 'GET', '/api/cds/apps/web', { ...from, cookie: jar });
    assert.equal(details.status, 200);

    // A change needs Origin and the CSRF token, as locally.
    assert.equal((await call(running.port, 'POST', '/api/cds/apps/web/sync', { ...from, cookie: jar })).status, 403);
    const sync = await call(running.port, 'POST', '/api/cds/apps/web/sync', { ...from, cookie: jar, 'x-csrf-token': body.csrfToken });
    assert.equal(sync.status, 200);

    const closedBefore = c.closed.length;
    const logout = await call(running.port, 'POST', '/api/logout', { ...from, cookie: jar, 'x-csrf-token': body.csrfToken });
    assert.equal(logout.status, 200);
    assert.match(String(logout.headers['set-cookie']), /Max-Age=0/);
    assert.equal(c.closed.length, closedBefore + 1);
    assert.equal((await call(running.port, 'GET', '/api/session', { ...from, cookie: jar })).status, 401);
  });

  it('ends a session that stayed idle', async () => {
    const jar = String((await login('good-token')).headers['set-cookie']).split(';')[0] ?? '';
    assert.equal((await call(running.port, 'GET', '/api/session', { ...from, cookie: jar })).status, 200);
    c.advance(59_000);
    assert.equal((await call(running.port, 'GET', '/api/session', { ...from, cookie: jar })).status, 200);
    c.advance(60_000);
    const closedBefore = c.closed.length;
    assert.equal((await call(running.port, 'GET', '/api/session', { ...from, cookie: jar })).status, 401);
    assert.equal(c.closed.length, closedBefore + 1);
  });
});
