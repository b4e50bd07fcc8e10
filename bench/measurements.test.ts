import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SideRun, SyncPointResult } from './items/sync.ts';
import type { RequestSummary } from './lib/metrics.ts';
import { describeMiss, load, loadGrowth, loadTable, memory, pathological, splitWrites, syncFirst, syncNoop } from './measurements.ts';
import type { LoadResult } from './items/load.ts';
import { loadManifests, requestsByVerb } from './items/load.ts';
import type { PathologicalResult } from './policy-pathological.ts';

const summary = (byKind: Record<string, number>): RequestSummary => ({
  total: 0,
  reads: 0,
  writes: 0,
  dryRuns: 0,
  byKind,
});

const run = (firstMs: number, noopMs: number[], noopKinds: Record<string, number> = {}): SideRun => ({
  firstMs,
  firstRequests: summary({}),
  noopMs,
  noopRequests: summary(noopKinds),
  noopWindowMs: 1000,
  quietWaitMs: 0,
  quiet: true,
});

const point = (ours: SideRun[], peer: SideRun[]): SyncPointResult => ({
  n: 1000,
  counts: { total: 1000, files: 801, crds: 1, configMaps: 402, deployments: 199, services: 199, widgets: 199 },
  ours,
  peer,
  agentPeakRssKiB: 0,
  notes: [],
});

describe('measurements', () => {
  it("splitWrites counts writes to the agent kinds apart from the control plane's own", () => {
    const split = splitWrites(
      summary({
        'APPLY configmaps': 3,
        'APPLY (dry-run) configmaps': 9,
        'PATCH continuousdeployments/status': 1,
        'POST events': 2,
        'POST namespaces': 1,
        'DELETE secrets': 2,
        'GET configmaps': 50,
      }),
    );
    assert.equal(split.ours, 6);
    assert.equal(split.other, 3);
    assert.deepEqual(Object.keys(split.otherKinds).sort(), ['DELETE secrets', 'POST namespaces']);
  });

  it('first sync: paired ratio against the goal', () => {
    const ok = syncFirst(point([run(300, []), run(500, [])], [run(1000, []), run(1000, [])]), '1');
    assert.equal(ok.ratio, 0.4);
    assert.equal(ok.verdict, 'meets');
    const slow = syncFirst(point([run(900, [])], [run(1000, [])]), '1');
    assert.equal(slow.verdict, 'MISSES');
    assert.equal(describeMiss(slow), '0.90× where the goal is ≤ 0.4×');
  });

  it('no-op: a fast run that writes still misses, and says why', () => {
    const clean = syncNoop(point([run(1, [40, 50])], [run(1, [2000])]), '2');
    assert.equal(clean.verdict, 'meets');
    const writing = syncNoop(point([run(1, [40, 50], { 'PATCH continuousdeployments/status': 2 })], [run(1, [2000])]), '2');
    assert.equal(writing.verdict, 'MISSES');
    assert.equal(describeMiss(writing), 'not 0 writes');
    const slow = syncNoop(point([run(1, [400])], [run(1, [2000])]), '2');
    assert.match(describeMiss(slow), /^0\.20× where the goal is ≤ 0\.05×$/);
  });

  it('memory is in MiB against an absolute goal', () => {
    const m = memory(
      {
        n: 1000,
        cds: 20,
        idleRssKiB: 100 * 1024,
        syncedHwmKiB: 150 * 1024,
        peakRssKiB: 200 * 1024,
        endRssKiB: 180 * 1024,
        allSyncedMs: 5000,
        reconciles: 40,
      },
      '7',
    );
    assert.equal(m.ours?.median, 200);
    assert.equal(m.verdict, 'MISSES');
    assert.equal(describeMiss(m), '200 MiB where the goal is ≤ 100 MiB');
  });

  it('hostile patterns: linear when time per tag stays within 2× from 1,000 to 10,000 tags', () => {
    const result = (bigUs: number): PathologicalResult => ({
      re2: [
        { pattern: 'p', tags: 1000, totalMs: 2, usPerTag: 2, outcome: 'NoMatchingTags' },
        { pattern: 'p', tags: 10_000, totalMs: bigUs * 10, usPerTag: bigUs, outcome: 'NoMatchingTags' },
      ],
      js: [{ pattern: 'p', length: 30, ms: 2000, factor: 4 }],
      jsStops: [{ pattern: 'p', length: 30, extrapolatedYears: 1e20 }],
    });
    assert.equal(pathological(result(3)).verdict, 'meets');
    assert.equal(pathological(result(5)).verdict, 'MISSES');
  });
});

describe('item 9 (load)', () => {
  const point = (n: number, allReadyMs: number, peakMiB: number): LoadResult => ({
    n,
    objects: n * 4,
    allReadyMs,
    readyP50Ms: allReadyMs / 2,
    readyP95Ms: allReadyMs,
    readyMaxMs: allReadyMs,
    idleRssKiB: 100 * 1024,
    peakRssKiB: peakMiB * 1024,
    requests: { PATCH: n * 10, GET: n * 2 },
    requestsTotal: n * 12,
    requestRate: (n * 12) / (allReadyMs / 1000),
    peakRequestRate: 300,
    reconciles: n,
    failedReconciles: 0,
  });

  it('meets only within both the time and the memory goal', () => {
    assert.equal(load(point(1000, 59_000, 140)).verdict, 'meets');
    assert.equal(load(point(1000, 61_000, 140)).verdict, 'MISSES');
    assert.match(describeMiss(load(point(1000, 59_000, 151))), /not peak RSS ≤ 150 MiB/);
  });

  it('misses growth faster than linear', () => {
    assert.equal(loadGrowth([point(100, 6_000, 120), point(1000, 60_000, 140)]).verdict, 'meets');
    assert.equal(loadGrowth([point(100, 6_000, 120), point(1000, 145_000, 140)]).verdict, 'MISSES');
  });

  it('sets every size run beside Flux’s published row', () => {
    const lines = loadTable([point(100, 9_000, 120), point(1000, 80_000, 190)]).split('\n');
    assert.equal(lines.length, 5);
    assert.match(lines[2] ?? '', /^\| 100 \| 400 \| 9\.00 s \| 4\.50 s \/ 9\.00 s \/ 9\.00 s \| 120 MiB \| 1,200 \(12\.0\) \|/);
    assert.match(lines[3] ?? '', /^\| 1,000 \| 4,000 \| 80\.0 s \|.*\| 190 MiB \|/);
    assert.match(lines[4] ?? '', /^\| 1,000 \(Flux, published\) \| 4,000 \| 253\.0 s \|.*\| 223 MiB \|.*\| 16 \|$/);
  });

  it('counts the agent’s API requests by verb from its /metrics', () => {
    const text = [
      '# HELP tidemark_kube_requests_total Kubernetes API requests.',
      '# TYPE tidemark_kube_requests_total counter',
      'tidemark_kube_requests_total{verb="PATCH",code="200"} 7',
      'tidemark_kube_requests_total{verb="PATCH",code="201"} 3',
      'tidemark_kube_requests_total{verb="GET",code="404"} 1',
      '',
    ].join('\n');
    assert.deepEqual(requestsByVerb(text), { PATCH: 10, GET: 1 });
  });

  it('gives every deployment its own path of four objects', () => {
    const files = loadManifests(3);
    assert.deepEqual(Object.keys(files), ['apps/app-0000/objects.yaml', 'apps/app-0001/objects.yaml', 'apps/app-0002/objects.yaml']);
    assert.equal(files['apps/app-0001/objects.yaml']?.split('\n---\n').length, 4);
  });
});
