import type { HealthResult } from './types.ts';

/**
 * Tolerant readers for live objects: the cluster is an external input, so every field is checked
 * for its type instead of trusted, and a missing field reads as undefined.
 */
export function rec(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function int(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Milliseconds of an RFC 3339 timestamp, or undefined when absent or unreadable. */
export function time(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
}

/** `status.conditions` as well-formed entries; malformed ones are skipped. */
export function conditions(status: Record<string, unknown> | undefined): Condition[] {
  return parseConditions(status?.conditions);
}

export function parseConditions(value: unknown): Condition[] {
  const out: Condition[] = [];
  for (const item of list(value)) {
    const c = rec(item);
    const type = str(c?.type);
    if (!c || !type) continue;
    const condition: Condition = {
      type,
      status: str(c.status) ?? 'Unknown',
      reason: str(c.reason) ?? '',
      message: str(c.message) ?? '',
    };
    const observed = int(c.observedGeneration);
    if (observed !== undefined) condition.observedGeneration = observed;
    out.push(condition);
  }
  return out;
}

export function findCondition(status: Record<string, unknown> | undefined, type: string): Condition | undefined {
  return conditions(status).find((c) => c.type === type);
}

/** `reason: message`, or whichever of the two is present. */
export function describeCondition(c: Condition): string {
  return [c.reason, c.message].filter((s) => s !== '').join(': ');
}

export function result(status: HealthResult['status'], message?: string): HealthResult {
  return message ? { status, message } : { status };
}
