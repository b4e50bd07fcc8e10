import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call, cookieOf, postLogin } from '../test/harness/console-http.ts';
import type { CdComparison } from './compare.ts';
import { cdFixture, startFakeInCluster } from './fake-in-cluster.ts';

/**
 * The in-cluster login's limits through the real HTTP server: failed logins per client and in
 * total (refused before the API server is asked), the session caps, the absolute lifetime, and
 * each session's own planner. The API server is the in-memory port; the clock is the test's.
 */

const host = 'console.example';
const from = { host, origin: `http://${host}` };

/** A console whose "API server" accepts tokens starting with `good`; it counts every token it is asked about. */
async function consoleWith(limits: {
  perClient: string;
  total: string;
  maxSessions: number;
  maxPerToken: number;
  lifetimeMs: number;
  trustForwardedFor?: boolean;
}) {
  const [perMax, perWindow] = limits.perClient.split('/');
  const [totalMax, totalWindow] = limits.total.split('/');
  const started = await startFakeInCluster(
    {
      hosts: [host],
      secure: false,
      lifetimeMs: limits.lifetimeMs,
      maxSessions: limits.maxSessions,
      maxSessionsPerToken: limits.maxPerToken,
      trustForwardedFor: limits.trustForwardedFor,
      loginLimits: {
        perClient: { max: Number(perMax), windowMs: Number(perWindow) },
        total: { max: Number(totalMax), windowMs: Number(totalWindow) },
      },
    },
    [cdFixture('apps', 'web')],
  );
  const { running } = started;
  return {
    ...started,
    login: (token: string, headers: Record<string, string> = {}) =>
      postLogin(running.port, { token, namespace: 'apps' }, { ...from, ...headers }),
    cookieOf,
    get: (path: string, cookie: string) => call(running.port, 'GET', path, { ...from, cookie }),
  };
}

describe('in-cluster login limits', () => {
  let c: Awaited<ReturnType<typeof consoleWith>>;
  before(async () => {
    c = await consoleWith({ perClient: '3/60000', total: '100/60000', maxSessions: 3, maxPerToken: 2, lifetimeMs: 3_600_000 });
  });
  after(() => c.running.stop());

  it("the login page lets its form's POST carry its Origin (under no-referrer it is null); the rest keeps no-referrer", async () => {
    const page = await call(c.running.port, 'GET', '/login', from);
    assert.equal(page.headers['referrer-policy'], 'same-origin');
    const other = await call(c.running.port, 'GET', '/assets/login.js', from);
    assert.equal(other.headers['referrer-policy'], 'no-referrer');
  });

  it('past the failed logins of a client: 429, Retry-After, a plain message on the page, and the API server not asked', async () => {
    for (const token of ['bad1', 'bad2', 'bad3']) assert.equal((await c.login(token)).headers.location, '/login?failed=token');
    assert.deepEqual(c.asked, ['bad1', 'bad2', 'bad3']);
    c.advance(20_000);
    const refused = await c.login('good-but-too-late');
    assert.equal(refused.status, 429);
    assert.equal(refused.headers['retry-after'], '40');
    assert.match(String(refused.headers['content-type']), /^text\/html/);
    assert.match(refused.body, /Too many failed logins from your address\. Try again in 40 seconds\./);
    assert.match(refused.body, /href="\/login"/);
    assert.doesNotMatch(refused.body, /good-but-too-late|<script/);
    assert.equal(refused.headers['set-cookie'], undefined);
    assert.deepEqual(c.asked, ['bad1', 'bad2', 'bad3'], 'the refused attempt never reached the API server');
    assert.deepEqual(c.connected, ['bad1', 'bad2', 'bad3'], 'nor made a connection');
    c.advance(40_000);
    assert.equal((await c.login('good-after-the-wait')).headers.location, '/');
  });
});

