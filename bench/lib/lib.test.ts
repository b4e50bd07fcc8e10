import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseReconcileLine } from './agent-process.ts';
import { generateManifests, shares } from './manifests.ts';
import { diffSnapshots, parseRequestTotals, summarize } from './metrics.ts';
import { parseProcStatus } from './proc.ts';
import type { Measurement } from './report.ts';
import { formatValue, goalText, markdownTable, replaceSection, textTable, verdictOf } from './report.ts';
import { growthExponent, median, pairedRatio } from './stats.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('stats', () => {
  it('median of odd and even counts, NaN for none', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
  });

  it('pairedRatio is the median of per-pair ratios, not the ratio of medians', () => {
    // Pair 2 ran while the machine was busy for both sides: its ratio is still 0.5.
    assert.equal(pairedRatio([10, 100, 12], [20, 200, 20]), 0.5);
    assert.equal(pairedRatio([1, 2], [0, 4]), 0.5, 'a zero peer figure is skipped');
  });

  it('growthExponent finds linear and quadratic costs', () => {
    assert.ok(
      Math.abs(
        growthExponent([
          { size: 100, cost: 1 },
          { size: 1000, cost: 10 },
          { size: 5000, cost: 50 },
        ]) - 1,
      ) < 1e-9,
    );
    assert.ok(
      Math.abs(
        growthExponent([
          { size: 10, cost: 100 },
          { size: 100, cost: 10_000 },
        ]) - 2,
      ) < 1e-9,
    );
    assert.ok(Number.isNaN(growthExponent([{ size: 10, cost: 1 }])));
  });
});

describe('metrics', () => {
  const before = parseRequestTotals(fixture('metrics-before.txt'));
  const after = parseRequestTotals(fixture('metrics-after.txt'));

  it('keeps only apiserver_request_total with its labels', () => {
    assert.equal(before.length, 4);
    assert.deepEqual(before[1], {
      verb: 'APPLY',
      resource: 'configmaps',
      subresource: '',
      group: '',
      dryRun: 'All',
      code: '200',
      value: 402,
    });
  });

  it('a window is the difference; new series count from zero; unchanged ones vanish', () => {
    const delta = diffSnapshots(before, after);
    const by = Object.fromEntries(delta.map((s) => [`${s.verb} ${s.resource}/${s.subresource} ${s.dryRun}`, s.value]));
    assert.deepEqual(by, {
      'APPLY configmaps/ All': 8,
      'GET namespaces/ ': 3,
      'PUT deployments/status ': 2,
      'POST events/ ': 1,
      'PATCH continuousdeployments/status ': 2,
    });
  });

  it('summarize splits writes, dry-runs and reads, and honours a filter', () => {
    const delta = diffSnapshots(before, after);
    const all = summarize(delta);
    assert.deepEqual([all.total, all.writes, all.dryRuns, all.reads], [16, 5, 8, 3]);
    assert.equal(all.byKind['APPLY (dry-run) configmaps'], 8);
    assert.equal(all.byKind['PATCH continuousdeployments/status'], 2);
    const mine = summarize(delta, (s) => s.subresource === '');
    assert.deepEqual([mine.total, mine.writes], [12, 1]);
  });
});

describe('proc and agent log lines', () => {
  it('reads VmRSS and VmHWM from /proc/<pid>/status', () => {
    const text = 'Name:\tnode\nVmPeak:\t 1000 kB\nVmHWM:\t  333276 kB\nVmRSS:\t  281924 kB\n';
    assert.deepEqual(parseProcStatus(text), { rssKiB: 281924, hwmKiB: 333276 });
    assert.equal(parseProcStatus('Name:\tzombie\n'), undefined);
  });

  it('takes reconcile reports from pino lines and nothing else', () => {
    const line = JSON.stringify({
      level: 'info',
      cd: 'ns/app',
      durationMs: 97,
      synced: true,
      sync: 'Synced',
      msg: 'reconcile finished',
    });
    assert.deepEqual(parseReconcileLine(line, 5), {
      at: 5,
      cd: 'ns/app',
      msg: 'reconcile finished',
      durationMs: 97,
      synced: true,
      sync: 'Synced',
      reason: undefined,
      err: undefined,
    });
    assert.equal(parseReconcileLine(JSON.stringify({ msg: 'agent started' }), 0), undefined);
    assert.equal(parseReconcileLine('{not json', 0), undefined);
    assert.equal(parseReconcileLine(JSON.stringify({ msg: 'reconcile failed' }), 0), undefined, 'no cd: not ours');
  });
});

