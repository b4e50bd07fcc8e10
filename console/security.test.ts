import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  hostAllowed,
  originAllowed,
  parseCookies,
  publicCookie,
  publicHostAllowed,
  publicOriginAllowed,
  secretsEqual,
  SECURITY_HEADERS,
  sessionCookie,
} from './security.ts';
import { Sessions } from './sessions.ts';
import type { SessionCluster } from './sessions.ts';

describe('host check (DNS rebinding)', () => {
  it('accepts only the loopback names with this port', () => {
    assert.equal(hostAllowed('127.0.0.1:8080', 8080), true);
    assert.equal(hostAllowed('localhost:8080', 8080), true);
    for (const host of [
      undefined,
      '',
      '127.0.0.1',
      '127.0.0.1:8081',
      'attacker.example:8080',
      'localhost.attacker.example:8080',
      '[::1]:8080',
    ])
      assert.equal(hostAllowed(host, 8080), false, String(host));
  });
});

describe('origin check', () => {
  it('wants the Origin of the very host the request was sent to', () => {
    assert.equal(originAllowed('http://127.0.0.1:8080', '127.0.0.1:8080', 8080), true);
    assert.equal(originAllowed('http://localhost:8080', 'localhost:8080', 8080), true);
  });
  it('refuses a missing, foreign, https or cross-name origin', () => {
    for (const [origin, host] of [
      [undefined, '127.0.0.1:8080'],
      ['null', '127.0.0.1:8080'],
      ['http://attacker.example', '127.0.0.1:8080'],
      ['https://127.0.0.1:8080', '127.0.0.1:8080'],
      ['http://127.0.0.1:9090', '127.0.0.1:8080'],
      ['http://localhost:8080', '127.0.0.1:8080'],
      ['http://127.0.0.1:8080', undefined],
    ] as const)
      assert.equal(originAllowed(origin, host, 8080), false, `${origin} → ${host}`);
  });
});

describe('cookies', () => {
  it('parses a Cookie header; the first of a repeated name wins', () => {
    const cookies = parseCookies('a=1; tidemark_session_80=abc; junk; a=2;  b = x=y ');
    assert.equal(cookies.get('a'), '1');
    assert.equal(cookies.get('tidemark_session_80'), 'abc');
    assert.equal(cookies.get('b'), 'x=y');
    assert.equal(parseCookies(undefined).size, 0);
  });
  it('the session cookie is HttpOnly and SameSite=Strict, named by the port', () => {
    assert.equal(sessionCookie(8080, 'v'), 'tidemark_session_8080=v; Path=/; HttpOnly; SameSite=Strict');
  });
  it('the CSP allows no inline script, no plugins, no framing', () => {
    assert.equal(
      SECURITY_HEADERS['content-security-policy'],
      "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    );
  });
});

describe('login token and sessions', () => {
  const counter = () => {
    let n = 0;
    return () => `token-${++n}`;
  };

  it('the login token is exchanged once, then is worth nothing', () => {
    const sessions = new Sessions(counter());
    assert.equal(sessions.pendingLoginToken, 'token-1');
    assert.equal(sessions.exchange('token-2'), undefined, 'a wrong token');
    assert.equal(sessions.exchange(undefined), undefined);
    const session = sessions.exchange('token-1');
    assert.deepEqual(session && { id: session.id, csrf: session.csrf }, { id: 'token-2', csrf: 'token-3' });
    assert.equal(sessions.pendingLoginToken, undefined);
    assert.equal(sessions.exchange('token-1'), undefined, 'the same token again');
    assert.equal(sessions.find('token-2'), session);
    assert.equal(sessions.find('token-3'), undefined, 'the CSRF token is no session id');
    assert.equal(sessions.find(undefined), undefined);
  });

  it('a wrong token before the right one does not spend it', () => {
    const sessions = new Sessions(counter());
    assert.equal(sessions.exchange('token-'), undefined);
    assert.ok(sessions.exchange('token-1'));
  });

  it('the CSRF token must match exactly', () => {
    const session = { id: 'id', csrf: 'abc' };
    assert.equal(Sessions.csrfMatches(session, 'abc'), true);
    for (const candidate of [undefined, '', 'ab', 'abcd', 'ABC', 'id']) assert.equal(Sessions.csrfMatches(session, candidate), false);
  });

  it('secretsEqual compares whole strings', () => {
    assert.equal(secretsEqual('a', 'a'), true);
    assert.equal(secretsEqual('a', 'ab'), false);
    assert.equal(secretsEqual('', ''), true);
  });
});

describe('an in-cluster console address', () => {
  const address = { hosts: ['Console.Example', 'console.tidemark.svc:8080'], secure: true };

  it('accepts only the configured hosts, and their https origin', () => {
    assert.equal(publicHostAllowed('console.example', address), true);
    assert.equal(publicHostAllowed('console.tidemark.svc:8080', address), true);
    for (const host of [undefined, '', 'console.example:80', 'evil.example', '127.0.0.1:8080'])
      assert.equal(publicHostAllowed(host, address), false);
    assert.equal(publicOriginAllowed('https://console.example', 'console.example', address), true);
    assert.equal(publicOriginAllowed('http://console.example', 'console.example', address), false);
    assert.equal(publicOriginAllowed('https://evil.example', 'evil.example', address), false);
    assert.equal(publicOriginAllowed(undefined, 'console.example', address), false);
  });

  it('behind TLS the cookie is __Host- and Secure; without, neither', () => {
    assert.equal(publicCookie(address, 'id'), '__Host-tidemark_session=id; Path=/; HttpOnly; SameSite=Strict; Secure');
    assert.equal(publicCookie({ hosts: [], secure: false }, 'id', 0), 'tidemark_session=id; Path=/; HttpOnly; SameSite=Strict; Max-Age=0');
  });

  it('ends idle sessions without a live page, and closes their cluster', async () => {
    let closed = 0;
    const cluster = { close: () => Promise.resolve(void (closed += 1)) } as unknown as SessionCluster;
    let n = 0;
    const limits = { idleMs: 1000, lifetimeMs: 3_600_000, maxSessions: 10, maxPerToken: 10 };
    const sessions = new Sessions(() => `s${++n}`, { oneTimeLogin: false, limits });
    assert.equal(sessions.pendingLoginToken, undefined);
    const idle = sessions.open(cluster, 0);
    const live = sessions.open(cluster, 0);
    live.streams = 1;
    const recent = sessions.open(cluster, 900);
    assert.equal(await sessions.expire(1000), 1);
    assert.equal(closed, 1);
    assert.equal(sessions.find(idle.id), undefined);
    assert.equal(sessions.find(live.id), live);
    assert.equal(sessions.find(recent.id), recent);
  });
});
