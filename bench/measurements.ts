/**
 * Raw results → the measurements the table and the JSON show: medians, paired ratios, goals,
 * verdicts, and a plain account of what each side did. Pure.
 */
import type { DriftResult } from './items/drift.ts';
import type { GitPollResult } from './items/git-poll.ts';
import type { ImageLoopResult } from './items/image-loop.ts';
import { FLUX_PUBLISHED, LOAD_OBJECTS_PER_CD } from './items/load.ts';
import type { LoadResult } from './items/load.ts';
import type { MarkersResult } from './items/markers.ts';
import type { MemoryResult } from './items/memory.ts';
import type { UpdaterMemoryResult } from './items/updater-memory.ts';
import type { SideRun, SyncPointResult } from './items/sync.ts';
import { noopPerRun } from './items/sync.ts';
import type { TagsResult } from './items/tags.ts';
import type { RequestSample, RequestSummary } from './lib/metrics.ts';
import type { Check, Figure, Goal, Measurement, Unit } from './lib/report.ts';
import { formatValue, goalText, verdictOf } from './lib/report.ts';
import { growthExponent, median, pairedRatio } from './lib/stats.ts';
import type { PathologicalResult } from './policy-pathological.ts';

export function figure(samples: readonly number[], unit: Unit = 'ms'): Figure | undefined {
  const clean = samples.filter((s) => Number.isFinite(s));
  if (clean.length === 0) return undefined;
  return { median: median(clean), unit, samples: clean.map((s) => Math.round(s * 100) / 100) };
}

function measurement(m: Omit<Measurement, 'verdict'>): Measurement {
  return { ...m, verdict: verdictOf(m) };
}

export function failed(id: string, title: string, peerName: string | undefined, goal: Goal, error: unknown): Measurement {
  const message = error instanceof Error ? error.message : String(error);
  return measurement({
    id,
    title,
    peerName,
    ours: undefined,
    peer: undefined,
    ratio: undefined,
    goal,
    checks: [],
    notes: [],
    details: {},
    error: message.split('\n').slice(0, 8).join('\n'),
  });
}

const num = (n: number) => n.toLocaleString('en-US');
const mib = (kib: number) => kib / 1024;

/** The resources the agent itself may write: what it applies, its own status, its Events. */
const AGENT_WRITABLE = new Set([
  'configmaps',
  'deployments',
  'services',
  'widgets',
  'customresourcedefinitions',
  'continuousdeployments',
  'events',
]);
export function agentWritable(s: Pick<RequestSample, 'resource'>): boolean {
  return AGENT_WRITABLE.has(s.resource);
}

/** Writes of a window to the agent's kinds, and the others (system controllers) apart. */
export function splitWrites(summary: RequestSummary): {
  ours: number;
  ourKinds: Record<string, number>;
  other: number;
  otherKinds: Record<string, number>;
} {
  const ourKinds: Record<string, number> = {};
  const otherKinds: Record<string, number> = {};
  let ours = 0;
  let other = 0;
  for (const [name, count] of Object.entries(summary.byKind)) {
    const [verb = '', ...rest] = name.split(' ');
    if (rest[0] === '(dry-run)' || !['POST', 'PUT', 'PATCH', 'APPLY', 'DELETE', 'DELETECOLLECTION'].includes(verb)) continue;
    const resource = (rest[rest.length - 1] ?? '').split('/')[0] ?? '';
    if (agentWritable({ resource })) {
      ours += count;
      ourKinds[name] = count;
    } else {
      other += count;
      otherKinds[name] = count;
    }
  }
  return { ours, ourKinds, other, otherKinds };
}

function requestLine(summary: RequestSummary | undefined): string {
  if (!summary) return 'no data';
  return `${num(summary.total)} requests (${num(summary.writes)} writes, ${num(summary.dryRuns)} dry-runs, ${num(summary.reads)} reads)`;
}

