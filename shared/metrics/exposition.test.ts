import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Gauge, Histogram, MetricsRegistry, escapeLabelValue, formatValue } from './exposition.ts';
import { registerProcessMetrics } from './process-metrics.ts';
import { parseTextFormat } from './text-format.ts';

describe('exposition writer (text format 0.0.4)', () => {
  it('writes HELP and TYPE before the samples, and escapes help text and label values', async () => {
    const registry = new MetricsRegistry();
    const gauge = registry.register(new Gauge({ name: 'probe_info', help: 'A help\nwith a \\ and a newline.', labelNames: ['name'] }));
    gauge.set({ name: 'say "hi"\\\nbye' }, 1);
    const text = await registry.metrics();
    assert.equal(
      text,
      '# HELP probe_info A help\\nwith a \\\\ and a newline.\n# TYPE probe_info gauge\nprobe_info{name="say \\"hi\\"\\\\\\nbye"} 1\n',
    );
    assert.deepEqual(parseTextFormat(text).get('probe_info')?.samples, [
      { name: 'probe_info', labels: { name: 'say "hi"\\\nbye' }, value: 1 },
    ]);
    assert.equal(registry.contentType, 'text/plain; version=0.0.4; charset=utf-8');
  });

  it('writes cumulative buckets, +Inf, _sum and _count per series of a histogram', async () => {
    const registry = new MetricsRegistry();
    const h = registry.register(new Histogram({ name: 'probe_seconds', help: 'h', labelNames: ['kind'], buckets: [1, 0.1, 10] }));
    for (const v of [0.05, 0.1, 0.5, 2, 20]) h.observe({ kind: 'a' }, v);
    h.observe({ kind: 'b' }, 3);
    const family = parseTextFormat(await registry.metrics()).get('probe_seconds');
    const of = (kind: string) =>
      family?.samples.filter((s) => s.labels.kind === kind).map((s) => `${s.name}${s.labels.le ? `@${s.labels.le}` : ''}=${s.value}`);
    assert.deepEqual(of('a'), [
      'probe_seconds_bucket@0.1=2',
      'probe_seconds_bucket@1=3',
      'probe_seconds_bucket@10=4',
      'probe_seconds_bucket@+Inf=5',
      'probe_seconds_sum=22.65',
      'probe_seconds_count=5',
    ]);
    assert.deepEqual(of('b'), [
      'probe_seconds_bucket@0.1=0',
      'probe_seconds_bucket@1=0',
      'probe_seconds_bucket@10=1',
      'probe_seconds_bucket@+Inf=1',
      'probe_seconds_sum=3',
      'probe_seconds_count=1',
    ]);
  });

  it('starts a counter without labels at 0, counts up only, and removes a series by its labels', async () => {
    const registry = new MetricsRegistry();
    const plain = registry.register(new Counter({ name: 'plain_total', help: 'p' }));
    const labelled = registry.register(new Counter({ name: 'labelled_total', help: 'l', labelNames: ['code'] }));
    let families = parseTextFormat(await registry.metrics());
    assert.deepEqual(families.get('plain_total')?.samples, [{ name: 'plain_total', labels: {}, value: 0 }]);
    assert.deepEqual(families.get('labelled_total')?.samples, []);
    plain.inc(undefined, 2.5);
    labelled.inc({ code: '200' });
    labelled.inc({ code: 429 });
    labelled.inc({ code: '200' });
    assert.throws(() => plain.inc(undefined, -1), /only goes up/);
    assert.throws(() => labelled.inc({ verb: 'GET' } as never), /no label "verb"/);
    labelled.remove({ code: 429 });
    families = parseTextFormat(await registry.metrics());
    assert.equal(families.get('plain_total')?.samples[0]?.value, 2.5);
    assert.deepEqual(families.get('labelled_total')?.samples, [{ name: 'labelled_total', labels: { code: '200' }, value: 2 }]);
  });

  it('refuses bad names, bad buckets and a family registered twice', () => {
    const registry = new MetricsRegistry();
    registry.register(new Gauge({ name: 'once', help: 'x' }));
    assert.throws(() => registry.register(new Gauge({ name: 'once', help: 'x' })), /registered twice/);
    assert.throws(() => new Gauge({ name: 'bad-name', help: 'x' }), /invalid metric name/);
    assert.throws(() => new Gauge({ name: 'ok', help: 'x', labelNames: ['__reserved'] }), /invalid label name/);
    assert.throws(() => new Histogram({ name: 'h', help: 'x', labelNames: ['le'], buckets: [1] }), /bucket label/);
    assert.throws(() => new Histogram({ name: 'h', help: 'x', buckets: [1, 1] }), /distinct/);
  });

  it('spells values and escapes as Prometheus reads them', () => {
    assert.equal(formatValue(Infinity), '+Inf');
    assert.equal(formatValue(-Infinity), '-Inf');
    assert.equal(formatValue(NaN), 'NaN');
    assert.equal(formatValue(1e-7), '1e-7');
    assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  });
});

describe('process metrics', () => {
  it("keeps prom-client's default names, which the chart's dashboard reads", async () => {
    const registry = new MetricsRegistry();
    registerProcessMetrics(registry, 'probe_');
    const families = parseTextFormat(await registry.metrics());
    const value = (name: string) => families.get(name)?.samples[0]?.value ?? NaN;
    assert.ok(value('probe_process_resident_memory_bytes') > 1 << 20);
    assert.ok(value('probe_process_cpu_seconds_total') > 0);
    assert.equal(families.get('probe_process_cpu_seconds_total')?.type, 'counter');
    assert.ok(value('probe_process_start_time_seconds') <= Date.now() / 1000);
    assert.ok(value('probe_nodejs_heap_size_used_bytes') > 0);
    assert.equal(families.get('probe_nodejs_gc_duration_seconds')?.type, 'histogram');
    assert.deepEqual(families.get('probe_nodejs_version_info')?.samples[0]?.labels.version, process.version);
    for (const name of [
      'probe_process_cpu_user_seconds_total',
      'probe_process_cpu_system_seconds_total',
      'probe_process_open_fds',
      'probe_process_max_fds',
      'probe_nodejs_eventloop_lag_seconds',
      'probe_nodejs_eventloop_lag_p99_seconds',
      'probe_nodejs_active_handles_total',
      'probe_nodejs_active_requests_total',
      'probe_nodejs_active_resources_total',
      'probe_nodejs_external_memory_bytes',
      'probe_nodejs_heap_space_size_used_bytes',
    ]) {
      assert.ok(families.has(name), `${name} is missing`);
    }
  });
});
