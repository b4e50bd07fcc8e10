import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SessionCluster } from './sessions.ts';
import { sessionExpiry, Sessions, tokenHash } from './sessions.ts';

/** A session's cluster that only counts its closing: the sessions' rules are what is tested. */
function clusters() {
  const closed: string[] = [];
  const make = (name: string) => ({ close: () => Promise.resolve(void closed.push(name)) }) as unknown as SessionCluster;
  return { closed, make };
}

const limits = { idleMs: 30 * 60_000, lifetimeMs: 12 * 3_600_000, maxSessions: 3, maxPerToken: 2 };

function sessions() {
  let n = 0;
  return new Sessions(() => `s${++n}`, { oneTimeLogin: false, limits });
}

describe('in-cluster sessions', () => {
  it('keys tokens by their sha256, never the token', async () => {
    assert.equal(tokenHash('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const all = sessions();
    const session = await all.openForToken(clusters().make('a'), tokenHash('secret-token'), 0);
    assert.ok(session);
    assert.doesNotMatch(JSON.stringify({ ...session, onEnd: undefined }), /secret-token/);
  });

  it('at most N sessions per token: a new one ends the oldest of that token only', async () => {
    const all = sessions();
    const { closed, make } = clusters();
    const alice = tokenHash('alice'),
      bob = tokenHash('bob');
    const a1 = await all.openForToken(make('a1'), alice, 0);
    const b1 = await all.openForToken(make('b1'), bob, 1);
    const a2 = await all.openForToken(make('a2'), alice, 2);
    assert.deepEqual(closed, []);
    const a3 = await all.openForToken(make('a3'), alice, 3);
    assert.deepEqual(closed, ['a1']);
    assert.equal(all.find(a1?.id), undefined);
    for (const kept of [b1, a2, a3]) assert.equal(all.find(kept?.id), kept);
  });

  it('the oldest ends, whatever order the sessions were used in', async () => {
    const all = sessions();
    const { closed, make } = clusters();
    const alice = tokenHash('alice');
    const first = await all.openForToken(make('first'), alice, 0);
    await all.openForToken(make('second'), alice, 10);
    if (first) first.lastSeen = 20;
    await all.openForToken(make('third'), alice, 30);
    assert.deepEqual(closed, ['first']);
  });

  it('refuses a new token when every slot is taken, before anything ends', async () => {
    const all = sessions();
    const { closed, make } = clusters();
    await all.openForToken(make('a'), tokenHash('a'), 0);
    await all.openForToken(make('b'), tokenHash('b'), 0);
    await all.openForToken(make('c'), tokenHash('c'), 0);
    assert.equal(all.hasRoomFor(tokenHash('d')), false);
    assert.equal(await all.openForToken(make('d'), tokenHash('d'), 1), undefined);
    assert.deepEqual(closed, []);
    assert.equal(all.size, 3);
    // A token below its own cap has no session to give up: it waits like a new one.
    assert.equal(await all.openForToken(make('c2'), tokenHash('c'), 2), undefined);
    assert.equal(all.size, 3);
  });

  it('a full console lets a token at its own cap in, ending its oldest', async () => {
    const all = new Sessions(() => `x${Math.random()}`, { oneTimeLogin: false, limits: { ...limits, maxSessions: 2 } });
    const { closed, make } = clusters();
    await all.openForToken(make('c1'), tokenHash('c'), 0);
    await all.openForToken(make('c2'), tokenHash('c'), 1);
    assert.equal(all.hasRoomFor(tokenHash('d')), false);
    assert.equal(all.hasRoomFor(tokenHash('c')), true);
    assert.ok(await all.openForToken(make('c3'), tokenHash('c'), 2));
    assert.deepEqual(closed, ['c1']);
    assert.equal(all.size, 2);
  });

  it('a session ends when idle with no page open, and at its lifetime even when busy', () => {
    const l = { idleMs: 1000, lifetimeMs: 10_000 };
    assert.equal(sessionExpiry({ openedAt: 0, lastSeen: 500, streams: 0 }, 1499, l), undefined);
    assert.equal(sessionExpiry({ openedAt: 0, lastSeen: 500, streams: 0 }, 1500, l), 'idle');
    assert.equal(sessionExpiry({ openedAt: 0, lastSeen: 500, streams: 1 }, 5000, l), undefined, 'a live page keeps it');
    assert.equal(sessionExpiry({ openedAt: 0, lastSeen: 9999, streams: 1 }, 9999, l), undefined);
    assert.equal(sessionExpiry({ openedAt: 0, lastSeen: 9999, streams: 1 }, 10_000, l), 'lifetime');
  });

  it('the sweep ends sessions past their lifetime, and tells their open streams', async () => {
    const all = sessions();
    const { closed, make } = clusters();
    const old = await all.openForToken(make('old'), tokenHash('a'), 0);
    const young = await all.openForToken(make('young'), tokenHash('b'), 6 * 3_600_000);
    assert.ok(old && young);
    old.streams = 1;
    young.streams = 1;
    old.lastSeen = 12 * 3_600_000;
    let told = 0;
    old.onEnd.add(() => (told += 1));
    assert.equal(await all.expire(12 * 3_600_000 - 1), 0);
    assert.equal(await all.expire(12 * 3_600_000), 1);
    assert.deepEqual(closed, ['old']);
    assert.equal(told, 1);
    assert.equal(all.find(young.id), young);
    await all.end(old);
    assert.deepEqual(closed, ['old'], 'ending twice closes once');
  });
});
