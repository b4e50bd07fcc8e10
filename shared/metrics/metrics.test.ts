import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BOUNDED_LABELS, METRICS } from './definitions.ts';
import { codeLabel, gitOperationLabel, hostLabel, kindLabel, reasonLabel, verbLabel } from './labels.ts';
import {
  forgetResourceInfo,
  recordGitOperation,
  recordBotPush,
  recordKubeRequest,
  recordQueueWait,
  recordReconcile,
  recordScan,
  recordRegistryRequest,
  recordResourceInfo,
  recordWebhookRequest,
  forgetWebhookReceiver,
  registry,
  watchQueueDepth,
} from './registry.ts';
import { parseTextFormat, type MetricFamily } from './text-format.ts';

async function scrape(): Promise<Map<string, MetricFamily>> {
  return parseTextFormat(await registry.metrics());
}

function seriesOf(families: Map<string, MetricFamily>, name: string): MetricFamily['samples'] {
  return families.get(name)?.samples ?? [];
}

describe('metric definitions', () => {
  it('gives counters and histograms bounded labels only: no name, revision or tag', () => {
    const unbounded = Object.values(METRICS)
      .filter((m) => m.type !== 'gauge')
      .flatMap((m) => m.labels.filter((label) => !BOUNDED_LABELS.has(label)).map((label) => `${m.name}{${label}}`));
    assert.deepEqual(unbounded, []);
  });

  it('names every metric tidemark_*, counters *_total', () => {
    for (const m of Object.values(METRICS)) {
      assert.match(m.name, /^tidemark_[a-z_]+$/);
      assert.equal(m.type === 'counter', m.name.endsWith('_total'), m.name);
    }
  });
});

describe('label bounds', () => {
  it('keeps reasons to the Reason union', () => {
    assert.equal(reasonLabel('GitUnreachable'), 'GitUnreachable');
    assert.equal(reasonLabel(undefined), 'none');
    assert.equal(reasonLabel('cannot reach 10.0.0.1: ECONNREFUSED'), 'Other');
    assert.equal(reasonLabel('v1.2.3'), 'Other');
  });

  it('keeps codes, verbs, Git operations, kinds and hosts to small sets', () => {
    assert.equal(codeLabel(429), '429');
    assert.equal(codeLabel(undefined), 'error');
    assert.equal(codeLabel(1234), 'error');
    assert.equal(verbLabel('patch'), 'PATCH');
    assert.equal(verbLabel('PROPFIND'), 'OTHER');
    assert.equal(gitOperationLabel('push'), 'push');
    assert.equal(gitOperationLabel('checkout main'), 'other');
    assert.equal(kindLabel('ImagePolicy'), 'ImagePolicy');
    assert.equal(kindLabel('x{y="1"}'), 'Other');
    assert.equal(hostLabel('Registry.Example:5000'), 'registry.example:5000');
    assert.equal(hostLabel('evil"} 1\nfoo'), 'invalid');
  });

  it('adds no series when a thousand different revisions and tags fail', async () => {
    for (let i = 0; i < 1000; i++) {
      recordReconcile('BoundsProbe', 'failure', `revision main@sha1:${i.toString(16).padStart(40, '0')}`, 0.01);
      recordGitOperation('push', `tag v1.${i}.0 rejected`);
      recordRegistryRequest('bounds.example', 200 + (i % 2));
    }
    const families = await scrape();
    const reconciles = seriesOf(families, 'tidemark_reconcile_total').filter((s) => s.labels.kind === 'BoundsProbe');
    assert.deepEqual(reconciles, [
      { name: 'tidemark_reconcile_total', labels: { kind: 'BoundsProbe', result: 'failure', reason: 'Other' }, value: 1000 },
    ]);
    const pushes = seriesOf(families, 'tidemark_git_operations_total').filter((s) => s.labels.operation === 'push');
    assert.deepEqual(
      pushes.map((s) => s.labels.result),
      ['Other'],
    );
    const hosts = seriesOf(families, 'tidemark_registry_requests_total').filter((s) => s.labels.host === 'bounds.example');
    assert.deepEqual(
      hosts.map((s) => [s.labels.code, s.value]),
      [
        ['200', 500],
        ['201', 500],
      ],
    );
  });
});

