import { randomBytes } from 'node:crypto';
import type { Reason } from '../errors/reasons.ts';
import type { Logger } from '../log/index.ts';
import type { Clock } from '../time/clock.ts';
import type { KubeRest } from './rest.ts';
import { LruMap } from '../cache/lru.ts';

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid?: string;
}

export type EventType = 'Normal' | 'Warning';

/** An Event a pure status function decided on, recorded by the controller after the status write. */
export interface PlannedEvent {
  type: EventType;
  reason: Reason;
  message: string;
}

/**
 * Records Kubernetes Events (core/v1). A repeated identical event within the window is
 * suppressed, so a failing object retried with backoff does not flood `kubectl describe`.
 * Failing to record an Event is logged and never fails a reconcile.
 */
export class EventRecorder {
  private readonly rest: KubeRest;
  private readonly component: string;
  private readonly clock: Clock;
  private readonly log: Logger;
  /** Recently recorded events; bounded, so many distinct events cannot reset de-duplication for all. */
  private readonly recent = new LruMap<string, number>(10_000);
  private readonly dedupeWindowMs: number;

  constructor(rest: KubeRest, options: { component: string; clock: Clock; log: Logger; dedupeWindowMs?: number }) {
    this.rest = rest;
    this.component = options.component;
    this.clock = options.clock;
    this.log = options.log;
    this.dedupeWindowMs = options.dedupeWindowMs ?? 10 * 60_000;
  }

  /**
   * `metadata` (e.g. the revision) goes on the Event as `tidemark.dev/<key>` annotations, where
   * alerts read it: a commit status needs the synced commit.
   */
  async record(
    object: InvolvedObject,
    type: EventType,
    reason: Reason,
    message: string,
    metadata: Record<string, string> = {},
  ): Promise<void> {
    const key = `${object.namespace}/${object.name}/${type}/${reason}/${message}/${metadata.revision ?? ''}`;
    const now = this.clock.now();
    const last = this.recent.get(key);
    if (last !== undefined && now - last < this.dedupeWindowMs) return;
    this.recent.set(key, now);
    const time = new Date(now).toISOString();
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {
        name: `${object.name}.${randomBytes(8).toString('hex')}`,
        namespace: object.namespace,
        ...(Object.keys(metadata).length > 0
          ? { annotations: Object.fromEntries(Object.entries(metadata).map(([k, v]) => [`tidemark.dev/${k}`, v])) }
          : {}),
      },
      involvedObject: object,
      type,
      reason,
      message: message.slice(0, 1024),
      source: { component: this.component },
      reportingComponent: this.component,
      reportingInstance: this.component,
      firstTimestamp: time,
      lastTimestamp: time,
      count: 1,
    };
    try {
      await this.rest.request({
        method: 'POST',
        path: `/api/v1/namespaces/${encodeURIComponent(object.namespace)}/events`,
        body: event,
      });
    } catch (err) {
      this.log.warn({ reason, err: (err as Error).message }, 'event not recorded');
    }
  }
}
