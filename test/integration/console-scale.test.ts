import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'puppeteer-core';
import type { KubeClient } from '../../shared/kube/client.ts';
import { testCluster } from '../harness/cluster.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { startProcess, waitFor } from '../harness/process.ts';
import type { ManagedProcess } from '../harness/process.ts';
import { applyCd, installCrds, testClient } from '../harness/tidemark.ts';

/**
 * Issue #15's figure, measured rather than asserted: 1,000 ContinuousDeployments, how long until
 * the list shows every row in Chromium, how long a change takes to arrive, and the dashboard's
 * peak RSS (VmHWM). Slow, so off unless TIDEMARK_CONSOLE_SCALE=1; it prints the figures.
 */

const COUNT = Number(process.env.TIDEMARK_CONSOLE_SCALE_COUNT ?? 1000);
const CHROMIUM = process.env.TIDEMARK_CHROMIUM ?? '/usr/bin/chromium';
const puppeteer = await import('puppeteer-core').then(
  (m) => m.default,
  () => undefined,
);
const skip =
  process.env.TIDEMARK_CONSOLE_SCALE !== '1'
    ? 'a measurement: set TIDEMARK_CONSOLE_SCALE=1'
    : !existsSync(CHROMIUM) || puppeteer === undefined
      ? 'no chromium or puppeteer-core'
      : false;
const BIN = new URL('../../bin/tidemark.ts', import.meta.url).pathname;

describe(`the console with ${COUNT} ContinuousDeployments`, { skip }, () => {
  let cluster: ClusterAccess;
  let kube: KubeClient;
  let ns: string;
  let dashboard: ManagedProcess;
  let browser: Browser;
  let profile: string;

  before(async () => {
    cluster = await testCluster();
    await installCrds(cluster);
    kube = testClient(cluster);
    ns = await cluster.createNamespace('console-scale');
    const names = Array.from({ length: COUNT }, (_, i) => `app-${String(i).padStart(4, '0')}`);
    for (let i = 0; i < names.length; i += 25) {
      await Promise.all(
        names.slice(i, i + 25).map((name) =>
          applyCd(kube, {
            metadata: { name, namespace: ns },
            spec: { url: 'https://git.example/site.git', path: name, pullInterval: '1h' },
          }),
        ),
      );
    }
    profile = await mkdtemp(join(tmpdir(), 'tidemark-chromium-'));
    browser = await puppeteer!.launch({
      executablePath: CHROMIUM,
      headless: true,
      userDataDir: profile,
      args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '--disable-dev-shm-usage', '--disable-gpu'],
    });
  });

  after(async () => {
    await browser?.close();
    await dashboard?.stop();
    await kube?.close();
    if (ns) await cluster.deleteNamespace(ns);
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  it('shows every row, takes a change live, and reports the time and the peak RSS', async () => {
    dashboard = await startProcess({
      name: 'tidemark dashboard',
      command: process.execPath,
      args: [BIN, 'dashboard', '--kubeconfig', cluster.kubeconfigPath],
      env: { ...process.env, KUBECONFIG: '' },
    });
    const printed = /Open (http:\/\/127\.0\.0\.1:(\d+)\/login\?token=\S+)/;
    await waitFor(() => Promise.resolve(printed.test(dashboard.tail(20))), { what: 'the URL', timeoutMs: 60_000, watch: [dashboard] });
    const loginUrl = printed.exec(dashboard.tail(20))?.[1] ?? '';
    const page = await browser.newPage();
    const rowsIn = `document.querySelectorAll('#rows tr').length`;
    const opened = performance.now();
    await page.goto(loginUrl);
    await page.waitForFunction(`${rowsIn} >= ${COUNT}`, { timeout: 120_000 });
    const rowsMs = performance.now() - opened;
    assert.equal(await page.evaluate(rowsIn), COUNT);

    const changed = performance.now();
    await kube.rest.request({
      method: 'PATCH',
      path: `/apis/tidemark.dev/v1alpha1/namespaces/${ns}/continuousdeployments/app-0500`,
      contentType: 'application/merge-patch+json',
      body: { metadata: { annotations: { 'kubesphere.io/alias-name': 'renamed live' } } },
    });
    await page.waitForFunction(`document.getElementById('rows').textContent.includes('renamed live')`, { timeout: 60_000 });
    const liveMs = performance.now() - changed;

    const status = readFileSync(`/proc/${dashboard.pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    const rss = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    process.stdout.write(
      `# console scale: ${COUNT} CDs; all rows after ${Math.round(rowsMs)} ms (login included); a change after ${Math.round(liveMs)} ms; ` +
        `dashboard VmHWM ${Math.round(Number(hwm) / 1024)} MiB, VmRSS ${Math.round(Number(rss) / 1024)} MiB\n`,
    );
  });
});
