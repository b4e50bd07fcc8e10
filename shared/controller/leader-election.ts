import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { KubeRest } from '../kube/rest.ts';
import { isConflict, isNotFound } from '../kube/errors.ts';
import { toTidemarkError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { recordLeader } from '../metrics/index.ts';
import type { Clock } from '../time/clock.ts';
import { DEFAULT_LEASE_TIMINGS, type LeaseTimings } from './lease-timings.ts';

export { DEFAULT_LEASE_TIMINGS, type LeaseTimings };

/**
 * Leader election on a coordination.k8s.io Lease, with client-go's semantics, so two replicas of a
 * program can run and only one reconciles: the leader renews the Lease every retry period; a
 * standby takes it over when the holder has not renewed for a lease duration; a leader that
 * could not renew within its renew deadline has lost and must stop working at once (the caller
 * exits, like controller-runtime), because a standby may already act.
 *
 * Expiry is judged by this process's own clock from the moment it last saw the Lease change, never
 * by the holder's renewTime, so clock skew between nodes cannot make a live leader look expired.
 */

/** The fields of a Lease's spec this module reads and writes. */
export interface LeaseRecord {
  holderIdentity?: string | undefined;
  leaseDurationSeconds?: number | undefined;
  acquireTime?: string | undefined;
  renewTime?: string | undefined;
  leaseTransitions?: number | undefined;
}

/** What this process last saw of the Lease, and when (its own clock). */
export interface Observation {
  record: LeaseRecord;
  atMs: number;
}

export type Decision =
  { action: 'wait'; holder: string } | { action: 'take'; record: LeaseRecord } | { action: 'renew'; record: LeaseRecord };

/**
 * The pure core of one attempt: given the Lease as read now and what was seen before, whether to
 * take it, renew it or wait. A Lease whose record changed since the last look counts as freshly
 * renewed; one nobody holds (released) may be taken at once.
 */
export function decide(
  current: LeaseRecord,
  observed: Observation | undefined,
  nowMs: number,
  identity: string,
  timings: LeaseTimings,
): Decision {
  const nowIso = microTime(nowMs);
  const holder = current.holderIdentity ?? '';
  const durationSeconds = Math.ceil(timings.leaseDurationMs / 1000);
  if (holder === identity) {
    return { action: 'renew', record: { ...current, renewTime: nowIso, leaseDurationSeconds: durationSeconds } };
  }
  const seenAt = observed && sameRecord(observed.record, current) ? observed.atMs : nowMs;
  const heldFor = (current.leaseDurationSeconds ?? durationSeconds) * 1000;
  if (holder !== '' && seenAt + heldFor > nowMs) return { action: 'wait', holder };
  return {
    action: 'take',
    record: {
      holderIdentity: identity,
      leaseDurationSeconds: durationSeconds,
      acquireTime: nowIso,
      renewTime: nowIso,
      leaseTransitions: (current.leaseTransitions ?? 0) + (holder === '' && current.acquireTime === undefined ? 0 : 1),
    },
  };
}

function sameRecord(a: LeaseRecord, b: LeaseRecord): boolean {
  return a.holderIdentity === b.holderIdentity && a.renewTime === b.renewTime && a.acquireTime === b.acquireTime;
}

/** A Lease's MicroTime: RFC 3339 with microseconds, as the API server expects. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: LeaseRecord;
}

export interface LeaderElectorOptions {
  rest: Pick<KubeRest, 'request'>;
  namespace: string;
  /** The Lease's name: one per program and release (`<release>-tidemark-agent`). */
  name: string;
  /** Defaults to `<hostname>_<uuid>`: unique per process, readable in `kubectl get lease`. */
  identity?: string;
  timings?: LeaseTimings;
  clock: Clock;
  log: Logger;
}

export class LeaderElector {
  readonly identity: string;
  private readonly options: LeaderElectorOptions;
  private readonly timings: LeaseTimings;
  private observed: Observation | undefined;
  private leading = false;
  private lastRenewMs = 0;
  private readonly stopping = new AbortController();
  private renewing: Promise<void> | undefined;
  private resolveLost: (reason: string) => void = () => undefined;
  /** Resolves with why, once this process has stopped leading without being asked to. */
  readonly lost: Promise<string>;

