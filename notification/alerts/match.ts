import type { AlertConfig } from '../../shared/spec/alert.ts';
import type { NotificationEvent } from './event.ts';

/** A compiled pattern: RE2 in the program, anything with `test` in tests. */
export interface Pattern {
  test(text: string): boolean;
}

export interface CompiledAlert {
  namespace: string;
  name: string;
  config: AlertConfig;
  include: Pattern[];
  exclude: Pattern[];
}

/**
 * Whether an alert sends an event, with Flux's rules: a suspended alert sends nothing; `error`
 * alerts only failures; one event source must match (kind, namespace, name or `*` with the
 * object's labels); the message must match an inclusion pattern when there are any, and none of
 * the exclusion patterns.
 */
export function alertSelects(alert: CompiledAlert, event: NotificationEvent, objectLabels: Readonly<Record<string, string>> = {}): boolean {
  const { config } = alert;
  if (config.suspend) return false;
  if (config.eventSeverity === 'error' && event.severity !== 'error') return false;
  const o = event.involvedObject;
  const sourced = config.eventSources.some(
    (source) =>
      source.kind === o.kind &&
      source.namespace === o.namespace &&
      (source.name === '*' ? Object.entries(source.matchLabels).every(([k, v]) => objectLabels[k] === v) : source.name === o.name),
  );
  if (!sourced) return false;
  if (alert.include.length > 0 && !alert.include.some((p) => p.test(event.message))) return false;
  return !alert.exclude.some((p) => p.test(event.message));
}

/** The event as this alert sends it: its eventMetadata and summary added, never overriding the event's own keys. */
export function enrich(alert: CompiledAlert, event: NotificationEvent): NotificationEvent {
  const extra: Record<string, string> = { ...alert.config.eventMetadata };
  if (alert.config.summary !== undefined) extra.summary = alert.config.summary;
  return { ...event, metadata: { ...extra, ...event.metadata } };
}
