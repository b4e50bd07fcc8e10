import type { Severity } from '../../shared/api/alerting.ts';

/**
 * An event as providers receive it: Flux's event shape (eventv1.Event), so a receiver written for
 * Flux's generic provider reads ours unchanged. Built from a Kubernetes Event a Tidemark program
 * recorded; `metadata` carries the revision and the alert's eventMetadata.
 */
export interface NotificationEvent {
  involvedObject: { apiVersion: string; kind: string; name: string; namespace: string; uid?: string };
  severity: Severity;
  /** RFC 3339. */
  timestamp: string;
  message: string;
  reason: string;
  metadata: Record<string, string>;
  reportingController: string;
  reportingInstance?: string;
}

/** The annotation prefix under which a Tidemark Event carries metadata (e.g. `tidemark.dev/revision`). */
export const EVENT_METADATA_PREFIX = 'tidemark.dev/';

interface KubeEventLike {
  involvedObject?: { apiVersion?: unknown; kind?: unknown; name?: unknown; namespace?: unknown; uid?: unknown };
  metadata?: { annotations?: Record<string, string> };
  type?: unknown;
  reason?: unknown;
  message?: unknown;
  lastTimestamp?: unknown;
  eventTime?: unknown;
  reportingComponent?: unknown;
  reportingInstance?: unknown;
  source?: { component?: unknown };
}

/** A core/v1 Event about a Tidemark object, read without trusting its shape; undefined when it is not one. */
export function fromKubeEvent(event: KubeEventLike): NotificationEvent | undefined {
  const o = event.involvedObject;
  if (!o || typeof o.kind !== 'string' || typeof o.name !== 'string' || typeof o.namespace !== 'string') return undefined;
  if (typeof o.apiVersion !== 'string' || !o.apiVersion.startsWith('tidemark.dev/')) return undefined;
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(event.metadata?.annotations ?? {})) {
    if (key.startsWith(EVENT_METADATA_PREFIX) && typeof value === 'string') metadata[key.slice(EVENT_METADATA_PREFIX.length)] = value;
  }
  const time = typeof event.lastTimestamp === 'string' ? event.lastTimestamp : typeof event.eventTime === 'string' ? event.eventTime : '';
  const controller =
    typeof event.reportingComponent === 'string' && event.reportingComponent
      ? event.reportingComponent
      : typeof event.source?.component === 'string'
        ? event.source.component
        : '';
  return {
    involvedObject: {
      apiVersion: o.apiVersion,
      kind: o.kind,
      name: o.name,
      namespace: o.namespace,
      ...(typeof o.uid === 'string' ? { uid: o.uid } : {}),
    },
    severity: event.type === 'Warning' ? 'error' : 'info',
    timestamp: time,
    message: typeof event.message === 'string' ? event.message : '',
    reason: typeof event.reason === 'string' ? event.reason : '',
    metadata,
    reportingController: controller,
    ...(typeof event.reportingInstance === 'string' && event.reportingInstance ? { reportingInstance: event.reportingInstance } : {}),
  };
}

/** `kind/name.namespace`, lower-case kind, as Flux's providers title an event. */
export function objectTitle(event: NotificationEvent): string {
  const o = event.involvedObject;
  return `${o.kind.toLowerCase()}/${o.name}.${o.namespace}`;
}
