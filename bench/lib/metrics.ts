import { request } from 'node:https';

/**
 * Request counts as the API server itself saw them (`apiserver_request_total` on /metrics), so a
 * figure like "zero writes" is measured outside the code under test. Counters only grow: a
 * window's activity is the difference of two snapshots.
 */

export interface RequestSample {
  verb: string;
  resource: string;
  subresource: string;
  group: string;
  dryRun: string;
  code: string;
  value: number;
}

export type MetricsSnapshot = RequestSample[];

const LINE = /^apiserver_request_total\{([^}]*)\}\s+([0-9.eE+-]+)\s*$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the Prometheus text format, keeping only apiserver_request_total. Pure. */
export function parseRequestTotals(text: string): MetricsSnapshot {
  const out: RequestSample[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[1] ?? '').matchAll(LABEL)) labels[l[1] as string] = l[2] as string;
    const value = Number(m[2]);
    if (!Number.isFinite(value)) continue;
    out.push({
      verb: labels.verb ?? '',
      resource: labels.resource ?? '',
      subresource: labels.subresource ?? '',
      group: labels.group ?? '',
      dryRun: labels.dry_run ?? '',
      code: labels.code ?? '',
      value,
    });
  }
  return out;
}

function key(s: RequestSample): string {
  return `${s.verb}|${s.group}|${s.resource}|${s.subresource}|${s.dryRun}|${s.code}`;
}

/** after − before, series by series; series absent before count from zero. Pure. */
export function diffSnapshots(before: MetricsSnapshot, after: MetricsSnapshot): MetricsSnapshot {
  const base = new Map(before.map((s) => [key(s), s.value]));
  const out: RequestSample[] = [];
  for (const s of after) {
    const delta = s.value - (base.get(key(s)) ?? 0);
    if (delta > 0) out.push({ ...s, value: delta });
  }
  return out;
}

/** Verbs that change state; dry-run requests are counted apart. */
const WRITE_VERBS = new Set(['POST', 'PUT', 'PATCH', 'APPLY', 'DELETE', 'DELETECOLLECTION', 'CREATE', 'UPDATE']);

export function isWrite(s: RequestSample): boolean {
  return WRITE_VERBS.has(s.verb) && s.dryRun === '';
}

export function isDryRun(s: RequestSample): boolean {
  return s.dryRun !== '';
}

export interface RequestSummary {
  total: number;
  reads: number;
  writes: number;
  dryRuns: number;
  /** `VERB resource[/subresource]` → count, writes and dry-runs marked, largest first. */
  byKind: Record<string, number>;
}

/** Totals of a window, optionally only for some resources (`configmaps`, `deployments/status`). Pure. */
export function summarize(delta: MetricsSnapshot, filter?: (s: RequestSample) => boolean): RequestSummary {
  const summary: RequestSummary = { total: 0, reads: 0, writes: 0, dryRuns: 0, byKind: {} };
  const byKind = new Map<string, number>();
  for (const s of delta) {
    if (filter && !filter(s)) continue;
    summary.total += s.value;
    if (isDryRun(s)) summary.dryRuns += s.value;
    else if (isWrite(s)) summary.writes += s.value;
    else summary.reads += s.value;
    const name = `${s.verb}${isDryRun(s) ? ' (dry-run)' : ''} ${s.resource || '(discovery)'}${s.subresource ? `/${s.subresource}` : ''}`;
    byKind.set(name, (byKind.get(name) ?? 0) + s.value);
  }
  summary.byKind = Object.fromEntries([...byKind].sort((a, b) => b[1] - a[1]));
  return summary;
}

export interface MetricsSource {
  server: string;
  caPem: string;
  token: string;
}

/** GET /metrics with the admin token. */
export function scrapeMetrics(source: MetricsSource): Promise<MetricsSnapshot> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${source.server}/metrics`,
      {
        method: 'GET',
        ca: source.caPem,
        headers: { Authorization: `Bearer ${source.token}` },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) reject(new Error(`GET /metrics answered ${res.statusCode}: ${text.slice(0, 200)}`));
          else resolve(parseRequestTotals(text));
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('GET /metrics: no answer within 30 s')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Waits until the API server has seen no write for `quietMs` (the controller manager finishing
 * ReplicaSets and Pods after a big apply), so the next window counts only what it should.
 * Returns how long it waited and whether it got quiet before the deadline.
 */
export async function waitForQuiet(
  source: MetricsSource,
  options: { quietMs?: number; timeoutMs?: number; pollMs?: number } = {},
): Promise<{ waitedMs: number; quiet: boolean }> {
  const quietMs = options.quietMs ?? 2_000;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const pollMs = options.pollMs ?? 500;
  const start = performance.now();
  let last = writesOf(await scrapeMetrics(source));
  let since = performance.now();
  while (performance.now() - start < timeoutMs) {
    await new Promise((r) => setTimeout(r, pollMs));
    const now = writesOf(await scrapeMetrics(source));
    if (now !== last) {
      last = now;
      since = performance.now();
    } else if (performance.now() - since >= quietMs) {
      return { waitedMs: performance.now() - start, quiet: true };
    }
  }
  return { waitedMs: performance.now() - start, quiet: false };
}

function writesOf(snapshot: MetricsSnapshot): number {
  return snapshot.filter(isWrite).reduce((n, s) => n + s.value, 0);
}
