import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { KubeRequest, KubeRest } from '../kube/rest.ts';
import { isConflict, isNotFound } from '../kube/errors.ts';
import { toTidemarkError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { recordShardMembers } from '../metrics/index.ts';
import type { Clock } from '../time/clock.ts';
import { DEFAULT_LEASE_TIMINGS, type LeaseTimings } from './lease-timings.ts';
import {
  liveMembers,
  membersToSweep,
  observeMembers,
  ownerOf,
  viewId,
  viewSettled,
  type MemberRecord,
  type SeenMember,
} from './shard-view.ts';

/** The label that puts a member Lease in its group; the group is one set of replicas sharing the work. */
export const SHARD_GROUP_LABEL = 'tidemark.dev/shard-group';
/** The view (viewId) a member holds and has drained, on its own Lease. */
export const SHARD_DRAINED_ANNOTATION = 'tidemark.dev/shard-drained';

/**
 * Automatic sharding across replicas (ADR 0012). Each replica holds a member Lease of its own,
 * renews it every retry period and lists the group's Leases; the live ones form its view, and
 * keys are owned by rendezvous hashing over the view. A replica starts nothing while its view
 * changes: it first drains (stops the runs of keys the view gives to others), publishes the view
 * it drained, and starts its keys only when every other member of the view has published the same.
 * So a key changes hands only after its old owner has stopped running it. A replica that cannot
 * renew within the renew deadline has lost (`lost`) and must stop at once, before the others, who
 * wait a whole lease duration, count it gone.
 */
export interface ShardMembershipOptions {
  rest: Pick<KubeRest, 'request'>;
  /** Where the member Leases live (the release namespace). */
  namespace: string;
  /** The group's name; also the prefix of the Lease names (`<group>-member-<identity>`). */
  group: string;
  /** Defaults to the host name and a random suffix, as a Lease name allows. */
  identity?: string;
  timings?: LeaseTimings;
  clock: Clock;
  log: Logger;
}

/** What the controller does when the view changes. */
export interface ShardHooks {
  /** Stop the runs of keys this replica no longer keeps (see `keeps`) and resolve once they have ended. */
  drain(): Promise<void>;
  /** This replica may run its keys again: run those it skipped or has just gained. */
  resume(): void;
}

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: {
    name: string;
    namespace: string;
    uid?: string | undefined;
    resourceVersion?: string | undefined;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string };
}

export class ShardMembership {
  readonly identity: string;
  readonly leaseName: string;
  private readonly options: ShardMembershipOptions;
  private readonly timings: LeaseTimings;
  private seen = new Map<string, SeenMember>();
  /** Empty until the first list, so the first view counts as a change and is drained too. */
  private members: readonly string[] = [];
  private drained: string | undefined;
  private active = false;
  private own: Lease | undefined;
  private lastRenewMs = 0;
  /** When the Lease was given up for lack of renewals; undefined while it is held. */
  private lostAt: number | undefined;
  private readonly stopping = new AbortController();
  /** Member Leases we were refused to sweep (RBAC without delete): warned about once, not every period. */
  private readonly sweepRefused = new Set<string>();
  private looping: Promise<void> | undefined;
  private resolveLost: (reason: string) => void = () => undefined;
  /** Resolves with why, once this replica could not renew its Lease in time: it must stop working. */
  readonly lost: Promise<string>;

  constructor(options: ShardMembershipOptions) {
    this.options = options;
    this.timings = options.timings ?? DEFAULT_LEASE_TIMINGS;
    this.identity = options.identity ?? defaultIdentity();
    this.leaseName = `${options.group}-member-${this.identity}`;
    this.lost = new Promise((resolve) => (this.resolveLost = resolve));
  }

  /** Whether this replica may start `key` now: the view has settled and hashes it here. */
  owns(key: string): boolean {
    // Past the renew deadline the others may soon count this replica gone: start nothing more,
    // even while the loop is still waiting on a hung request to say so.
    if (this.active && this.options.clock.now() - this.lastRenewMs >= this.timings.renewDeadlineMs) this.loseLease();
    return this.active && ownerOf(key, this.members) === this.identity;
  }