export function syncFirst(point: SyncPointResult, id: string): Measurement {
  const ours = point.ours.map((r) => r.firstMs);
  const peer = point.peer.map((r) => r.firstMs);
  const c = point.counts;
  return measurement({
    id,
    title: `First sync, ${num(point.n)} objects`,
    peerName: 'kubectl apply --server-side',
    ours: figure(ours),
    peer: figure(peer),
    ratio: pairedRatio(ours, peer),
    goal: { kind: 'ratio', max: 0.4 },
    checks: [],
    notes: [
      `data: ${num(c.total)} objects (${c.crds} CRD, ${num(c.configMaps)} ConfigMaps, ` +
        `${num(c.deployments)} Deployments, ${num(c.services)} headless Services, ${num(c.widgets)} custom resources) ` +
        `in ${num(c.files)} files; the CRD already exists for both sides`,
      `ours: \`tidemark agent\` process; from creating the ContinuousDeployment until its status says Synced at ` +
        `the commit (ls-remote, shallow fetch over smart HTTP, render, one create-only apply per new object` +
        ` and a dry-run first only for objects that exist (ADR 0016), status): ` +
        `${requestLine(point.ours[0]?.firstRequests)} per run at the API server for the applied kinds`,
      `peer: \`kubectl apply --server-side --force-conflicts -R -f\` on a checkout of the same commit, ` +
        `process start to exit: ${requestLine(point.peer[0]?.firstRequests)}`,
      `${point.ours.length} runs per side, alternating, each into a fresh namespace deleted afterwards`,
    ],
    details: {
      n: point.n,
      counts: c,
      oursRequests: point.ours.map((r) => r.firstRequests),
      peerRequests: point.peer.map((r) => r.firstRequests),
    },
  });
}

export function syncNoop(point: SyncPointResult, id: string): Measurement {
  const ours = noopPerRun(point.ours);
  const peer = noopPerRun(point.peer);
  const writes = point.ours.map((r) => splitWrites(r.noopRequests));
  const peerWrites = point.peer.map((r) => splitWrites(r.noopRequests));
  const oursWrites = writes.reduce((n, w) => n + w.ours, 0);
  const otherWrites = writes.reduce((n, w) => n + w.other, 0);
  const samples = point.ours.flatMap((r) => r.noopMs);
  const checks: Check[] = [{ what: '0 writes', ok: oursWrites === 0 && point.ours.length > 0 }];
  const windows = point.ours.map((r: SideRun) => r.noopWindowMs).reduce((a, b) => a + b, 0);
  const ourKinds = oursWrites > 0 ? ` (${JSON.stringify(writes.map((w) => w.ourKinds))})` : '';
  const otherKinds = [...new Set(writes.flatMap((w) => Object.keys(w.otherKinds)))].join(', ') || 'none';
  const windowRequests = requestLine(sumSummaries(point.ours.map((r) => r.noopRequests)));
  return measurement({
    id,
    title: `No-op resync, ${num(point.n)} objects`,
    peerName: 'kubectl apply --server-side again',
    ours: figure(ours),
    peer: figure(peer),
    ratio: pairedRatio(ours, peer),
    goal: { kind: 'ratio', max: 0.05 },
    checks,
    notes: [
      `ours: timer-driven reconciles (pull interval 2 s, same commit, no drift) after the API server had been ` +
        `quiet for 3 s; duration as the agent logs it for each reconcile, from its read of the ContinuousDeployment ` +
        `to its status compared (the Secret, the ref over smart HTTP, the cached render, compare, health); ` +
        `${samples.length} reconciles over ${point.ours.length} runs`,
      `ours, at the API server over ${formatValue(windows, 'ms')} of no-op reconciles: ` +
        `${num(oursWrites)} writes to managed kinds, ContinuousDeployments or Events${ourKinds}; ` +
        `the window's ${windowRequests} are otherwise the control plane's own (${otherWrites} writes: ` +
        `${otherKinds}; re-lists by the controller manager)`,
      `peer: the same kubectl command on the unchanged namespace: ${num(peerWrites[0]?.ours ?? 0)} write ` +
        `requests per run (server-side apply PATCHes the server finds unchanged)`,
    ],
    details: {
      n: point.n,
      oursSamples: samples,
      oursWindows: point.ours.map((r) => r.noopRequests),
      peerWindows: point.peer.map((r) => r.noopRequests),
      quiet: point.ours.map((r) => ({ waitedMs: Math.round(r.quietWaitMs), quiet: r.quiet })),
    },
  });
}

function sumSummaries(list: readonly RequestSummary[]): RequestSummary {
  const out: RequestSummary = { total: 0, reads: 0, writes: 0, dryRuns: 0, byKind: {} };
  for (const s of list) {
    out.total += s.total;
    out.reads += s.reads;
    out.writes += s.writes;
    out.dryRuns += s.dryRuns;
    for (const [k, v] of Object.entries(s.byKind)) out.byKind[k] = (out.byKind[k] ?? 0) + v;
  }
  return out;
}

