import { Resources } from '../../shared/api/resources.ts';
import { listAndWatch } from '../../shared/controller/watch.ts';
import { toTidemarkError } from '../../shared/errors/index.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import type { Logger } from '../../shared/log/index.ts';
import { recordNotification } from '../../shared/metrics/index.ts';
import type { Clock } from '../../shared/time/clock.ts';
import { providerRequest } from '../providers/payloads.ts';
import { AlertController, ProviderController, type AlertingDeps, type ProviderEntry } from './controllers.ts';
import { fromKubeEvent, type NotificationEvent } from './event.ts';
import { alertSelects, enrich, type CompiledAlert } from './match.ts';
import { templatedEvent } from './message.ts';
import { Sender, type Post } from './sender.ts';
import { Throttle } from './throttle.ts';

export interface AlertingOptions extends AlertingDeps {
  /** How messages go out (default: fetch). */
  post?: Post;
}

export interface RunningAlerting {
  ready(): boolean;
  stop(): Promise<void>;
}

/** Only Events about Tidemark's own kinds, selected by the API server. */
const EVENT_FIELD_SELECTOR = 'involvedObject.apiVersion=tidemark.dev/v1alpha1';

/**
 * Flux's notification flow for Tidemark: every Event a Tidemark program records about one of its
 * objects is matched against the Alerts of that namespace and sent to their Providers. Events
 * already there at start are history, not news: only Events created or repeated afterwards go out.
 */
export function startAlerting(options: AlertingOptions): RunningAlerting {
  const providers = new ProviderController(options);
  const alerts = new AlertController(options);
  const sender = new Sender({ ...(options.post ? { post: options.post } : {}), clock: options.clock, log: options.log });
  const throttle = new Throttle();
  const dispatcher = new Dispatcher({ providers, alerts, sender, throttle, ...options });
  providers.runner.start();
  alerts.runner.start();
  const abort = new AbortController();
  let listed = false;
  const watching = listAndWatch<KubeObject>(
    options.port,
    Resources.Event,
    {
      onList: (items) => {
        dispatcher.onList(items, !listed);
        listed = true;
      },
      onUpsert: (event) => dispatcher.onEvent(event),
      onDelete: () => undefined,
    },
    { signal: abort.signal, clock: options.clock, log: options.log, namespace: options.namespace, fieldSelector: EVENT_FIELD_SELECTOR },
  );
  return {
    ready: () => listed && providers.runner.ready && alerts.runner.ready,
    async stop() {
      abort.abort();
      await watching;
      await Promise.all([providers.runner.stop(), alerts.runner.stop()]);
      await sender.stop();
    },
  };
}

interface DispatcherDeps {
  providers: ProviderController;
  alerts: AlertController;
  sender: Sender;
  throttle: Throttle;
  port: AlertingDeps['port'];
  clock: Clock;
  log: Logger;
}

class Dispatcher {
  private readonly deps: DispatcherDeps;
  /** Each Event's count when last seen: a repeated Event (count + 1) is news again. */
  private readonly seen = new Map<string, number>();
  private readonly startedAt: number;

  constructor(deps: DispatcherDeps) {
    this.deps = deps;
    this.startedAt = deps.clock.now();
  }

  /** The first list is history; a later one (after a watch failure) may hold Events missed meanwhile. */
  onList(items: KubeObject[], first: boolean): void {
    const present = new Set<string>();
    for (const item of items) {
      const uid = item.metadata.uid ?? '';
      present.add(uid);
      if (first) this.seen.set(uid, countOf(item));
      else this.onEvent(item);
    }
    for (const uid of this.seen.keys()) if (!present.has(uid)) this.seen.delete(uid);
  }

  onEvent(item: KubeObject): void {
    const uid = item.metadata.uid ?? '';
    const count = countOf(item);
    if (this.seen.get(uid) === count) return;
    this.seen.set(uid, count);
    const event = fromKubeEvent(item);
    if (!event || Date.parse(event.timestamp) < this.startedAt - 1000) return;
    void this.route(event).catch((err: unknown) => this.deps.log.warn({ err: toTidemarkError(err).message }, 'event not routed'));
  }

  private async route(event: NotificationEvent): Promise<void> {
    const o = event.involvedObject;
    const candidates = [...this.deps.alerts.values()].filter(
      (a) => a.namespace === o.namespace || a.config.eventSources.some((s) => s.namespace === o.namespace),
    );
    if (candidates.length === 0) return;
    const labels = candidates.some((a) => a.config.eventSources.some((s) => s.name === '*' && Object.keys(s.matchLabels).length > 0))
      ? await this.labelsOf(event)
      : {};
    const sends: Array<Promise<void>> = [];
    for (const alert of candidates) {
      if (!alertSelects(alert, event, labels)) continue;
      const entry = this.deps.providers.get(alert.namespace, alert.config.providerRef);
      if (!entry || entry.suspend) continue;
      const alertKey = `${alert.namespace}/${alert.name}`;
      const admitted = this.deps.throttle.admit(alertKey, event, this.deps.clock.now());
      if (admitted !== 'send') {
        recordNotification(entry.provider.type, admitted);
        continue;
      }
      // Side by side: an alert waiting for its template does not hold up the others.
      sends.push(this.send(alert, entry, event));
    }
    await Promise.all(sends);
  }

  private async send(alert: CompiledAlert, entry: ProviderEntry, event: NotificationEvent): Promise<void> {
    const o = event.involvedObject;
    const sent = await this.withMessage(alert, enrich(alert, event));
    let request;
    try {
      request = providerRequest(entry.provider, sent);
    } catch (err) {
      this.deps.log.warn({ alert: `${alert.namespace}/${alert.name}`, err: (err as Error).message }, 'notification not built');
      return;
    }
    if (!request) return;
    this.deps.sender.enqueue(`${alert.namespace}/${alert.config.providerRef}`, {
      request,
      type: entry.provider.type,
      timeoutMs: entry.timeoutMs,
      what: `${o.kind}/${o.namespace}/${o.name} ${event.reason}`,
    });
  }

  /**
   * The message from the Alert's template, rendered in the engine's worker (this awaits, never
   * blocks). A failure sends the plain message and says why on the Alert; a success after one
   * clears it.
   */
  private async withMessage(alert: CompiledAlert, event: NotificationEvent): Promise<NotificationEvent> {
    const template = alert.config.messageTemplate;
    if (template === undefined) return event;
    const rendered = await templatedEvent(template, event);
    if (rendered.error) {
      this.deps.log.warn({ alert: `${alert.namespace}/${alert.name}`, err: rendered.error.message }, 'message template failed');
    }
    // Not awaited: the message need not wait for the status write (which logs its own failure).
    void this.deps.alerts.messageTemplateOutcome(alert.namespace, alert.name, rendered.error);
    return rendered.event;
  }

  private async labelsOf(event: NotificationEvent): Promise<Record<string, string>> {
    const o = event.involvedObject;
    const resource = Object.values(Resources).find((r) => r.kind === o.kind && r.group === 'tidemark.dev');
    if (!resource) return {};
    const obj = await this.deps.port.get(resource, o.namespace, o.name).catch(() => undefined);
    return obj?.metadata.labels ?? {};
  }
}

function countOf(item: KubeObject): number {
  const count = (item as { count?: unknown }).count;
  return typeof count === 'number' ? count : 1;
}
