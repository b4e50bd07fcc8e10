import { readdirSync, readFileSync } from 'node:fs';
import { PerformanceObserver, constants, monitorEventLoopDelay, type PerformanceEntry } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { Counter, Gauge, Histogram, type MetricsRegistry } from './exposition.ts';

/**
 * The process and runtime series prom-client's collectDefaultMetrics wrote, under the same names
 * and help texts (`<prefix>process_*`, `<prefix>nodejs_*`), so dashboards and alerts keep working.
 * Values are read at scrape time; only the GC histogram and the event-loop delay monitor run between.
 */
export function registerProcessMetrics(registry: MetricsRegistry, prefix: string): void {
  const name = (suffix: string) => `${prefix}${suffix}`;
  const gauge = (suffix: string, help: string, read: () => number | undefined) => {
    const g: Gauge = registry.register(
      new Gauge({
        name: name(suffix),
        help,
        collect: () => {
          const value = read();
          if (value === undefined) g.reset();
          else g.set(undefined, value);
        },
      }),
    );
  };

  // CPU: counters set from process.cpuUsage() at scrape time (it only goes up).
  const cpuCounter = (suffix: string, help: string, read: (usage: NodeJS.CpuUsage) => number) => {
    const counter: Counter = registry.register(
      new Counter({
        name: name(suffix),
        help,
        collect: () => {
          counter.reset();
          counter.inc(undefined, read(process.cpuUsage()) / 1e6);
        },
      }),
    );
  };
  cpuCounter('process_cpu_user_seconds_total', 'Total user CPU time spent in seconds.', (u) => u.user);
  cpuCounter('process_cpu_system_seconds_total', 'Total system CPU time spent in seconds.', (u) => u.system);
  cpuCounter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.', (u) => u.user + u.system);

  // Whole seconds, never after the start (a rounded-up value could lie in the future for a young process).
  const startTime = Math.floor(Date.now() / 1000 - process.uptime());
  gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', () => startTime);
  gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', () => procStatus('VmRSS') ?? process.memoryUsage.rss());
  gauge('process_virtual_memory_bytes', 'Virtual memory size in bytes.', () => procStatus('VmSize'));
  gauge('process_heap_bytes', 'Process heap size in bytes.', () => procStatus('VmData'));
  gauge('process_open_fds', 'Number of open file descriptors.', () => countEntries('/proc/self/fd'));
  const maxFds = readMaxFds();
  gauge('process_max_fds', 'Maximum number of open file descriptors.', () => maxFds);

  // Event-loop lag: the delay of a setImmediate queued at the previous scrape, as prom-client did.
  let lag = 0;
  gauge('nodejs_eventloop_lag_seconds', 'Lag of event loop in seconds.', () => {
    const start = process.hrtime.bigint();
    setImmediate(() => (lag = Number(process.hrtime.bigint() - start) / 1e9));
    return lag;
  });
  const delay = monitorEventLoopDelay();
  delay.enable();
  const delayGauge = (suffix: string, help: string, read: () => number) =>
    gauge(`nodejs_eventloop_lag_${suffix}_seconds`, help, () => (delay.count === 0 ? 0 : read() / 1e9));
  delayGauge('min', 'The minimum recorded event loop delay.', () => delay.min);
  delayGauge('max', 'The maximum recorded event loop delay.', () => delay.max);
  delayGauge('mean', 'The mean of the recorded event loop delays.', () => delay.mean);
  delayGauge('stddev', 'The standard deviation of the recorded event loop delays.', () => delay.stddev);
  delayGauge('p50', 'The 50th percentile of the recorded event loop delays.', () => delay.percentile(50));
  delayGauge('p90', 'The 90th percentile of the recorded event loop delays.', () => delay.percentile(90));
  // The last of them starts the next interval.
  const p99: Gauge = registry.register(
    new Gauge({
      name: name('nodejs_eventloop_lag_p99_seconds'),
      help: 'The 99th percentile of the recorded event loop delays.',
      collect: () => {
        p99.set(undefined, delay.count === 0 ? 0 : delay.percentile(99) / 1e9);
        delay.reset();
      },
    }),
  );

  const byType = (suffix: string, help: string, totalHelp: string, list: () => readonly string[]) => {
    let types: readonly string[] = [];
    const g: Gauge<'type'> = registry.register(
      new Gauge({
        name: name(suffix),
        help,
        labelNames: ['type'],
        collect: () => {
          g.reset();
          types = list();
          for (const type of types) g.inc({ type });
        },
      }),
    );
    gauge(`${suffix}_total`, totalHelp, () => types.length);
  };
  byType(
    'nodejs_active_resources',
    'Number of active resources that are currently keeping the event loop alive, grouped by async resource type.',
    'Total number of active resources.',
    () => process.getActiveResourcesInfo(),
  );
  const internals = process as unknown as { _getActiveHandles?: () => object[]; _getActiveRequests?: () => object[] };
  byType(
    'nodejs_active_handles',
    'Number of active libuv handles grouped by handle type. Every handle type is C++ class name.',
    'Total number of active handles.',
    () => (internals._getActiveHandles?.() ?? []).map((h) => h.constructor.name),
  );
  byType(
    'nodejs_active_requests',
    'Number of active libuv requests grouped by request type. Every request type is C++ class name.',
    'Total number of active requests.',
    () => (internals._getActiveRequests?.() ?? []).map((r) => r.constructor.name),
  );

  gauge('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', () => process.memoryUsage().heapTotal);
  gauge('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', () => process.memoryUsage().heapUsed);
  gauge('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', () => process.memoryUsage().external);
  const spaces = (suffix: string, help: string, read: (s: ReturnType<typeof getHeapSpaceStatistics>[number]) => number) => {
    const g: Gauge<'space'> = registry.register(
      new Gauge({
        name: name(`nodejs_heap_space_size_${suffix}_bytes`),
        help,
        labelNames: ['space'],
        collect: () => {
          for (const s of getHeapSpaceStatistics()) g.set({ space: s.space_name.replace(/_space$/, '') }, read(s));
        },
      }),
    );
  };
  spaces('total', 'Process heap space size total from Node.js in bytes.', (s) => s.space_size);
  spaces('used', 'Process heap space size used from Node.js in bytes.', (s) => s.space_used_size);
  spaces('available', 'Process heap space size available from Node.js in bytes.', (s) => s.space_available_size);

  const [major = '', minor = '', patch = ''] = process.version.slice(1).split('.');
  const versionLabels = ['version', 'major', 'minor', 'patch'] as const;
  registry
    .register(new Gauge({ name: name('nodejs_version_info'), help: 'Node.js version info.', labelNames: versionLabels }))
    .set({ version: process.version, major, minor, patch }, 1);

  const gc = registry.register(
    new Histogram({
      name: name('nodejs_gc_duration_seconds'),
      help: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
      labelNames: ['kind'],
      buckets: [0.001, 0.01, 0.1, 1, 2, 5],
    }),
  );
  const kinds: Record<number, string> = {
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
  };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const detail = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail;
      const kind = kinds[detail?.kind ?? -1];
      if (kind !== undefined) gc.observe({ kind }, entry.duration / 1000);
    }
  }).observe({ entryTypes: ['gc'] });
}

/** A `/proc/self/status` line in bytes (Linux); undefined elsewhere. */
function procStatus(field: string): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function countEntries(dir: string): number | undefined {
  try {
    return readdirSync(dir).length;
  } catch {
    return undefined;
  }
}

function readMaxFds(): number | undefined {
  try {
    const match = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}