  /** Whether `key` stays here under the newest view, settled or not: what a drain leaves running. */
  keeps(key: string): boolean {
    return ownerOf(key, this.members) === this.identity;
  }

  /** The live members this replica sees, itself included. */
  get view(): readonly string[] {
    return this.members;
  }

  /** Creates the member Lease, then renews it and follows the group in the background. */
  async start(hooks: ShardHooks): Promise<void> {
    await this.renew();
    this.looping = this.loop(hooks);
  }

  /** Stops renewing and deletes the Lease: call it after the keys' runs have ended, so the others take over at once. */
  async stop(): Promise<void> {
    this.active = false;
    this.stopping.abort();
    await this.looping;
    try {
      await this.request({ method: 'DELETE', path: this.path(this.leaseName) });
    } catch (err) {
      // The Lease then expires instead: the others wait one lease duration.
      if (!isNotFound(err)) this.options.log.warn({ err: toTidemarkError(err).message }, 'could not delete the member lease');
    }
    recordShardMembers(this.options.group, undefined);
  }

  private async loop(hooks: ShardHooks): Promise<void> {
    const { clock, log } = this.options;
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      try {
        await clock.sleep(this.timings.retryPeriodMs, signal);
      } catch {
        return;
      }
      const renewed = await this.renew().then(
        () => true,
        (err: unknown) => {
          if (!isConflict(err)) log.debug({ err: toTidemarkError(err).message }, 'member lease renewal failed');
          return false;
        },
      );
      if (signal.aborted) return;
      if (!renewed && clock.now() - this.lastRenewMs >= this.timings.renewDeadlineMs) {
        this.loseLease();
        return;
      }
      // Following the group without our own Lease renewed would only spend the time left.
      if (!renewed) continue;
      await this.follow(hooks).catch((err: unknown) =>
        log.debug({ err: toTidemarkError(err).message }, 'listing the member leases failed'),
      );
    }
  }

  /** This replica could not renew in time: it stops working (once), so the others may take its keys. */
  private loseLease(): void {
    if (this.lostAt !== undefined) return;
    this.active = false;
    this.lostAt = this.options.clock.now();
    const late = this.lostAt - this.lastRenewMs;
    const deadline = this.timings.renewDeadlineMs / 1000;
    const reason = `could not renew the member lease for ${Math.round(late / 1000)} s (renew deadline ${deadline} s)`;
    this.options.log.error({ lease: `${this.options.namespace}/${this.leaseName}` }, `shard membership lost: ${reason}`);
    this.resolveLost(reason);
  }

  /** One look at the group: a new view is drained, then started once every member has drained it too. */
  private async follow(hooks: ShardHooks): Promise<void> {
    const { clock, log } = this.options;
    const list = await this.request<{ items: Lease[] }>({
      method: 'GET',
      path: this.path(),
      query: { labelSelector: `${SHARD_GROUP_LABEL}=${this.options.group}` },
    });
    const now = clock.now();
    this.seen = observeMembers(this.seen, list.items.flatMap(memberRecord), now);
    const members = liveMembers(this.seen, now, this.identity);
    recordShardMembers(this.options.group, members.length);
    const changed = members.join('\n') !== this.members.join('\n');
    if (changed) {
      this.active = false;
      this.members = members;
      this.drained = undefined;
      const id = viewId(members);
      log.info({ members, group: this.options.group }, 'shard view changed: draining the keys it moves');
      hooks.drain().then(
        () => {
          // Published with the next renewal; a newer view drains again.
          if (viewId(this.members) === id) this.drained = id;
        },
        (err: unknown) => log.error({ err: toTidemarkError(err).message }, 'draining the moved keys failed'),
      );
    } else if (!this.active && this.drained === viewId(members) && viewSettled(members, this.identity, this.seen)) {
      this.active = true;
      log.info({ members, group: this.options.group }, 'shard view settled: running the keys it gives this replica');
      hooks.resume();
    }
    await this.sweep(list.items, members, now);
  }

  /**
   * Deletes the Leases of members long gone (see membersToSweep), each only as it was listed: a
   * replica that revives and renews in between changes the resourceVersion, and the delete is
   * refused instead of taking its fresh Lease away.
   */
  private async sweep(leases: readonly Lease[], members: readonly string[], now: number): Promise<void> {
    const stale = new Set(membersToSweep(this.seen, members, now, this.identity));
    if (stale.size === 0) return;
    for (const lease of leases) {
      const identity = lease.spec?.holderIdentity;
      if (identity === undefined || !stale.has(identity)) continue;
      const { name, uid, resourceVersion } = lease.metadata;
      try {
        await this.request({
          method: 'DELETE',
          path: this.path(name),
          body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid, resourceVersion } },
        });
        this.seen.delete(identity);
        this.options.log.info({ lease: `${this.options.namespace}/${name}`, member: identity }, 'swept the lease of a member long gone');
      } catch (err) {
        // Gone already, or renewed since the list (a Conflict): nothing to sweep.
        if (isNotFound(err) || isConflict(err)) {
          this.seen.delete(identity);
          continue;
        }
        if (this.sweepRefused.has(name)) continue;
        this.sweepRefused.add(name);
        this.options.log.warn(
          { lease: `${this.options.namespace}/${name}`, err: toTidemarkError(err).message },
          'could not sweep a member lease',
        );
      }
    }
  }

  /** Creates or renews the Lease, publishing the drained view; the Lease is ours alone, so a PUT of our last copy. */
  private async renew(): Promise<void> {
    const now = this.options.clock.now();
    const spec = {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.timings.leaseDurationMs / 1000),
      renewTime: microTime(now),
    };
    const annotations = this.drained === undefined ? {} : { [SHARD_DRAINED_ANNOTATION]: this.drained };
    const metadata = {
      name: this.leaseName,
      namespace: this.options.namespace,
      labels: { [SHARD_GROUP_LABEL]: this.options.group },
      annotations,
    };
    const body: Lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata, spec };
    if (this.own === undefined) {
      this.own = await this.request<Lease>({ method: 'POST', path: this.path(), body }).catch(async (err: unknown) => {
        // A Lease of our name from before (a fixed --shard-identity after a restart): ours to renew.
        if (!isConflict(err)) throw err;
        const existing = await this.request<Lease>({ method: 'GET', path: this.path(this.leaseName) });
        return this.put({ ...body, metadata: { ...metadata, resourceVersion: existing.metadata.resourceVersion } });
      });
    } else {
      try {
        this.own = await this.put({ ...body, metadata: { ...metadata, resourceVersion: this.own.metadata.resourceVersion } });
      } catch (err) {
        if (isNotFound(err)) {
          this.own = await this.request<Lease>({ method: 'POST', path: this.path(), body });
        } else {
          // Someone else wrote our Lease (kubectl): take its version and renew on the next turn.
          if (isConflict(err)) this.own = await this.request<Lease>({ method: 'GET', path: this.path(this.leaseName) });
          throw err;
        }
      }
    }
    this.lastRenewMs = this.options.clock.now();
  }

  private put(lease: Lease): Promise<Lease> {
    return this.request<Lease>({ method: 'PUT', path: this.path(this.leaseName), body: lease });
  }

  private path(name?: string): string {
    const base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.options.namespace)}/leases`;
    return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
  }

  /** No request may outlast half the renew deadline: a hung call must not hide a lost lease. */
  private request<T>(req: Omit<KubeRequest, 'signal'>): Promise<T> {
    return this.options.rest.request<T>({ ...req, signal: AbortSignal.timeout(this.timings.renewDeadlineMs / 2) });
  }
}

function memberRecord(lease: Lease): MemberRecord[] {
  const spec = lease.spec;
  if (!spec?.holderIdentity || !spec.renewTime) return [];
  return [
    {
      identity: spec.holderIdentity,
      renewTime: spec.renewTime,
      leaseDurationSeconds: spec.leaseDurationSeconds ?? 15,
      drained: lease.metadata.annotations?.[SHARD_DRAINED_ANNOTATION],
    },
  ];
}

/** The host name as a Lease name allows it (lower case, digits, dashes), and a random suffix. */
function defaultIdentity(): string {
  const host = hostname()
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return `${host || 'replica'}-${randomUUID().slice(0, 8)}`;
}

/** A Lease's MicroTime: RFC 3339 with microseconds, as the API server expects. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