export function drift(result: DriftResult, peerReapplyMs: number | undefined, intervalMs: number): Measurement {
  const peerMs = peerReapplyMs === undefined ? undefined : intervalMs / 2 + peerReapplyMs;
  const ours = figure(result.healMs);
  return measurement({
    id: '3',
    title: `Drift heal, ${result.edited} of ${num(result.n)} objects edited`,
    peerName: 'Flux-style: next interval',
    ours,
    peer: peerMs === undefined ? undefined : { median: peerMs, unit: 'ms', samples: [Math.round(peerMs)] },
    ratio: ours && peerMs ? ours.median / peerMs : undefined,
    goal: { kind: 'absolute', max: 300, unit: 'ms', strict: true },
    checks: [],
    notes: [
      `ours: another client merge-patches ${result.edited / 2} ConfigMaps' data and ${result.edited / 2} ` +
        `Deployments' replicas (its own field manager); timed from the first edit sent until a watch has seen all ` +
        `${result.edited} back at the Git value; pull interval 5 min, so only the agent's watch-driven self-heal ` +
        `counts; ${result.healMs.length} runs after a warm-up; ` +
        `${formatValue(median(result.afterLastEditMs), 'ms')} after the last edit was acknowledged; ` +
        `${median(result.reconciles)} reconciles per run (median)`,
      `peer (modelled, not a daemon run): drift is corrected at the next interval, ` +
        `on average half of it (${formatValue(intervalMs, 'ms')} pull interval → ` +
        `${formatValue(intervalMs / 2, 'ms')}), plus one re-apply of the set — ` +
        `${peerReapplyMs === undefined ? 'not measured' : `the kubectl re-apply of item 2, ${formatValue(peerReapplyMs, 'ms')}`}`,
    ],
    details: { ...result },
  });
}

export function gitPoll(result: GitPollResult): Measurement {
  return measurement({
    id: '4',
    title: 'Poll of an unchanged remote',
    peerName: 'git ls-remote',
    ours: figure(result.oursMs),
    peer: figure(result.peerMs),
    ratio: pairedRatio(result.oursMs, result.peerMs),
    goal: { kind: 'ratio', max: 0.5 },
    checks: [],
    notes: [
      `both: smart HTTP with basic auth (askpass), repository with ${result.refs} refs, one ref asked for; ` +
        `ours is shared/git lsRemote (in process: protocol v2 ls-refs over a kept-alive connection, no child process); ` +
        `${result.oursMs.length} alternating runs after a warm-up`,
      `HTTP requests at the Git server per poll: ours ${result.oursRequests}, peer ${result.peerRequests}`,
      `ours, traced over the timed polls: the Git server (git http-backend, a child process per request) took ` +
        `${formatValue(median(result.oursServerMs), 'ms')} of each (median), the client the rest; ` +
        `${result.oursNewConnections} new connections, ${result.oursChallenges} auth challenges`,
    ],
    details: { ...result },
  });
}

export function tags(result: TagsResult): Measurement {
  return measurement({
    id: '5',
    title: `Scan of ${num(result.tags)} tags (pages, filter, numerical)`,
    peerName: 'skopeo list-tags',
    ours: figure(result.oursMs),
    peer: figure(result.peerMs),
    ratio: pairedRatio(result.oursMs, result.peerMs),
    goal: { kind: 'ratio', max: 0.8 },
    checks: [],
    notes: [
      `timed: a rescan as the running image updater makes each interval — the same long-lived RegistryClient, the specs ` +
        `compiled once per generation and each tag's outcome kept from the previous scan (tags unchanged, so none reaches RE2)`,
      `ours: RegistryClient.listTags (1,000 per page, following Link) + the ImageRepository's exclusion list (the default ` +
        `^.*\\.sig$) + decide (the seed's filter and extract, numerical asc) → ${result.chosen}; the listing ` +
        `${formatValue(median(result.oursListMs), 'ms')} of it (median); ` +
        `${result.ours.requests} requests, ${num(result.ours.bytes)} bytes, ${result.ours.pages} pages`,
      `ours, first scan (specs compiled, memos empty, every tag through RE2, a new connection): ${formatValue(result.firstMs, 'ms')}`,
      `peer: skopeo list-tags (a new process per run, listing only): ${result.peer.requests} requests, ` +
        `${num(result.peer.bytes)} bytes, ${num(result.peer.tagsPrinted)} lines printed`,
      `registry: CNCF distribution 2.8 (Debian docker-registry) on loopback, ${num(result.tags)} tags pushed in ` +
        `${formatValue(result.pushMs, 'ms')}; ${result.oursMs.length} alternating runs after a warm-up`,
    ],
    details: { ...result },
  });
}

