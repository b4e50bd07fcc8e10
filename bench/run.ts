/**
 * `npm run bench`: Tidemark beside real peers, on the same data, in one process tree, against real
 * servers from the test harness (etcd + kube-apiserver + controller manager, smart-HTTP Git,
 * CNCF distribution). Figures are medians of several runs after a warm-up; each is reported as a
 * ratio to its peer, because this machine is shared and noisy. Not a test: nothing fails on time.
 *
 *   npm run bench                       # everything, ~15 min on 2 cores; writes
 *                                       # bench/results/latest.json and README.md's table
 *   npm run bench -- --only 4,5,6       # some items (1, 2, 3 and 7 share their runs; S: their other sizes);
 *                                       # writes bench/results/partial.json only
 *   npm run bench -- --quick            # fewer runs and sizes, to try the bench itself
 *   npm run bench -- --profile DIR      # the agent processes write --cpu-prof profiles to DIR
 *   npm run bench -- --node-flags F     # extra Node flags for the agent processes
 */
import { availableParallelism, cpus, release, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { KUBERNETES_VERSION } from '../test/harness/control-plane.ts';
import { runDrift, DRIFT_INTERVAL } from './items/drift.ts';
import { runGitPoll } from './items/git-poll.ts';
import { runImageLoop } from './items/image-loop.ts';
import { runMarkers } from './items/markers.ts';
import { runMemoryPoint } from './items/memory.ts';
import type { MemoryResult } from './items/memory.ts';
import { noopPerRun, runSyncPoint } from './items/sync.ts';
import type { SyncPointPlan, SyncPointResult } from './items/sync.ts';
import { runTags } from './items/tags.ts';
import { runLoadPoint } from './items/load.ts';
import { runUpdaterMemory } from './items/updater-memory.ts';
import type { LoadResult } from './items/load.ts';
import { setAgentArgs, setAgentNodeFlags } from './lib/agent-process.ts';
import { progress, startEnv } from './lib/env.ts';
import type { BenchEnv } from './lib/env.ts';
import type { Goal, Measurement } from './lib/report.ts';
import { formatValue, markdownTable, replaceSection, textTable } from './lib/report.ts';
import { growthExponent, median } from './lib/stats.ts';
import * as build from './measurements.ts';
import { FIXES, GAP_NOTES, OBSERVATIONS } from './findings.ts';
import { formatPathological, runPathological } from './policy-pathological.ts';
import { parseDuration } from '../shared/time/duration.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

interface Plan {
  sizes: SyncPointPlan[];
  drift: { n: number; edits: number; reps: number };
  gitPoll: { reps: number; warmup: number };
  tags: { total: number; reps: number; warmup: number };
  markers: { files: number; markers: number; reps: number; warmup: number };
  imageLoop: { reps: number };
  /** Item 9: ContinuousDeployments of 4 objects, all created at once. */
  load: number[];
}

const FULL: Plan = {
  sizes: [
    { n: 100, reps: 3, warmup: true, oursNoops: 3, peerNoops: 1 },
    { n: 1000, reps: 3, warmup: true, oursNoops: 3, peerNoops: 1 },
    // One run per side at 5,000: each takes about a minute here.
    { n: 5000, reps: 1, warmup: false, oursNoops: 2, peerNoops: 1 },
  ],
  drift: { n: 1000, edits: 100, reps: 4 },
  gitPoll: { reps: 15, warmup: 3 },
  tags: { total: 10_000, reps: 5, warmup: 1 },
  markers: { files: 2000, markers: 10, reps: 3, warmup: 1 },
  imageLoop: { reps: 5 },
  load: [100, 500, 1000],
};

const QUICK: Plan = {
  sizes: [
    { n: 100, reps: 1, warmup: false, oursNoops: 2, peerNoops: 1 },
    { n: 1000, reps: 1, warmup: false, oursNoops: 2, peerNoops: 1 },
  ],
  drift: { n: 1000, edits: 100, reps: 1 },
  gitPoll: { reps: 5, warmup: 1 },
  tags: { total: 10_000, reps: 1, warmup: 0 },
  markers: { files: 2000, markers: 10, reps: 1, warmup: 0 },
  imageLoop: { reps: 1 },
  load: [100, 1000],
};

const GOALS: Record<string, { title: string; peer: string | undefined; goal: Goal }> = {
  '1': { title: 'First sync, 1,000 objects', peer: 'kubectl apply --server-side', goal: { kind: 'ratio', max: 0.4 } },
  '2': {
    title: 'No-op resync, 1,000 objects',
    peer: 'kubectl apply --server-side again',
    goal: { kind: 'ratio', max: 0.05 },
  },
  '3': {
    title: 'Drift heal, 100 of 1,000 objects edited',
    peer: 'Flux-style: next interval',
    goal: { kind: 'absolute', max: 1000, unit: 'ms', strict: true },
  },
  '4': { title: 'Poll of an unchanged remote', peer: 'git ls-remote', goal: { kind: 'ratio', max: 1.5 } },
  '5': { title: 'Scan of 10,000 tags', peer: 'skopeo list-tags', goal: { kind: 'ratio', max: 1.0 } },
  '6': { title: 'Marker rewrite, 2,000 files × 10', peer: 'reading every file once', goal: { kind: 'ratio', max: 3 } },
  '7': {
    title: 'Agent peak RSS, 1,000 objects in 20 CDs',
    peer: undefined,
    goal: { kind: 'absolute', max: 100, unit: 'MiB', strict: false },
  },
  '7b': {
    title: 'Image updater peak RSS, 20 repositories scanned and committed',
    peer: undefined,
    goal: { kind: 'absolute', max: 100, unit: 'MiB', strict: false },
  },
  '8': {
    title: 'Tag pushed → new image applied',
    peer: undefined,
    goal: { kind: 'absolute', max: 10_000, unit: 'ms', strict: true },
  },
  '8w': {
    title: 'Tag pushed → new image applied, by webhook',
    peer: undefined,
    goal: { kind: 'absolute', max: 3_000, unit: 'ms', strict: true },
  },
  '9': {
    title: "Flux's benchmark shape: CDs × 4 objects, created at once, until all Ready",
    peer: undefined,
    goal: { kind: 'absolute', max: 60_000, unit: 'ms', strict: false },
  },
  P: { title: '10,000 hostile tags, catastrophic patterns', peer: 'JS RegExp', goal: { kind: 'none' } },
};

function machine() {
  const tool = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim().split('\n')[0] ?? '';
    } catch {
      return 'unavailable';
    }
  };
  return {
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    kernel: `Linux ${release()}`,
    node: process.version,
    kubeApiserver: `v${KUBERNETES_VERSION}`,
    git: tool('git', ['--version']),
    skopeo: tool('skopeo', ['--version']),
  };
}

