/**
 * An Alert's `spec.messageTemplate`: Go text/template + Sprig (the engine commit messages use,
 * in a worker thread) over the event as Flux's eventv1.Event, so `.InvolvedObject.Name`,
 * `.Severity`, `.Timestamp`, `.Message`, `.Reason`, `.Metadata.env`, `.ReportingController` read
 * as they would in Go. The output replaces the message the provider gets.
 */
import { toTidemarkError, type TidemarkError } from '../../shared/errors/index.ts';
import { ALERT_MESSAGE, runTemplate, type EngineOptions } from '../../shared/template/index.ts';
import type { NotificationEvent } from './event.ts';

/**
 * The engine's time limit (10 s) applies as for commits; memory and output are smaller, since an
 * alert message needs little and the notification pod's limit is small (a hostile template ends
 * at 64 MiB of module memory; the process peaks about 150 MiB above its idle size).
 */
export const ALERT_TEMPLATE_LIMITS: EngineOptions = { maxMemoryBytes: 64 << 20, maxOutputBytes: 64 * 1024 };

/** Parses the template when the Alert is read, so a syntax error shows in its Ready condition, not at the first event. */
export async function validateAlertTemplate(template: string, options: EngineOptions = {}): Promise<void> {
  await runTemplate(ALERT_MESSAGE, { template }, { ...ALERT_TEMPLATE_LIMITS, ...options });
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
