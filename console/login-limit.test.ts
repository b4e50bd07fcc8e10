import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientAddress, LoginLimiter, parseLoginWindow } from './login-limit.ts';

const limits = { perClient: { max: 3, windowMs: 60_000 }, total: { max: 5, windowMs: 10_000 } };

describe('login limits', () => {
  it('refuses a client past its failures in the window, and says when a slot frees', () => {
    const limiter = new LoginLimiter(limits);
    assert.equal(limiter.begin('10.0.0.1', 0).allowed, true);
    assert.equal(limiter.begin('10.0.0.1', 20_000).allowed, true);
    assert.equal(limiter.begin('10.0.0.1', 40_000).allowed, true);
    assert.deepEqual(limiter.begin('10.0.0.1', 45_000), { allowed: false, scope: 'client', retryAfterMs: 15_000 });
    // Another client is not held back by this one.
    assert.equal(limiter.begin('10.0.0.2', 45_000).allowed, true);
    // The window slides: the failure at 0 has left it at 60 s.
    assert.deepEqual(limiter.begin('10.0.0.1', 59_999), { allowed: false, scope: 'client', retryAfterMs: 1 });
    assert.equal(limiter.begin('10.0.0.1', 60_000).allowed, true);
    assert.deepEqual(limiter.begin('10.0.0.1', 60_001), { allowed: false, scope: 'client', retryAfterMs: 19_999 });
  });

  it('a refused attempt is not counted: waiting the Retry-After is enough', () => {
    const limiter = new LoginLimiter(limits);
    for (const at of [0, 1, 2]) assert.equal(limiter.begin('a', at).allowed, true);
    for (let at = 3; at < 60_000; at += 7_000) assert.equal(limiter.begin('a', at).allowed, false);
    assert.equal(limiter.begin('a', 60_000).allowed, true);
  });

  it('caps failures across all clients, each client within its own limit', () => {
    const limiter = new LoginLimiter(limits);
    for (let i = 0; i < 5; i += 1) assert.equal(limiter.begin(`10.0.0.${i}`, i * 1000).allowed, true);
    assert.deepEqual(limiter.begin('10.0.0.99', 5_000), { allowed: false, scope: 'total', retryAfterMs: 5_000 });
    assert.equal(limiter.begin('10.0.0.99', 10_000).allowed, true, 'the first failure left the 10 s window');
  });

  it('counts an attempt before its answer: concurrent attempts cannot overshoot', () => {
    const limiter = new LoginLimiter(limits);
    const decisions = Array.from({ length: 10 }, () => limiter.begin('burst', 0));
    assert.equal(decisions.filter((d) => d.allowed).length, 3);
  });

  it("an accepted token gives back its own slot, not the client's earlier failures", () => {
    const limiter = new LoginLimiter(limits);
    assert.equal(limiter.begin('a', 0).allowed, true);
    assert.equal(limiter.begin('a', 1).allowed, true);
    const good = limiter.begin('a', 2);
    assert.ok(good.allowed);
    limiter.release(good.ticket);
    assert.equal(limiter.begin('a', 3).allowed, true, 'the good login freed its slot');
    assert.equal(limiter.begin('a', 4).allowed, false, 'the two failures and the latest attempt still count');
  });

  it('forgets clients whose failures left the window (bounded memory)', () => {
    const limiter = new LoginLimiter(limits);
    for (let i = 0; i < 5; i += 1) limiter.begin(`c${i}`, 0);
    assert.equal(limiter.trackedClients, 5);
    for (let i = 5; i < 10; i += 1) limiter.begin(`c${i}`, 61_000);
    limiter.begin('another', 61_000);
    assert.ok(limiter.trackedClients <= 6, String(limiter.trackedClients));
  });

  it('reads limits as COUNT/DURATION', () => {
    assert.deepEqual(parseLoginWindow('10/5m'), { max: 10, windowMs: 300_000 });
    assert.deepEqual(parseLoginWindow(' 1 / 90s '), { max: 1, windowMs: 90_000 });
    for (const bad of ['', '10', '0/5m', '-1/5m', '10/0', '10/soon', '1.5/5m', '/5m'])
      assert.throws(() => parseLoginWindow(bad), /is not a limit such as 10\/5m/, bad);
  });
});

describe('the client address a login counts against', () => {
  it('is the TCP peer unless a trusted proxy appends X-Forwarded-For', () => {
    assert.equal(clientAddress('10.1.2.3', '1.1.1.1', false), '10.1.2.3');
    assert.equal(clientAddress('::ffff:10.1.2.3', undefined, false), '10.1.2.3');
    assert.equal(clientAddress(undefined, undefined, false), 'unknown');
  });
  it('an IPv6 client is its /64: it cannot take a fresh bucket per attempt', () => {
    assert.equal(clientAddress('2001:db8:1:2:aaaa::1', undefined, false), '2001:0db8:0001:0002::/64');
    assert.equal(clientAddress('2001:db8:1:2:bbbb:cccc:dddd:eeee', undefined, false), '2001:0db8:0001:0002::/64');
    assert.notEqual(clientAddress('2001:db8:1:3::1', undefined, false), clientAddress('2001:db8:1:2::1', undefined, false));
    assert.equal(clientAddress('::1', undefined, false), '0000:0000:0000:0000::/64');
    assert.equal(clientAddress('fe80::1:2', undefined, false), 'fe80:0000:0000:0000::/64');
    assert.equal(clientAddress('::ffff:192.0.2.1', undefined, false), '192.0.2.1');
    assert.equal(clientAddress('64:ff9b::192.0.2.1', undefined, false), '0064:ff9b:0000:0000::/64');
  });

  it("behind a proxy: the last entry, the proxy's own; the client's entries before it are ignored", () => {
    assert.equal(clientAddress('10.0.0.9', 'spoofed, 203.0.113.7', true), '203.0.113.7');
    assert.equal(clientAddress('10.0.0.9', '2001:DB8::1', true), '2001:0db8:0000:0000::/64');
    assert.equal(clientAddress('10.0.0.9', '203.0.113.7, not-an-address', true), '10.0.0.9');
    assert.equal(clientAddress('10.0.0.9', undefined, true), '10.0.0.9');
  });
});
