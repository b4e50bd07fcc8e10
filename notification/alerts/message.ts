/**
 * An Alert's `spec.messageTemplate`: Go text/template + Sprig (the engine commit messages use,
 * in a worker thread) over the event as Flux's eventv1.Event, so `.InvolvedObject.Name`,
 * `.Severity`, `.Timestamp`, `.Message`, `.Reason`, `.Metadata.env`, `.ReportingController` read
 * as they would in Go. The output replaces the message the provider gets.
 */
import { LruMap } from '../../shared/cache/lru.ts';
import { isTidemarkError, toTidemarkError, type TidemarkError } from '../../shared/errors/index.ts';
import { ALERT_MESSAGE, runTemplate, type EngineOptions } from '../../shared/template/index.ts';
import type { NotificationEvent } from './event.ts';

/**
 * The engine's time limit (10 s) applies as for commits; memory and output are smaller, since an
 * alert message needs little and the notification pod's limit is small (a hostile template ends
 * at 64 MiB of module memory; the process peaks about 150 MiB above its idle size).
 */
export const ALERT_TEMPLATE_LIMITS: EngineOptions = { maxMemoryBytes: 64 << 20, maxOutputBytes: 64 * 1024 };

/**
 * What Go said of the templates parsed lately (null: it parses). Parsing depends on the text alone,
 * so an Alert's resyncs and Alerts that share a template do not start the engine (0.2–1.5 s) again.
 * Failures of the engine itself (not installed, time limit) are not kept. 256 × 16 KiB at most.
 */
const parsed = new LruMap<string, TidemarkError | null>(256);

/** Parses the template when the Alert is read, so a syntax error shows in its Ready condition, not at the first event. */
export async function validateAlertTemplate(template: string, options: EngineOptions = {}): Promise<void> {
  const known = parsed.get(template);
  if (known === null) return;
  if (known) throw known;
  try {
    await runTemplate(ALERT_MESSAGE, { template }, { ...ALERT_TEMPLATE_LIMITS, ...options });
    parsed.set(template, null);
  } catch (err) {
    if (isTidemarkError(err) && err.code === ALERT_MESSAGE.codes.parse) parsed.set(template, err);
    throw err;
  }
}

/** The message the template renders for this event. Throws TemplateError (AlertTemplateFailed). */
export function renderAlertMessage(template: string, event: NotificationEvent, options: EngineOptions = {}): Promise<string> {
  return runTemplate(ALERT_MESSAGE, { template, data: event }, { ...ALERT_TEMPLATE_LIMITS, ...options });
}

/**
 * The event as the provider gets it: its message rendered by the template, or, when rendering
 * fails, the event unchanged and why — a broken template must not silence the alert.
 */
export async function templatedEvent(
  template: string | undefined,
  event: NotificationEvent,
  options: EngineOptions = {},
): Promise<{ event: NotificationEvent; error?: TidemarkError }> {
  if (template === undefined) return { event };
  try {
    return { event: { ...event, message: await renderAlertMessage(template, event, options) } };
  } catch (err) {
    return { event, error: toTidemarkError(err, 'AlertTemplateFailed') };
  }
}
