import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KubeApiError } from '../kube/errors.ts';
import type { KubeRequest } from '../kube/rest.ts';
import { silentLogger } from '../log/index.ts';
import { FakeClock, settle } from '../time/fake-clock.ts';
import type { LeaseTimings } from './lease-timings.ts';
import { SHARD_GROUP_LABEL, ShardMembership } from './membership.ts';

const TIMINGS: LeaseTimings = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 300 };
const KEYS = Array.from({ length: 60 }, (_, i) => `ns-${i % 3}/app-${i}`);

interface StoredLease {
  metadata: { name: string; uid?: string; resourceVersion?: string; labels?: Record<string, string> };
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string };
}

interface DeleteOptions {
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** The Leases endpoint of an API server, in memory, with resourceVersion conflicts; a client can be cut off. */
class FakeLeases {
  private readonly items = new Map<string, StoredLease>();
  private version = 0;
  readonly cut = new Set<string>();
  /** Clients whose requests never answer (a partition that drops packets). */
  readonly hung = new Set<string>();
  /** Every delete that reached the store: who sent it, for which Lease, and what it answered. */
  readonly deletes: Array<{ who: string; name: string; status: number }> = [];
  /** Runs before a delete is handled: a member that renews between another's list and delete. */
  beforeDelete: (name: string) => void = () => undefined;

  client(who: string) {
    return {
      request: <T>(req: KubeRequest): Promise<T> => {
        if (this.cut.has(who)) return Promise.reject(new Error('connect ECONNREFUSED'));
        if (this.hung.has(who)) return new Promise<T>(() => undefined);
        if (req.method === 'DELETE') return Promise.resolve(this.deleteAs(who, req) as T);
        return Promise.resolve(this.handle(req) as T);
      },
    };
  }

  private handle(req: KubeRequest): unknown {
    const name = /\/leases\/([^/]+)$/.exec(req.path)?.[1];
    const body = req.body as StoredLease | undefined;
    if (req.method === 'GET' && name === undefined) {
      const [key, value] = String(req.query?.labelSelector ?? '').split('=');
      return { items: [...this.items.values()].filter((l) => key === undefined || l.metadata.labels?.[key] === value) };
    }
    const existing = name === undefined ? undefined : this.items.get(decodeURIComponent(name));
    if (req.method === 'POST' && body) {
      if (this.items.has(body.metadata.name)) throw new KubeApiError(409, 'AlreadyExists', 'exists');
      return this.store(body);
    }
    if (!existing) throw new KubeApiError(404, 'NotFound', 'not found');
    if (req.method === 'GET') return existing;
    if (req.method === 'DELETE') {
      // The API server's DeleteOptions.preconditions: refused with a Conflict when either differs.
      const pre = (req.body as DeleteOptions | undefined)?.preconditions;
      if (pre?.uid !== undefined && pre.uid !== existing.metadata.uid) throw new KubeApiError(409, 'Conflict', 'uid precondition');
      if (pre?.resourceVersion !== undefined && pre.resourceVersion !== existing.metadata.resourceVersion) {
        throw new KubeApiError(409, 'Conflict', 'resourceVersion precondition');
      }
      return this.items.delete(existing.metadata.name) && {};
    }
    if (req.method === 'PUT' && body) {
      if (body.metadata.resourceVersion !== existing.metadata.resourceVersion) throw new KubeApiError(409, 'Conflict', 'conflict');
      return this.store(body);
    }
    throw new Error(`unexpected ${req.method} ${req.path}`);
  }

  private deleteAs(who: string, req: KubeRequest): unknown {
    const name = decodeURIComponent(/\/leases\/([^/]+)$/.exec(req.path)?.[1] ?? '');
    this.beforeDelete(name);
    try {
      const answer = this.handle(req);
      this.deletes.push({ who, name, status: 200 });
      return answer;
    } catch (err) {
      this.deletes.push({ who, name, status: err instanceof KubeApiError ? err.status : 0 });
      throw err;
    }
  }

  /** Writes a Lease as a replica would, outside any ShardMembership (one that crashed, or revives). */
  put(holder: string, renewTime: string): void {
    const name = `agents-member-${holder}`;
    const spec = { holderIdentity: holder, leaseDurationSeconds: TIMINGS.leaseDurationMs / 1000, renewTime };
    const existing = this.items.get(name);
    this.store({ ...existing, metadata: { ...existing?.metadata, name, labels: { [SHARD_GROUP_LABEL]: 'agents' } }, spec });
  }