export function markers(result: MarkersResult): Measurement {
  return measurement({
    id: '6',
    title: `Marker rewrite, ${num(result.files)} files × ${result.markersPerFile}`,
    peerName: 'reading every file once',
    ours: figure(result.oursMs),
    peer: figure(result.peerMs),
    ratio: pairedRatio(result.oursMs, result.peerMs),
    goal: { kind: 'ratio', max: 3 },
    checks: [],
    notes: [
      `ours: runUpdate over the directory (walk, screen, parse, rewrite every marker's bytes in place, ` +
        `read back, write ${num(result.filesWrittenPerRun)} files, render the seed's commit message): ` +
        `${num(result.changesPerRun)} values changed per run`,
      `peer: the same walk reading each file once (${(result.bytes / 1048576).toFixed(1)} MiB); ` +
        `${result.oursMs.length} alternating runs after a warm-up`,
    ],
    details: { ...result },
  });
}

export function memory(result: MemoryResult, id: string): Measurement {
  return measurement({
    id,
    title: `Agent peak RSS, ${num(result.n)} objects in ${result.cds} CDs`,
    peerName: undefined,
    ours: { median: mib(result.peakRssKiB), unit: 'MiB', samples: [Math.round(mib(result.peakRssKiB) * 10) / 10] },
    peer: undefined,
    ratio: undefined,
    goal: { kind: 'absolute', max: result.n > 1000 ? 150 : 100, unit: 'MiB', strict: false },
    checks: [],
    notes: [
      `a fresh \`tidemark agent\` process; VmHWM from /proc/<pid>/status after all ${result.cds} were Synced ` +
        `(${formatValue(result.allSyncedMs, 'ms')}) and two more 5 s pull intervals; ` +
        `idle before any ContinuousDeployment: ${mib(result.idleRssKiB).toFixed(0)} MiB; ` +
        `at the end: ${mib(result.endRssKiB).toFixed(0)} MiB resident`,
    ],
    details: { ...result },
  });
}

export function updaterMemory(result: UpdaterMemoryResult): Measurement {
  return measurement({
    id: '7b',
    title: `Image updater peak RSS, ${result.repositories} repositories scanned and committed`,
    peerName: undefined,
    ours: { median: mib(result.peakRssKiB), unit: 'MiB', samples: [Math.round(mib(result.peakRssKiB) * 10) / 10] },
    peer: undefined,
    ratio: undefined,
    goal: { kind: 'absolute', max: 100, unit: 'MiB', strict: false },
    checks: [],
    notes: [
      `a fresh \`tidemark image-updater\` process; ${result.repositories} image repositories of ${num(result.tagsPerRepository)} tags, ` +
        `scanned every 2 s, one marker each at ${result.repositories} paths of one Git repository; VmHWM over the first round of ` +
        `commits (${formatValue(result.firstRoundMs, 'ms')}) and a second one after a new tag in every repository ` +
        `(${formatValue(result.secondRoundMs, 'ms')}), ${result.commits} commits in all; idle before: ` +
        `${mib(result.idleRssKiB).toFixed(0)} MiB; at the end: ${mib(result.endRssKiB).toFixed(0)} MiB resident`,
    ],
    details: { ...result },
  });
}

/** Item 9's memory goal: the agent's peak with every ContinuousDeployment of the run. */
export const LOAD_MAX_RSS_MIB = 150;

