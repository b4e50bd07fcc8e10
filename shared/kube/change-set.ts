import type { TidemarkError } from '../errors/index.ts';
import type { KubeObject, ObjectRef } from './object.ts';
import { describeRef } from './object.ts';

export type ChangeAction = 'created' | 'configured' | 'unchanged' | 'deleted' | 'skipped' | 'failed';

/** What happened to one object. Status, Events, logs and inventory are all derived from these. */
export interface ChangeEntry {
  ref: ObjectRef;
  action: ChangeAction;
  /** For skipped and failed entries: why. */
  message?: string;
  error?: TidemarkError;
  /** The object as the server returned it after a write, when there was one. */
  live?: KubeObject;
}

export type ChangeSummary = Record<ChangeAction, number>;

export function summarize(entries: readonly ChangeEntry[]): ChangeSummary {
  const summary: ChangeSummary = { created: 0, configured: 0, unchanged: 0, deleted: 0, skipped: 0, failed: 0 };
  for (const entry of entries) summary[entry.action]++;
  return summary;
}

/** `created 2, configured 1, unchanged 40, pruned 3` — zero counts left out. */
export function describeSummary(summary: ChangeSummary, deleteWord = 'pruned'): string {
  const parts: string[] = [];
  for (const [action, count] of Object.entries(summary) as Array<[ChangeAction, number]>) {
    if (count > 0) parts.push(`${action === 'deleted' ? deleteWord : action} ${count}`);
  }
  return parts.join(', ') || 'no objects';
}

export function failures(entries: readonly ChangeEntry[]): ChangeEntry[] {
  return entries.filter((e) => e.action === 'failed');
}

/**
 * Transient only when every failure is: the API server was unreachable, overloaded or throttling,
 * and the same request again will do. One terminal failure (an invalid object, a refusal) means
 * the step needs a fix, and a retry with backoff would only repeat it.
 */
export function failureKind(entries: readonly ChangeEntry[]): 'transient' | 'terminal' {
  const failed = failures(entries);
  return failed.length > 0 && failed.every((e) => e.error?.kind === 'transient') ? 'transient' : 'terminal';
}

/** One line per failed object, for a condition message. */
export function describeFailures(entries: readonly ChangeEntry[], max = 5): string {
  const failed = failures(entries);
  const lines = failed.slice(0, max).map((e) => `${describeRef(e.ref)}: ${e.message ?? e.error?.message ?? 'failed'}`);
  if (failed.length > max) lines.push(`and ${failed.length - max} more`);
  return lines.join('; ');
}