async function attempt<T>(what: string, fn: () => Promise<T>): Promise<T | Error> {
  try {
    return await fn();
  } catch (err) {
    progress(`${what} failed: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    return err instanceof Error ? err : new Error(String(err));
  }
}

function order(id: string): number {
  const [item = '', size] = id.split('@');
  const base = ['1', '2', '3', '4', '5', '6', '7', '7b', '8', '8w', '9'].indexOf(item);
  if (base < 0) return 100;
  // Other sizes of items 1, 2 and 7 come after item 9, grouped by item; item 9's sizes in order.
  if (size === undefined) return base;
  if (item === '9') return base + Number(size) / 1e6;
  return 10 + base + Number(size) / 1e6;
}

interface ScalingRow {
  n: number;
  firstOursMs: number;
  firstPeerMs: number;
  noopOursMs: number;
  noopPeerMs: number;
  peakRssMiB: number | undefined;
}

function scalingTable(rows: readonly ScalingRow[]): {
  text: string;
  markdown: string;
  exponents: Record<string, number>;
} {
  const exponents = {
    firstSyncOurs: growthExponent(rows.map((r) => ({ size: r.n, cost: r.firstOursMs }))),
    firstSyncPeer: growthExponent(rows.map((r) => ({ size: r.n, cost: r.firstPeerMs }))),
    noopOurs: growthExponent(rows.map((r) => ({ size: r.n, cost: r.noopOursMs }))),
    noopPeer: growthExponent(rows.map((r) => ({ size: r.n, cost: r.noopPeerMs }))),
    peakRss: growthExponent(rows.filter((r) => r.peakRssMiB !== undefined).map((r) => ({ size: r.n, cost: r.peakRssMiB as number }))),
  };
  const head = ['objects', 'first sync ours', 'per object', 'first sync peer', 'no-op ours', 'no-op peer', 'agent peak RSS'];
  const body = rows.map((r) => [
    r.n.toLocaleString('en-US'),
    formatValue(r.firstOursMs, 'ms'),
    formatValue(r.firstOursMs / r.n, 'ms'),
    formatValue(r.firstPeerMs, 'ms'),
    formatValue(r.noopOursMs, 'ms'),
    formatValue(r.noopPeerMs, 'ms'),
    r.peakRssMiB === undefined ? '—' : formatValue(r.peakRssMiB, 'MiB'),
  ]);
  const exp = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '—');
  const growth = [
    'growth (size^k)',
    `k=${exp(exponents.firstSyncOurs)}`,
    '',
    `k=${exp(exponents.firstSyncPeer)}`,
    `k=${exp(exponents.noopOurs)}`,
    `k=${exp(exponents.noopPeer)}`,
    `k=${exp(exponents.peakRss)}`,
  ];
  const all = [head, ...body, growth];
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const text = all
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] as number))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
  const markdown = [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => ' ---: ').join('|')}|`,
    ...[...body, growth].map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
  return { text, markdown, exponents };
}

const LOAD_HEADING =
  "Item 9 beside Flux's published run (one agent with 4 workers, a client-side limit of 250 requests/s, burst 500; " +
  'a starved deployment would show as a last far beyond the 95th percentile):';

const USAGE = `Usage: npm run bench [-- flags]

Tidemark beside kubectl, git and skopeo against real local servers (~15 min on 2 cores); writes
bench/results/latest.json and README.md's table.
  --only 4,5,6   some items (1, 2, 3 and 7 share their runs; S: their other sizes); writes
                 bench/results/partial.json only
  --quick        fewer runs and sizes, to try the bench itself
  --profile DIR  the agent processes write --cpu-prof profiles to DIR
  --load 100,500 item 9's sizes (default 100, 500 and 1,000)
  --agent-args A program flags for the agent processes, e.g. --agent-args=--kube-api-qps=0
  --node-flags F extra Node flags for the agent processes, e.g. --node-flags="--max-semi-space-size=4"
  --no-readme    leave README.md's table alone
  -h, --help     this help
`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      profile: { type: 'string' },
      'node-flags': { type: 'string' },
      load: { type: 'string' },
      'agent-args': { type: 'string' },
      'no-readme': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const only = values.only ? new Set(values.only.split(',').map((s) => s.trim())) : undefined;
  const want = (...ids: string[]) => !only || ids.some((id) => only.has(id));
  const plan = { ...(values.quick ? QUICK : FULL) };
  if (values.load) plan.load = values.load.split(',').map((s) => Number(s.trim()));
  const complete = !only && !values.quick && !values.load;
  const nodeFlags = values['node-flags']?.split(/\s+/).filter(Boolean) ?? [];
  if (values.profile) {
    mkdirSync(values.profile, { recursive: true });
    nodeFlags.push('--cpu-prof', `--cpu-prof-dir=${values.profile}`);
  }
  setAgentNodeFlags(nodeFlags);
  setAgentArgs(values['agent-args']?.split(/\s+/).filter(Boolean) ?? []);

  const started = new Date();
  const t0 = performance.now();
  const measurements: Measurement[] = [];
  const raw: Record<string, unknown> = {};
  const scaling: ScalingRow[] = [];
  const loadPoints: LoadResult[] = [];
  let pathologicalText = '';
  const push = (id: string, result: unknown, make: (r: never) => Measurement) => {
    const g = GOALS[id.replace(/@.*/, '')] ?? GOALS[id];
    if (result instanceof Error) measurements.push(build.failed(id, g?.title ?? id, g?.peer, g?.goal ?? { kind: 'none' }, result));
    else measurements.push(make(result as never));
  };

  let env: (BenchEnv & { stop(): Promise<void> }) | undefined;
  try {
    env = await startEnv();
    const e = env;
    if (want('4')) {
      const r = await attempt('item 4', () => runGitPoll(e, plan.gitPoll));
      raw.gitPoll = r instanceof Error ? r.message : r;
      push('4', r, build.gitPoll);
    }
    if (want('6')) {
      const r = await attempt('item 6', () => runMarkers(e, plan.markers));
      raw.markers = r instanceof Error ? r.message : r;
      push('6', r, build.markers);
    }
    if (want('5')) {
      const r = await attempt('item 5', () => runTags(e, plan.tags));
      raw.tags = r instanceof Error ? r.message : r;
      push('5', r, build.tags);
    }
    if (want('1', '2', '3', '7', 'S')) {
      for (const point of plan.sizes) {
        const base = point.n === 1000;
        if (!base && !want('S')) continue;
        const id = (item: string) => (base ? item : `${item}@${point.n}`);
        let sync: SyncPointResult | Error | undefined;
        if (want('1', '2', 'S') || (base && want('3'))) {
          sync = await attempt(`sync ${point.n}`, () => runSyncPoint(e, point));
          raw[`sync${point.n}`] = sync instanceof Error ? sync.message : sync;
          if (want('1', '2', 'S')) {
            push(id('1'), sync, (r: SyncPointResult) => build.syncFirst(r, id('1')));
            push(id('2'), sync, (r: SyncPointResult) => build.syncNoop(r, id('2')));
          }
        }
        if (base && want('3')) {
          const peerReapply = sync && !(sync instanceof Error) ? median(noopPerRun(sync.peer)) : undefined;
          const r = await attempt('item 3', () => runDrift(e, plan.drift));
          raw.drift = r instanceof Error ? r.message : r;
          push('3', r, (d: Parameters<typeof build.drift>[0]) => build.drift(d, peerReapply, parseDuration(DRIFT_INTERVAL)));
        }
        let mem: MemoryResult | Error | undefined;
        if (want('7', 'S')) {
          mem = await attempt(`memory ${point.n}`, () => runMemoryPoint(e, point.n));
          raw[`memory${point.n}`] = mem instanceof Error ? mem.message : mem;
          push(id('7'), mem, (r: MemoryResult) => build.memory(r, id('7')));
        }
        if (sync && !(sync instanceof Error)) {
          scaling.push({
            n: point.n,
            firstOursMs: median(sync.ours.map((r) => r.firstMs)),
            firstPeerMs: median(sync.peer.map((r) => r.firstMs)),
            noopOursMs: median(noopPerRun(sync.ours)),
            noopPeerMs: median(noopPerRun(sync.peer)),
            peakRssMiB: mem && !(mem instanceof Error) ? mem.peakRssKiB / 1024 : undefined,
          });
        }
      }
    }
    if (want('7b')) {
      const r = await attempt('item 7b', () => runUpdaterMemory(e));
      raw.updaterMemory = r instanceof Error ? r.message : r;
      push('7b', r, build.updaterMemory);
    }
    if (want('9')) {
      const points = loadPoints;
      for (const n of plan.load) {
        const r = await attempt(`item 9 at ${n}`, () => runLoadPoint(e, n));
        raw[`load${n}`] = r instanceof Error ? r.message : r;
        push(`9@${n}`, r, (l: LoadResult) => build.load(l));
        if (!(r instanceof Error)) points.push(r);
      }
      if (points.length >= 2) measurements.push(build.loadGrowth(points));
    }
    if (want('8')) {
      const r = await attempt('item 8', () => runImageLoop(e, plan.imageLoop));
      raw.imageLoop = r instanceof Error ? r.message : r;
      push('8', r, build.imageLoop);
    }
    if (want('8w')) {
      const r = await attempt('item 8w', () => runImageLoop(e, { ...plan.imageLoop, webhook: true }));
      raw.imageLoopWebhook = r instanceof Error ? r.message : r;
      push('8w', r, build.imageLoopWebhook);
    }
    if (want('P')) {
      progress('hostile tag patterns (RE2 vs JavaScript RegExp)');
      const r = await attempt('item P', () => Promise.resolve(runPathological()));
      raw.pathological = r instanceof Error ? r.message : r;
      if (!(r instanceof Error)) pathologicalText = formatPathological(r);
      push('P', r, build.pathological);
    }
  } catch (err) {
    progress(`the bench could not start: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  } finally {
    progress('stopping every server');
    await env?.stop();
  }

  measurements.sort((a, b) => order(a.id) - order(b.id));
  const minutes = (performance.now() - t0) / 60_000;
  const info = machine();
  const scale = scalingTable(scaling);
  const misses = measurements.filter((m) => m.verdict === 'MISSES' || m.verdict === 'ERROR');

  const out: string[] = [];
  out.push(
    `Tidemark benchmarks — ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, ` +
      `${info.nproc} cores (${info.cpu}), ${info.memoryGiB} GiB, ${info.kernel}, Node ${info.node}; ` +
      `${minutes.toFixed(1)} min`,
  );
  out.push('Ratios are ours ÷ peer, the median of back-to-back pairs on the same data; absolute times drift on this shared machine.');
  out.push('');
  out.push(textTable(measurements));
  if (scaling.length > 0) {
    out.push('');
    out.push('Items 1, 2 and 7 by size (medians; 5,000 objects: one run per side):');
    out.push(scale.text);
  }
  if (loadPoints.length > 0) {
    out.push('');
    out.push(LOAD_HEADING);
    out.push(build.loadTable(loadPoints));
  }
  out.push('');
  out.push('What each side did:');
  for (const m of measurements) {
    out.push(`  ${m.id}. ${m.title}`);
    for (const n of m.notes) out.push(`     - ${n}`);
    if (m.error) out.push(`     - ERROR: ${m.error}`);
  }
  if (pathologicalText) {
    out.push('');
    out.push(pathologicalText);
  }
  out.push('');
  out.push('Closing note');
  if (misses.length === 0) out.push('  Every item meets its goal.');
  const explained = new Set<string>();
  /** The gap note of an item once; its scaling points refer back to it. */
  const gapNote = (m: Measurement): string | undefined => {
    const key = m.id.replace(/@.*/, '');
    if (!GAP_NOTES[key]) return undefined;
    if (explained.has(key)) return `(see item ${key})`;
    explained.add(key);
    return GAP_NOTES[key];
  };
  for (const m of misses) {
    out.push(`  ${m.id}. ${m.title}: ${m.verdict === 'ERROR' ? 'did not complete' : `MISSES (${build.describeMiss(m)})`}`);
    const note = gapNote(m);
    if (note) out.push(`     ${note}`);
  }
  out.push('  Also found:');
  for (const o of OBSERVATIONS) out.push(`   - ${o}`);
  out.push('  Fixed while building the bench (before → after, this machine):');
  for (const f of FIXES) out.push(`   - ${f}`);
  const report = out.join('\n');
  process.stdout.write(`${report}\n`);

  const json = {
    date: started.toISOString(),
    durationMinutes: Math.round(minutes * 10) / 10,
    machine: info,
    plan: values.quick ? 'quick' : 'full',
    only: only ? [...only] : undefined,
    measurements,
    scaling: { rows: scaling, exponents: scale.exponents },
    fixes: FIXES,
    raw,
  };
  mkdirSync(`${root}bench/results`, { recursive: true });
  const jsonPath = `${root}bench/results/${complete ? 'latest' : 'partial'}.json`;
  writeFileSync(jsonPath, `${JSON.stringify(json, null, 2)}\n`);
  progress(`wrote ${jsonPath}`);

  if (complete && !values['no-readme']) {
    const readmePath = `${root}README.md`;
    const body = [
      `Latest \`npm run bench\`: ${started.toISOString().slice(0, 10)}, on ${info.nproc} cores (${info.cpu}) ` +
        `with ${info.memoryGiB} GiB of memory, ${info.kernel}, Node ${info.node}, ` +
        `kube-apiserver ${info.kubeApiserver}, kubectl v1.35. Each figure is the median of several runs after a warm-up; ` +
        `the ratio is ours ÷ peer over back-to-back pairs on the same data (absolute times drift on this shared ` +
        `machine; ratios hold). Run it with \`npm run bench\` (about ${Math.ceil(minutes)} minutes here); ` +
        `every figure, request count and sample is in [bench/results/latest.json](bench/results/latest.json).`,
      '',
      markdownTable(measurements),
      '',
      ...(scaling.length > 0
        ? [
            'Items 1, 2 and 7 by size (medians, 5,000 objects one run per side; k is the fitted exponent of cost ∝ size^k):',
            '',
            scale.markdown,
            '',
          ]
        : []),
      ...(loadPoints.length > 0 ? [LOAD_HEADING, '', build.loadTable(loadPoints), ''] : []),
      ...(misses.length > 0
        ? [
            'Where we miss the goal, and what would close the gap:',
            '',
            ...(() => {
              explained.clear();
              return misses.map((m) => {
                const note = gapNote(m);
                const miss = m.verdict === 'ERROR' ? 'did not complete' : build.describeMiss(m);
                return `- **${m.id}. ${m.title}** — ${miss}.${note ? ` ${note}` : ''}`;
              });
            })(),
            '',
          ]
        : []),
      'Also found:',
      '',
      ...OBSERVATIONS.map((o) => `- ${o}`),
      '',
      'Fixed while building the bench (before → after on this machine):',
      '',
      ...FIXES.map((f) => `- ${f}`),
      '',
    ].join('\n');
    writeFileSync(readmePath, replaceSection(readFileSync(readmePath, 'utf8'), 'Benchmarks', body));
    progress(`updated the Benchmarks section of ${readmePath}`);
  }
  return 0;
}

process.exitCode = await main();