describe('recording', () => {
  it('counts API requests by verb and code, and a reconcile in the histogram', async () => {
    recordKubeRequest('PATCH', 409);
    recordKubeRequest('PATCH', 409);
    recordKubeRequest('GET', undefined);
    recordReconcile('HistogramProbe', 'success', undefined, 0.3);
    const families = await scrape();
    const kube = seriesOf(families, 'tidemark_kube_requests_total');
    assert.equal(kube.find((s) => s.labels.verb === 'PATCH' && s.labels.code === '409')?.value, 2);
    assert.equal(kube.find((s) => s.labels.verb === 'GET' && s.labels.code === 'error')?.value, 1);
    const buckets = seriesOf(families, 'tidemark_reconcile_duration_seconds').filter((s) => s.labels.kind === 'HistogramProbe');
    assert.equal(buckets.find((s) => s.name.endsWith('_bucket') && s.labels.le === '0.25')?.value, 0);
    assert.equal(buckets.find((s) => s.name.endsWith('_bucket') && s.labels.le === '0.5')?.value, 1);
    assert.equal(buckets.find((s) => s.name.endsWith('_count'))?.value, 1);
  });

  it('keeps one info series per object, replaced on change and removed with the object', async () => {
    const object = { kind: 'InfoProbe', namespace: 'team-a', name: 'web' };
    const condition = (status: 'True' | 'False', reason: 'ReconciliationSucceeded' | 'Suspended') =>
      ({ type: 'Ready', status, reason, message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }) as const;
    recordResourceInfo(object, { conditions: [condition('True', 'ReconciliationSucceeded')] });
    recordResourceInfo(object, { conditions: [condition('False', 'Suspended')] });
    const info = seriesOf(await scrape(), 'tidemark_resource_info').filter((s) => s.labels.kind === 'InfoProbe');
    assert.deepEqual(info, [
      {
        name: 'tidemark_resource_info',
        labels: { kind: 'InfoProbe', name: 'web', namespace: 'team-a', ready: 'False', suspended: 'true', revision: '' },
        value: 1,
      },
    ]);
    forgetResourceInfo(object);
    assert.deepEqual(
      seriesOf(await scrape(), 'tidemark_resource_info').filter((s) => s.labels.kind === 'InfoProbe'),
      [],
    );
  });

  it("shows a deployment's revision and inventory size, and a repository's tag count, until the object goes", async () => {
    const cd = { kind: 'ContinuousDeployment', namespace: 'probe-ns', name: 'probe-cd' };
    const repo = { kind: 'ImageRepository', namespace: 'probe-ns', name: 'probe-repo' };
    const revision = 'main@sha1:' + 'a'.repeat(40);
    recordResourceInfo(cd, { sync: { status: 'Synced', revision }, resources: [{}, {}, {}] });
    recordResourceInfo(repo, { lastScanResult: { tagCount: 42 } });
    const mine = (families: Map<string, MetricFamily>, name: string) =>
      seriesOf(families, name).filter((s) => s.labels.namespace === 'probe-ns');
    let families = await scrape();
    assert.deepEqual(
      mine(families, 'tidemark_resource_info').map((s) => [s.labels.name, s.labels.revision]),
      [
        ['probe-cd', revision],
        ['probe-repo', ''],
      ],
    );
    assert.deepEqual(
      mine(families, 'tidemark_managed_objects').map((s) => [s.labels.name, s.value]),
      [['probe-cd', 3]],
    );
    assert.deepEqual(
      mine(families, 'tidemark_image_tags').map((s) => [s.labels.name, s.value]),
      [['probe-repo', 42]],
    );
    forgetResourceInfo(cd);
    forgetResourceInfo(repo);
    families = await scrape();
    for (const name of ['tidemark_resource_info', 'tidemark_managed_objects', 'tidemark_image_tags']) {
      assert.deepEqual(mine(families, name), [], name);
    }
  });

  it('records queue waits, scans by host and result, and bot pushes with their retries', async () => {
    recordQueueWait('WaitProbe', 0.05);
    recordScan('scan-probe.example:5000', undefined, 0.2);
    recordScan('scan-probe.example:5000', 'RegistryRateLimited', 3);
    recordBotPush('pushed', 2);
    recordBotPush({ failure: 'a message, not a Reason' }, 0);
    const families = await scrape();
    const wait = seriesOf(families, 'tidemark_queue_wait_seconds').filter((s) => s.labels.kind === 'WaitProbe');
    assert.equal(wait.find((s) => s.name.endsWith('_bucket') && s.labels.le === '0.01')?.value, 0);
    assert.equal(wait.find((s) => s.name.endsWith('_bucket') && s.labels.le === '0.1')?.value, 1);
    const scans = seriesOf(families, 'tidemark_scan_duration_seconds').filter(
      (s) => s.labels.host === 'scan-probe.example:5000' && s.name.endsWith('_count'),
    );
    assert.deepEqual(scans.map((s) => [s.labels.result, s.value]).sort(), [
      ['RegistryRateLimited', 1],
      ['success', 1],
    ]);
    const pushes = seriesOf(families, 'tidemark_bot_pushes_total');
    assert.ok((pushes.find((s) => s.labels.result === 'pushed')?.value ?? 0) >= 1);
    assert.ok((pushes.find((s) => s.labels.result === 'Other')?.value ?? 0) >= 1);
    assert.ok((seriesOf(families, 'tidemark_push_retries_total')[0]?.value ?? 0) >= 2);
  });

  it('reads queue depths at scrape time and forgets a stopped queue', async () => {
    let depth = 3;
    const stop = watchQueueDepth('QueueProbe', () => depth);
    const first = seriesOf(await scrape(), 'tidemark_queue_depth').find((s) => s.labels.kind === 'QueueProbe');
    depth = 5;
    const second = seriesOf(await scrape(), 'tidemark_queue_depth').find((s) => s.labels.kind === 'QueueProbe');
    stop();
    const third = seriesOf(await scrape(), 'tidemark_queue_depth').find((s) => s.labels.kind === 'QueueProbe');
    assert.deepEqual([first?.value, second?.value, third], [3, 5, undefined]);
  });
});