describe('manifests', () => {
  it('gives exactly N objects of the advertised kinds, deterministically', () => {
    for (const n of [1, 6, 100, 1000, 1003]) {
      const { files, counts } = generateManifests(n);
      const docs = Object.values(files)
        .join('\n---\n')
        .split(/^---$/m)
        .filter((d) => /^kind:/m.test(d));
      assert.equal(docs.length, n, `n=${n}`);
      assert.equal(counts.crds + counts.configMaps + counts.deployments + counts.services + counts.widgets, n);
      assert.equal(counts.files, Object.keys(files).length);
    }
    assert.deepEqual(generateManifests(50), generateManifests(50));
    assert.match(generateManifests(6).files['deploy/apps/app-0000/service.yaml'] ?? '', /protocol: TCP/);
  });

  it('without the CRD, every object is a namespaced one', () => {
    const { files, counts } = generateManifests(50, 'part-00', { withCrd: false });
    assert.equal(counts.crds, 0);
    assert.ok(Object.keys(files).every((f) => f.startsWith('part-00/')));
  });

  it('shares split a total evenly', () => {
    assert.deepEqual(shares(1000, 20), Array(20).fill(50));
    assert.deepEqual(shares(103, 4), [26, 26, 26, 25]);
  });
});

const m = (over: Partial<Measurement>): Measurement => ({
  id: '1',
  title: 'First sync',
  peerName: 'kubectl',
  ours: { median: 400, unit: 'ms', samples: [400] },
  peer: { median: 1000, unit: 'ms', samples: [1000] },
  ratio: 0.4,
  goal: { kind: 'ratio', max: 0.5 },
  checks: [],
  verdict: 'meets',
  notes: [],
  details: {},
  ...over,
});

describe('report', () => {
  it('verdicts follow the goal and every check', () => {
    assert.equal(verdictOf(m({})), 'meets');
    assert.equal(verdictOf(m({ ratio: 0.6 })), 'MISSES');
    assert.equal(verdictOf(m({ checks: [{ what: '0 writes', ok: false }] })), 'MISSES');
    assert.equal(verdictOf(m({ ratio: undefined })), 'ERROR');
    assert.equal(verdictOf(m({ goal: { kind: 'absolute', max: 400, unit: 'ms', strict: true } })), 'MISSES', '< is strict');
    assert.equal(verdictOf(m({ goal: { kind: 'absolute', max: 400, unit: 'ms', strict: false } })), 'meets');
    assert.equal(verdictOf(m({ goal: { kind: 'none' } })), 'n/a');
    assert.equal(verdictOf(m({ error: 'boom' })), 'ERROR');
  });

  it('goal and value texts', () => {
    assert.equal(goalText({ kind: 'ratio', max: 0.05 }, [{ what: '0 writes', ok: true }]), '≤ 0.05× peer and 0 writes');
    assert.equal(goalText({ kind: 'absolute', max: 1000, unit: 'ms', strict: true }), '< 1.00 s');
    assert.equal(goalText({ kind: 'none' }), '—');
    assert.deepEqual(
      [formatValue(97.4, 'ms'), formatValue(1234, 'ms'), formatValue(15_300, 'ms'), formatValue(327.3, 'MiB')],
      ['97.4 ms', '1.23 s', '15.3 s', '327 MiB'],
    );
  });

  it('tables have one row per measurement and mark misses', () => {
    const rows = [m({}), m({ id: '2', ratio: 0.2, verdict: 'MISSES' })];
    const text = textTable(rows).split('\n');
    assert.equal(text.length, 4);
    assert.match(text[0] ?? '', /^item\s+ours\s+peer\s+ratio\s+goal\s+verdict$/);
    assert.match(text[3] ?? '', /MISSES$/);
    const md = markdownTable(rows).split('\n');
    assert.equal(md.length, 4);
    assert.match(md[3] ?? '', /\*\*MISSES\*\* \|$/);
  });

  it('replaceSection swaps only its own section, or appends one', () => {
    const readme = '# T\n\nintro\n\n## Benchmarks\n\nold table\n\n## After\n\nkept\n';
    assert.equal(replaceSection(readme, 'Benchmarks', 'new table'), '# T\n\nintro\n\n## Benchmarks\n\nnew table\n\n## After\n\nkept\n');
    assert.equal(replaceSection('# T\n\nintro\n', 'Benchmarks', 'table'), '# T\n\nintro\n\n## Benchmarks\n\ntable\n');
    const once = replaceSection('# T\n', 'Benchmarks', 'a');
    assert.equal(replaceSection(once, 'Benchmarks', 'a'), once, 'idempotent');
  });
});
