import { createHash } from 'node:crypto';

/**
 * The pure core of automatic sharding (ADR 0012): which replicas are live, who owns a key, and
 * whether every live replica has let go of the keys a view takes from it. No I/O, no clock of its
 * own: the membership module feeds it what it read and when.
 */

/** What one replica publishes in its member Lease. */
export interface MemberRecord {
  identity: string;
  /** Changes on every renewal; a record that stops changing is a replica that stopped renewing. */
  renewTime: string;
  leaseDurationSeconds: number;
  /** The view (see viewId) this replica holds and has drained: none of its keys under another owner still runs. */
  drained?: string | undefined;
}

/** A member as this process last saw it change, by this process's own clock. */
export interface SeenMember {
  record: MemberRecord;
  seenAtMs: number;
}

/**
 * Folds a fresh list of the group's Leases into what was seen before. A record that changed
 * counts as renewed now; one that did not keeps the time it last changed, so expiry is judged by
 * our own clock, never by another node's renewTime (the leader election's rule).
 */
export function observeMembers(
  previous: ReadonlyMap<string, SeenMember>,
  listed: readonly MemberRecord[],
  nowMs: number,
): Map<string, SeenMember> {
  const next = new Map<string, SeenMember>();
  for (const record of listed) {
    const before = previous.get(record.identity);
    const unchanged = before !== undefined && before.record.renewTime === record.renewTime;
    next.set(record.identity, { record, seenAtMs: unchanged ? before.seenAtMs : nowMs });
  }
  return next;
}

/** The identities whose Lease changed within its duration, sorted; `self` is always one of them. */
export function liveMembers(seen: ReadonlyMap<string, SeenMember>, nowMs: number, self: string): string[] {
  const live = new Set([self]);
  for (const [identity, { record, seenAtMs }] of seen) {
    if (seenAtMs + record.leaseDurationSeconds * 1000 > nowMs) live.add(identity);
  }
  return [...live].sort();
}

/**
 * How many of its own lease durations a member Lease must stand unchanged before it is swept. A
 * replica that crashed (SIGKILL, a lost node) never deletes its Lease; far past one duration
 * it is surely gone, and a revived one simply creates its Lease again.
 */
export const SWEEP_AFTER_LEASE_DURATIONS = 10;

/**
 * The members whose Lease this replica should delete now: none unless `self` is the lowest-named
 * live member (one sweeper per group, without an election), and then those not renewed for
 * SWEEP_AFTER_LEASE_DURATIONS of their lease durations by our own clock.
 */
export function membersToSweep(seen: ReadonlyMap<string, SeenMember>, live: readonly string[], nowMs: number, self: string): string[] {
  if (live[0] !== self) return [];
  const stale: string[] = [];
  for (const [identity, { record, seenAtMs }] of seen) {
    if (identity === self) continue;
    if (nowMs - seenAtMs >= SWEEP_AFTER_LEASE_DURATIONS * record.leaseDurationSeconds * 1000) stale.push(identity);
  }
  return stale.sort();
}

/** A short name for a set of members: two replicas hold the same view exactly when the ids match. */
export function viewId(members: readonly string[]): string {
  return createHash('sha256')
    .update([...members].sort().join('\n'))
    .digest('hex')
    .slice(0, 16);
}

/**
 * Whether this replica may start its keys under `members`: every other member has published that
 * it holds the same view and has drained it. A member that still holds an older view may be
 * running a key this view gives to us; one that does not see us yet would not wait for us.
 */
export function viewSettled(members: readonly string[], self: string, seen: ReadonlyMap<string, SeenMember>): boolean {
  const id = viewId(members);
  return members.every((identity) => identity === self || seen.get(identity)?.record.drained === id);
}

/**
 * Rendezvous (highest random weight) hashing: the key goes to the member with the highest
 * hash of (member, key). A member leaving moves only its own keys, each to the runner-up; a member
 * joining takes from each other member only the keys it now wins — about 1/N of all, and nothing
 * moves between members that stay.
 */
export function ownerOf(key: string, members: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestWeight = -1n;
  for (const member of members) {
    const weight = createHash('sha256').update(member).update('\0').update(key).digest().readBigUInt64BE(0);
    if (weight > bestWeight || (weight === bestWeight && best !== undefined && member < best)) {
      best = member;
      bestWeight = weight;
    }
  }
  return best;
}