describe('in-cluster logins while the API server cannot answer', () => {
  let c: Awaited<ReturnType<typeof consoleWith>>;
  before(async () => {
    c = await consoleWith({ perClient: '2/60000', total: '100/60000', maxSessions: 3, maxPerToken: 2, lifetimeMs: 3_600_000 });
  });
  after(() => c.running.stop());

  it('are not counted as failed guesses: after the outage the user logs in at once', async () => {
    for (const token of ['down1', 'down2', 'down3']) {
      const reply = await c.login(token);
      assert.ok(reply.status >= 500, `an outage is an error, not a refusal: ${reply.status}`);
    }
    assert.deepEqual(c.asked, ['down1', 'down2', 'down3']);
    assert.equal((await c.login('good-after-the-outage')).headers.location, '/');
  });
});

describe('in-cluster total login limit behind a proxy', () => {
  let c: Awaited<ReturnType<typeof consoleWith>>;
  before(async () => {
    c = await consoleWith({
      perClient: '2/60000',
      total: '3/60000',
      maxSessions: 10,
      maxPerToken: 2,
      lifetimeMs: 3_600_000,
      trustForwardedFor: true,
    });
  });
  after(() => c.running.stop());

  it('counts each forwarded client apart, and all of them together', async () => {
    const via = (address: string) => ({ 'x-forwarded-for': `spoof, ${address}` });
    assert.equal((await c.login('bad', via('203.0.113.1'))).status, 303);
    assert.equal((await c.login('bad', via('203.0.113.1'))).status, 303);
    assert.equal((await c.login('bad', via('203.0.113.1'))).status, 429, 'the per-client limit');
    assert.equal((await c.login('bad', via('203.0.113.2'))).status, 303, 'another client has its own');
    const total = await c.login('good', via('203.0.113.3'));
    assert.equal(total.status, 429, 'the total limit');
    assert.match(total.body, /Too many failed logins on this console/);
    assert.equal(c.asked.length, 3);
    assert.equal(c.connected.length, 3);
  });
});

describe('in-cluster session caps and lifetime', () => {
  let c: Awaited<ReturnType<typeof consoleWith>>;
  before(async () => {
    c = await consoleWith({ perClient: '100/60000', total: '100/60000', maxSessions: 3, maxPerToken: 2, lifetimeMs: 3_600_000 });
  });
  after(() => c.running.stop());

  it("a token's third session ends its first; a full console refuses a new token with 503 before asking the API server", async () => {
    const a1 = c.cookieOf(await c.login('good-a'));
    const a2 = c.cookieOf(await c.login('good-a'));
    assert.equal((await c.get('/api/session', a1)).status, 200);
    const a3 = c.cookieOf(await c.login('good-a'));
    assert.deepEqual(c.closed, ['good-a']);
    assert.equal((await c.get('/api/session', a1)).status, 401, 'the oldest ended');
    for (const cookie of [a2, a3]) assert.equal((await c.get('/api/session', cookie)).status, 200);

    const b = c.cookieOf(await c.login('good-b'));
    assert.equal((await c.get('/api/session', b)).status, 200);
    const before = { asked: c.asked.length, connected: c.connected.length };
    const full = await c.login('good-c');
    assert.equal(full.status, 503);
    assert.match(full.body, /as many sessions open as it allows/);
    assert.deepEqual({ asked: c.asked.length, connected: c.connected.length }, before, 'the API server was not asked');
    // A token at its own cap still logs in: its oldest session makes the room.
    assert.equal((await c.login('good-a')).headers.location, '/');
    assert.equal((await c.get('/api/session', a2)).status, 401);
  });

  it('a session ends at its lifetime, even when used all along', async () => {
    // The console is full: good-a, at its own cap, is the token that can still log in.
    const cookie = c.cookieOf(await c.login('good-a'));
    for (let i = 0; i < 6; i += 1) {
      c.advance(10 * 60_000 - 1);
      assert.equal((await c.get('/api/session', cookie)).status, 200);
    }
    c.advance(6);
    assert.equal((await c.get('/api/session', cookie)).status, 401);
  });

  it("compare uses the session's own planner (the user's token)", async () => {
    const cookie = c.cookieOf(await c.login('good-a'));
    const reply = await c.get('/api/cds/apps/web/compare', cookie);
    assert.equal(reply.status, 200, reply.body);
    assert.equal((JSON.parse(reply.body) as CdComparison).revision, 'main@sha1:x');
    assert.deepEqual(c.planned, ['good-a apps/web']);
  });
});