describe('text format reader', () => {
  it('reads families, escapes and special values', () => {
    const families = parseTextFormat(
      '# HELP a_total A.\n# TYPE a_total counter\na_total{x="q\\"\\\\\\n"} 2\n' +
        '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_sum 0.5\nh_count 1\n',
    );
    assert.deepEqual(families.get('a_total')?.samples, [{ name: 'a_total', labels: { x: 'q"\\\n' }, value: 2 }]);
    assert.equal(families.get('a_total')?.help, 'A.');
    assert.equal(families.get('h')?.samples.length, 3);
  });

  it('refuses what Prometheus would refuse', () => {
    const bad = [
      'a 1\n', // no TYPE
      '# TYPE a gauge\na{x=1} 1\n', // unquoted
      '# TYPE a gauge\na{x="1"} one\n', // not a number
      '# TYPE a gauge\na 1\na 2\n', // twice
      '# TYPE a gauge\na{x="\\t"} 1\n', // bad escape
      '# TYPE a gauge\na 1', // no final newline
      '# TYPE a gauge\n# TYPE a gauge\n', // declared twice
    ];
    for (const text of bad) assert.throws(() => parseTextFormat(text), Error, JSON.stringify(text));
  });
});

describe('webhook requests', () => {
  it('counts by Receiver and result, an unserved path as "unknown", and drops a deleted Receiver\'s series', async () => {
    recordWebhookRequest('team-a/github', 'accepted');
    recordWebhookRequest('team-a/github', 'unauthorized');
    recordWebhookRequest(undefined, 'not_found');
    const series = async () =>
      seriesOf(await scrape(), 'tidemark_webhook_requests_total').map((s) => `${s.labels.receiver} ${s.labels.result} ${s.value}`);
    assert.ok((await series()).includes('team-a/github accepted 1'));
    assert.ok((await series()).includes('team-a/github unauthorized 1'));
    assert.ok((await series()).some((s) => s.startsWith('unknown not_found')));
    forgetWebhookReceiver('team-a/github');
    assert.deepEqual(
      (await series()).filter((s) => s.startsWith('team-a/github')),
      [],
    );
  });
});
