import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { liveMembers, membersToSweep, observeMembers, ownerOf, viewId, viewSettled, type MemberRecord } from './shard-view.ts';

const KEYS = Array.from({ length: 2000 }, (_, i) => `ns-${i % 7}/app-${i}`);

function owners(members: readonly string[]): Map<string, string | undefined> {
  return new Map(KEYS.map((key) => [key, ownerOf(key, members)]));
}

function moved(a: Map<string, string | undefined>, b: Map<string, string | undefined>): string[] {
  return KEYS.filter((key) => a.get(key) !== b.get(key));
}

const record = (identity: string, renewTime: string, drained?: string): MemberRecord => ({
  identity,
  renewTime,
  leaseDurationSeconds: 15,
  drained,
});

describe('rendezvous hashing', () => {
  it('spreads keys evenly over the members', () => {
    const members = ['a', 'b', 'c', 'd'];
    const counts = new Map<string, number>();
    for (const owner of owners(members).values()) counts.set(owner ?? '', (counts.get(owner ?? '') ?? 0) + 1);
    assert.deepEqual([...counts.keys()].sort(), members);
    for (const count of counts.values()) assert.ok(count > 400 && count < 600, `${count} of 2000 keys on one of 4 members`);
  });

  it('a member joining takes about 1/N of the keys, only for itself', () => {
    const before = owners(['a', 'b', 'c', 'd']);
    const after = owners(['a', 'b', 'c', 'd', 'e']);
    const changed = moved(before, after);
    assert.ok(
      changed.every((key) => after.get(key) === 'e'),
      'no key moves between members that stay',
    );
    assert.ok(changed.length > 300 && changed.length < 500, `${changed.length} of 2000 moved (1/5 is 400)`);
  });

  it('a member leaving gives away only its own keys', () => {
    const before = owners(['a', 'b', 'c', 'd']);
    const after = owners(['a', 'b', 'd']);
    const changed = moved(before, after);
    assert.deepEqual(
      changed,
      KEYS.filter((key) => before.get(key) === 'c'),
    );
    assert.ok(changed.every((key) => after.get(key) !== 'c'));
  });

  it('does not depend on the order of the members; none owns nothing', () => {
    assert.deepEqual(owners(['c', 'a', 'b']), owners(['a', 'b', 'c']));
    assert.equal(ownerOf('ns/x', []), undefined);
  });
});

describe('membership view', () => {
  it('a Lease that stops changing expires one duration after we last saw it change, by our clock', () => {
    let seen = observeMembers(new Map(), [record('a', 't1'), record('b', 't1')], 1_000);
    assert.deepEqual(liveMembers(seen, 1_000, 'a'), ['a', 'b']);
    // b renews, then stops; its renewTime is never compared with our clock.
    seen = observeMembers(seen, [record('a', 't2'), record('b', 't2')], 10_000);
    seen = observeMembers(seen, [record('a', 't3'), record('b', 't2')], 20_000);
    assert.deepEqual(liveMembers(seen, 24_999, 'a'), ['a', 'b']);
    assert.deepEqual(liveMembers(seen, 25_000, 'a'), ['a']);
  });

  it('a deleted Lease leaves the view at once; we are always in our own view', () => {
    const seen = observeMembers(new Map(), [record('b', 't1')], 0);
    assert.deepEqual(liveMembers(observeMembers(seen, [], 1), 1, 'a'), ['a']);
    assert.deepEqual(liveMembers(seen, 0, 'a'), ['a', 'b']);
  });

  it('settles only when every other member has drained the same view', () => {
    const view = ['a', 'b', 'c'];
    const id = viewId(view);
    assert.equal(viewId(['c', 'b', 'a']), id);
    const older = viewId(['a', 'b']);
    const seen = observeMembers(new Map(), [record('a', 't', 'stale'), record('b', 't', id), record('c', 't', older)], 0);
    assert.equal(viewSettled(view, 'a', seen), false, 'c still holds the view without us');
    const settled = observeMembers(seen, [record('a', 't'), record('b', 't', id), record('c', 't2', id)], 1);
    assert.equal(viewSettled(view, 'a', settled), true, 'our own record does not count');
    assert.equal(viewSettled(['a'], 'a', new Map()), true);
  });

  it('sweeps, from the lowest-named live member only, the members unchanged for ten lease durations', () => {
    const seen = observeMembers(new Map(), [record('a', 't0'), record('old', 't0'), record('b', 't0')], 0);
    const later = observeMembers(seen, [record('a', 't1'), record('old', 't0'), record('b', 't1')], 150_000);
    const live = liveMembers(later, 150_000, 'a');
    assert.deepEqual(live, ['a', 'b']);
    assert.deepEqual(membersToSweep(later, live, 149_999, 'a'), [], 'not before ten 15 s durations');
    assert.deepEqual(membersToSweep(later, live, 150_000, 'a'), ['old']);
    assert.deepEqual(membersToSweep(later, live, 150_000, 'b'), [], 'b is not the lowest live member');
  });
});