export function load(result: LoadResult): Measurement {
  const peak = mib(result.peakRssKiB);
  const verbs = Object.entries(result.requests)
    .sort((a, b) => b[1] - a[1])
    .map(([verb, count]) => `${verb} ${num(count)}`)
    .join(', ');
  return measurement({
    id: `9@${result.n}`,
    title: `Flux's benchmark shape: ${num(result.n)} CDs × 4 objects, created at once, until all Ready`,
    peerName: undefined,
    ours: { median: result.allReadyMs, unit: 'ms', samples: [Math.round(result.allReadyMs)] },
    peer: undefined,
    ratio: undefined,
    goal: { kind: 'absolute', max: 60_000, unit: 'ms', strict: false },
    checks: [{ what: `peak RSS ≤ ${LOAD_MAX_RSS_MIB} MiB (${peak.toFixed(0)} MiB)`, ok: peak <= LOAD_MAX_RSS_MIB }],
    notes: [
      `one \`tidemark agent\` process (4 workers), ${num(result.n)} ContinuousDeployments at ${num(result.n)} paths of one ` +
        `repository (${num(result.objects)} objects), created 16 at a time; time from the first create to every one ` +
        `Ready and Synced at the commit; per deployment (create → Ready): median ${formatValue(result.readyP50Ms, 'ms')}, ` +
        `95th percentile ${formatValue(result.readyP95Ms, 'ms')}, last ${formatValue(result.readyMaxMs, 'ms')}`,
      `agent peak RSS ${peak.toFixed(0)} MiB (idle ${mib(result.idleRssKiB).toFixed(0)} MiB); ` +
        `${num(result.requestsTotal)} API requests (${(result.requestsTotal / result.n).toFixed(1)} per deployment: ${verbs}), ` +
        `${result.requestRate.toFixed(0)}/s on average, at most ${num(result.peakRequestRate)} in one second; ` +
        `${num(result.reconciles)} reconciles, ${num(result.failedReconciles)} failed`,
      `Flux publishes ${num(FLUX_PUBLISHED.n)} in ${formatValue(FLUX_PUBLISHED.ms, 'ms')} and ${FLUX_PUBLISHED.rssMiB} MiB ` +
        `on a ${FLUX_PUBLISHED.cores}-core runner`,
    ],
    details: { ...result },
  });
}

/**
 * Item 9 as one table beside Flux's published run, the way users compare the two: every size run
 * here, then Flux's row (its benchmark publishes time and memory only).
 */
export function loadTable(points: readonly LoadResult[]): string {
  const columns = [
    'ContinuousDeployments',
    'objects',
    'all Ready and Synced',
    'per deployment: median / 95th / last',
    'agent peak RSS',
    'API requests (per deployment)',
    'requests/s: mean / peak second',
    'reconciles failed',
    'cores',
  ];
  const head = `| ${columns.join(' | ')} |`;
  const rule = `|${columns.map(() => ' ---: ').join('|')}|`;
  const rows = points.map((p) =>
    [
      num(p.n),
      num(p.objects),
      formatValue(p.allReadyMs, 'ms'),
      [p.readyP50Ms, p.readyP95Ms, p.readyMaxMs].map((ms) => formatValue(ms, 'ms')).join(' / '),
      `${mib(p.peakRssKiB).toFixed(0)} MiB`,
      `${num(p.requestsTotal)} (${(p.requestsTotal / p.n).toFixed(1)})`,
      `${p.requestRate.toFixed(0)} / ${num(p.peakRequestRate)}`,
      `${num(p.failedReconciles)} of ${num(p.reconciles)}`,
      '2',
    ].join(' | '),
  );
  const flux = [
    `${num(FLUX_PUBLISHED.n)} (Flux, published)`,
    num(FLUX_PUBLISHED.n * LOAD_OBJECTS_PER_CD),
    formatValue(FLUX_PUBLISHED.ms, 'ms'),
    '—',
    `${FLUX_PUBLISHED.rssMiB} MiB`,
    '—',
    '—',
    '—',
    String(FLUX_PUBLISHED.cores),
  ].join(' | ');
  return [head, rule, ...[...rows, flux].map((r) => `| ${r} |`)].join('\n');
}

/** Item 9's growth: cost ∝ count^k over the sizes run; the goal is no faster than linear (k ≤ 1). */
export function loadGrowth(points: readonly LoadResult[]): Measurement {
  const time = growthExponent(points.map((p) => ({ size: p.n, cost: p.allReadyMs })));
  const memory = growthExponent(points.map((p) => ({ size: p.n, cost: p.peakRssKiB })));
  const sizes = points.map((p) => num(p.n)).join(', ');
  return measurement({
    id: '9·k',
    title: `Flux's benchmark shape, growth over ${sizes} CDs`,
    peerName: undefined,
    ours: undefined,
    peer: undefined,
    ratio: undefined,
    goal: { kind: 'none' },
    checks: [
      { what: `time ∝ CDs^k, k ≤ 1 (k = ${time.toFixed(2)})`, ok: Number.isFinite(time) && time <= 1.05 },
      { what: `peak RSS ∝ CDs^k, k ≤ 1 (k = ${memory.toFixed(2)})`, ok: Number.isFinite(memory) && memory <= 1.05 },
    ],
    notes: [`k is the least-squares slope of log(cost) over log(count); 1.05 allows for noise on this shared machine`],
    details: { time, memory },
  });
}