  constructor(options: LeaderElectorOptions) {
    this.options = options;
    this.timings = options.timings ?? DEFAULT_LEASE_TIMINGS;
    this.identity = options.identity ?? `${hostname()}_${randomUUID()}`;
    this.lost = new Promise((resolve) => (this.resolveLost = resolve));
    recordLeader(options.name, false);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Resolves once this process holds the Lease, then keeps renewing it in the background. Rejects
   * only when `signal` aborts first (shutdown while standing by).
   */
  async acquire(signal: AbortSignal): Promise<void> {
    const { clock, log, namespace, name } = this.options;
    let waitingFor = '';
    for (;;) {
      signal.throwIfAborted();
      const outcome = await this.attempt();
      if (outcome === 'leading') break;
      if (outcome !== waitingFor && outcome !== 'failed') {
        log.info({ lease: `${namespace}/${name}`, holder: outcome }, 'standing by: another replica leads');
        waitingFor = outcome;
      }
      await clock.sleep(this.jittered(this.timings.retryPeriodMs), signal);
    }
    this.leading = true;
    this.lastRenewMs = clock.now();
    recordLeader(name, true);
    log.info({ lease: `${namespace}/${name}`, identity: this.identity }, 'became leader');
    this.renewing = this.renewLoop();
  }

  /** Stops renewing and, if leading, hands the Lease back so a standby takes over at once. */
  async release(): Promise<void> {
    this.stopping.abort();
    await this.renewing;
    if (!this.leading) return;
    this.leading = false;
    recordLeader(this.options.name, false);
    try {
      const lease = await this.get();
      if (lease?.spec?.holderIdentity !== this.identity) return;
      const nowIso = microTime(this.options.clock.now());
      await this.put(lease, { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: nowIso });
    } catch (err) {
      // The Lease simply expires instead: the standby waits one lease duration.
      this.options.log.warn({ err: toTidemarkError(err).message }, 'could not release the leader lease');
    }
  }

  private async renewLoop(): Promise<void> {
    const { clock, log } = this.options;
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      try {
        await clock.sleep(this.timings.retryPeriodMs, signal);
      } catch {
        return;
      }
      const outcome = await this.attempt();
      if (signal.aborted) return;
      if (outcome === 'leading') {
        this.lastRenewMs = clock.now();
        continue;
      }
      const late = clock.now() - this.lastRenewMs;
      if (outcome !== 'failed' || late >= this.timings.renewDeadlineMs) {
        const reason =
          outcome === 'failed'
            ? `could not renew the lease for ${Math.round(late / 1000)} s (renew deadline ${this.timings.renewDeadlineMs / 1000} s)`
            : `the lease is now held by ${outcome}`;
        this.leading = false;
        recordLeader(this.options.name, false);
        log.error({ lease: `${this.options.namespace}/${this.options.name}` }, `leadership lost: ${reason}`);
        this.resolveLost(reason);
        return;
      }
    }
  }

  /** One read and, when due, one write. 'leading', the other holder's identity, or 'failed' (no answer, a conflict). */
  private async attempt(): Promise<string> {
    const { clock, log } = this.options;
    try {
      const lease = await this.get();
      const now = clock.now();
      if (!lease) {
        const decision = decide({}, undefined, now, this.identity, this.timings);
        if (decision.action !== 'take') return 'failed';
        await this.create(decision.record);
        this.observed = { record: decision.record, atMs: now };
        return 'leading';
      }
      const current = lease.spec ?? {};
      const decision = decide(current, this.observed, now, this.identity, this.timings);
      if (!this.observed || !sameRecord(this.observed.record, current)) this.observed = { record: current, atMs: now };
      if (decision.action === 'wait') return decision.holder;
      await this.put(lease, decision.record);
      this.observed = { record: decision.record, atMs: clock.now() };
      return 'leading';
    } catch (err) {
      // A conflict means another replica wrote first: it will show as the holder next time.
      if (!isConflict(err)) log.debug({ err: toTidemarkError(err).message }, 'leader lease attempt failed');
      return 'failed';
    }
  }

  private path(name?: string): string {
    const base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.options.namespace)}/leases`;
    return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
  }

  /** No request may outlast half the renew deadline: a hung call must not hide a lost lease. */
  private timeout(): AbortSignal {
    return AbortSignal.timeout(this.timings.renewDeadlineMs / 2);
  }

  private async get(): Promise<Lease | undefined> {
    try {
      return await this.options.rest.request<Lease>({ method: 'GET', path: this.path(this.options.name), signal: this.timeout() });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async create(spec: LeaseRecord): Promise<void> {
    const { name, namespace } = this.options;
    const body: Lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec };
    await this.options.rest.request({ method: 'POST', path: this.path(), body, signal: this.timeout() });
  }

  /** A PUT with the resourceVersion read: of two replicas writing at once, one gets 409. */
  private async put(lease: Lease, spec: LeaseRecord): Promise<void> {
    await this.options.rest.request({
      method: 'PUT',
      path: this.path(this.options.name),
      body: { ...lease, spec },
      signal: this.timeout(),
    });
  }

  private jittered(ms: number): number {
    return ms * (1 + Math.random() * 0.2);
  }
}