  private store(lease: StoredLease): StoredLease {
    const uid = lease.metadata.uid ?? this.items.get(lease.metadata.name)?.metadata.uid ?? `uid-${this.version + 1}`;
    const stored = structuredClone({ ...lease, metadata: { ...lease.metadata, uid, resourceVersion: String(++this.version) } });
    this.items.set(stored.metadata.name, stored);
    return structuredClone(stored);
  }

  names(): string[] {
    return [...this.items.keys()].sort();
  }
}

/** A replica whose every run lasts until it is aborted, and then ends only 700 ms later. */
function replica(identity: string, leases: FakeLeases, clock: FakeClock) {
  const running = new Set<string>();
  const membership = new ShardMembership({
    rest: leases.client(identity),
    namespace: 'ns',
    group: 'agents',
    identity,
    timings: TIMINGS,
    clock,
    log: silentLogger,
  });
  let exited = false;
  void membership.lost.then(() => {
    // The CLI exits the process: nothing of it runs any more.
    exited = true;
    running.clear();
  });
  const hooks = {
    // An aborted sync takes a while to return (an apply in flight).
    drain: async () => {
      const moving = [...running].filter((key) => !membership.keeps(key));
      if (moving.length > 0) await clock.sleep(700);
      for (const key of moving) running.delete(key);
    },
    resume: () => {
      if (!exited) for (const key of KEYS) if (membership.owns(key)) running.add(key);
    },
  };
  return { identity, membership, running, start: () => membership.start(hooks), exited: () => exited };
}

type Replica = ReturnType<typeof replica>;

/** Advances time in small steps; after each, no key may run on two replicas. */
async function runFor(clock: FakeClock, ms: number, replicas: readonly Replica[]): Promise<void> {
  for (let t = 0; t < ms; t += 50) {
    await clock.advance(50);
    await settle();
    const seen = new Map<string, string>();
    for (const r of replicas) {
      for (const key of r.running) {
        assert.equal(seen.get(key), undefined, `${key} runs on ${seen.get(key)} and ${r.identity} at ${clock.now()}`);
        seen.set(key, r.identity);
      }
    }
  }
}

const ownersOf = (replicas: readonly Replica[]) => replicas.map((r) => r.running.size);

describe('shard membership', () => {
  it('a replica whose renewal hangs starts nothing past its renew deadline and gives its keys up', async () => {
    const clock = new FakeClock();
    const leases = new FakeLeases();
    const a = replica('a', leases, clock);
    await a.start();
    await runFor(clock, 1_000, [a]);
    assert.equal(a.running.size, KEYS.length);
    leases.hung.add('a');
    await runFor(clock, TIMINGS.renewDeadlineMs + 100, [a]);
    // The loop still waits on the renewal; the next key the runner would start is refused anyway.
    assert.equal(a.membership.owns(KEYS[0] as string), false);
    await settle();
    assert.ok(a.exited(), 'the lease is given up without the hung renewal answering');
  });

  it('two replicas split the keys; a third joins and a leaver hands over, never running a key twice', async () => {
    const clock = new FakeClock();
    const leases = new FakeLeases();
    const [a, b, c] = ['a', 'b', 'c'].map((id) => replica(id, leases, clock)) as [Replica, Replica, Replica];
    await a.start();
    await b.start();
    await runFor(clock, 2_000, [a, b]);
    assert.deepEqual(leases.names(), ['agents-member-a', 'agents-member-b']);
    assert.equal(a.running.size + b.running.size, KEYS.length, `split ${ownersOf([a, b]).join(' + ')}`);
    assert.ok(a.running.size > 0 && b.running.size > 0);

    const bBefore = new Set(b.running);
    await c.start();
    await runFor(clock, 2_000, [a, b, c]);
    assert.equal(a.running.size + b.running.size + c.running.size, KEYS.length);
    assert.ok(c.running.size > 0);
    // Rendezvous: what b kept it had before; c took only from a and b.
    assert.ok([...b.running].every((key) => bBefore.has(key)));

    // b leaves gracefully: its Lease is gone, and a and c take its keys at once.
    const bKeys = [...b.running];
    b.running.clear();
    await b.membership.stop();
    await runFor(clock, 1_000, [a, b, c]);
    assert.deepEqual(leases.names(), ['agents-member-a', 'agents-member-c']);
    assert.ok(bKeys.every((key) => a.running.has(key) || c.running.has(key)));
    assert.equal(a.running.size + c.running.size, KEYS.length);
    await a.membership.stop();
    await c.membership.stop();
  });

  it('a partitioned replica loses its membership before the others take its keys', async () => {
    const clock = new FakeClock();
    const leases = new FakeLeases();
    const [a, b] = ['a', 'b'].map((id) => replica(id, leases, clock)) as [Replica, Replica];
    await a.start();
    await b.start();
    await runFor(clock, 2_000, [a, b]);
    assert.ok(b.running.size > 0);
    leases.cut.add('b');
    // runFor checks every 50 ms that a did not start b's keys while b could still run them.
    await runFor(clock, 6_000, [a, b]);
    assert.equal(b.exited(), true);
    assert.equal(a.running.size, KEYS.length);
    assert.deepEqual(a.membership.view, ['a']);
    await a.membership.stop();
  });

  it('a member Lease carries the group label the others list by', async () => {
    const clock = new FakeClock();
    const leases = new FakeLeases();
    const a = replica('a', leases, clock);
    await a.start();
    const listed = await leases.client('x').request<{ items: StoredLease[] }>({
      method: 'GET',
      path: '/apis/coordination.k8s.io/v1/namespaces/ns/leases',
      query: { labelSelector: `${SHARD_GROUP_LABEL}=agents` },
    });
    assert.deepEqual(
      listed.items.map((l) => l.metadata.name),
      ['agents-member-a'],
    );
    await a.membership.stop();
    assert.deepEqual(leases.names(), []);
  });

  it('the lowest-named live member sweeps a crashed member’s Lease long after it expired, and only then', async () => {
    const clock = new FakeClock();
    const leases = new FakeLeases();
    // Crashed before this test began: its Lease stays, never renewed. Its name sorts first, but
    // it is not live, so it is not the sweeper.
    leases.put('0-crashed', new Date(clock.now()).toISOString());
    const [a, b] = ['a', 'b'].map((id) => replica(id, leases, clock)) as [Replica, Replica];
    await a.start();
    await b.start();
    const sweepAt = 10 * TIMINGS.leaseDurationMs;
    await runFor(clock, sweepAt - 1_000, [a, b]);
    assert.deepEqual(a.membership.view, ['a', 'b'], 'expired long since, not live');
    assert.ok(leases.names().includes('agents-member-0-crashed'), 'kept until ten lease durations have passed');
    await runFor(clock, 2_000, [a, b]);
    assert.deepEqual(leases.names(), ['agents-member-a', 'agents-member-b']);
    assert.deepEqual(leases.deletes, [{ who: 'a', name: 'agents-member-0-crashed', status: 200 }], 'a alone swept it, once');
    await a.membership.stop();
    await b.membership.stop();
  });

  it('a member that renews between the sweeper’s list and its delete keeps its Lease', async () => {
    const clock = new FakeClock();
    const leases = new FakeLeases();
    leases.put('z', new Date(clock.now()).toISOString());
    const a = replica('a', leases, clock);
    await a.start();
    // z revives just as a sweeps: its renewal lands first.
    let revived = false;
    leases.beforeDelete = (name) => {
      if (name !== 'agents-member-z' || revived) return;
      revived = true;
      leases.put('z', new Date(clock.now()).toISOString());
    };
    await runFor(clock, 10 * TIMINGS.leaseDurationMs + 1_000, [a]);
    assert.equal(revived, true, 'a tried to sweep z');
    assert.deepEqual(leases.deletes, [{ who: 'a', name: 'agents-member-z', status: 409 }]);
    assert.ok(leases.names().includes('agents-member-z'), 'the renewed Lease stays');
    // z renews from here on: live again, and a shares the keys with it.
    for (let i = 0; i < 10; i++) {
      leases.put('z', new Date(clock.now()).toISOString());
      await runFor(clock, 500, [a]);
    }
    assert.deepEqual(a.membership.view, ['a', 'z']);
    assert.equal(leases.deletes.length, 1);
    await a.membership.stop();
  });
});