export function imageLoop(result: ImageLoopResult): Measurement {
  return measurement({
    id: '8',
    title: 'Tag pushed → new image applied',
    peerName: undefined,
    ours: figure(result.endToEndMs),
    peer: undefined,
    ratio: undefined,
    goal: { kind: 'absolute', max: 1_000, unit: 'ms', strict: true },
    checks: [],
    notes: [
      `full loop, both programs as processes: registry scan every 1 s → policy → ` +
        `bot commit pushed over smart HTTP (${formatValue(median(result.toCommitMs), 'ms')} after the tag push) ` +
        `→ push recorded in status → agent apply (${formatValue(median(result.commitToDeployedMs), 'ms')} after the commit; ` +
        `the ContinuousDeployment also polls every 2 s); ${result.endToEndMs.length} runs after a warm-up`,
    ],
    details: { ...result },
  });
}

/** Item 8w: the loop of item 8 started by the registry's webhook, nothing polled. */
export function imageLoopWebhook(result: ImageLoopResult): Measurement {
  return measurement({
    id: '8w',
    title: 'Tag pushed → new image applied, by webhook',
    peerName: undefined,
    ours: figure(result.endToEndMs),
    peer: undefined,
    ratio: undefined,
    goal: { kind: 'absolute', max: 3_000, unit: 'ms', strict: true },
    checks: [],
    notes: [
      `docker-registry notifies a distribution Receiver (tidemark notification, its own process) → scan → policy → ` +
        `bot commit (${formatValue(median(result.toCommitMs), 'ms')} after the tag push) → push recorded in status → ` +
        `agent apply (${formatValue(median(result.commitToDeployedMs), 'ms')} after the commit); scan interval and ` +
        `pullInterval 1 h, so nothing is polled; ${result.endToEndMs.length} runs after a warm-up`,
    ],
    details: { ...result },
  });
}

export function pathological(result: PathologicalResult): Measurement {
  const worst10k = Math.max(...result.re2.filter((p) => p.tags === 10_000).map((p) => p.totalMs));
  const linear = [...new Set(result.re2.map((p) => p.pattern))].every((pattern) => {
    const small = result.re2.find((p) => p.pattern === pattern && p.tags === 1_000);
    const big = result.re2.find((p) => p.pattern === pattern && p.tags === 10_000);
    return small !== undefined && big !== undefined && big.usPerTag <= 2 * small.usPerTag;
  });
  const lastJs = result.js.reduce(
    (a, b) => (b.ms > a.ms ? b : a),
    result.js[0] ?? { pattern: '', length: 0, ms: Number.NaN, factor: undefined },
  );
  const jsStops = result.jsStops
    .map((s) => {
      const years = s.extrapolatedYears !== undefined ? ` (a 128-character tag: ~${s.extrapolatedYears.toExponential(1)} years)` : '';
      return `${s.pattern} stopped at ${s.length} characters${years}`;
    })
    .join('; ');
  return measurement({
    id: 'P',
    title: '10,000 hostile tags, catastrophic patterns',
    peerName: `JS RegExp, one ${lastJs.length}-char tag`,
    ours: { median: worst10k, unit: 'ms', samples: [Math.round(worst10k * 10) / 10] },
    peer: { median: lastJs.ms, unit: 'ms', samples: [Math.round(lastJs.ms * 10) / 10] },
    ratio: undefined,
    goal: { kind: 'none' },
    checks: [{ what: 'linear in tags', ok: linear }],
    notes: [
      'ours: decide() with filterTags `^(a+)+$` and `^(a|a)*b$` (RE2) over 10,000 tags of 65–127 characters ' +
        'that match neither; the worse pattern shown; linear = time per tag at 10,000 within 2× of that at 1,000',
      `peer: the same patterns in JavaScript's backtracking RegExp on one short tag, growing until a match takes over 1.5 s: ${jsStops}`,
    ],
    details: { ...result },
  });
}

/** "0.62× where the goal is ≤ 0.5×", plus any failed check. */
export function describeMiss(m: Measurement): string {
  const parts: string[] = [];
  if (m.goal.kind === 'ratio' && m.ratio !== undefined && m.ratio > m.goal.max)
    parts.push(`${m.ratio.toFixed(m.ratio < 0.1 ? 3 : 2)}× where the goal is ≤ ${m.goal.max}×`);
  if (m.goal.kind === 'absolute' && m.ours) parts.push(`${formatValue(m.ours.median, m.ours.unit)} where the goal is ${goalText(m.goal)}`);
  for (const c of m.checks) if (!c.ok) parts.push(`not ${c.what}`);
  return parts.join('; ') || 'see the notes';
}
