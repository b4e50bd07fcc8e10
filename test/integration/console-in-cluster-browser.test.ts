import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import type { KubeClient } from '../../shared/kube/client.ts';
import { testCluster } from '../harness/cluster.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { freePort } from '../harness/ports.ts';
import { startProcess, waitFor } from '../harness/process.ts';
import type { ManagedProcess } from '../harness/process.ts';
import { getCd, installCrds, testClient, testConnection } from '../harness/tidemark.ts';
import { browserUnavailable, SCREENSHOTS, TIDEMARK_BIN } from '../harness/browser.ts';
import { launchBrowser, texts, twoNamespaces } from '../harness/console.ts';
import { READ_CDS, serviceAccountToken } from '../harness/rbac.ts';

/**
 * `tidemark dashboard --in-cluster` in Chromium against the real API server: the login page with
 * a real ServiceAccount token (TokenRequest) of a user who may read one namespace, a wrong token,
 * Log out, and the failed-login limit — every check through the page or the API server.
 */

describe('the in-cluster console in Chromium', { skip: browserUnavailable ?? false }, () => {
  let cluster: ClusterAccess;
  let kube: KubeClient;
  let mine: string;
  let theirs: string;
  let dir: string;
  let dashboard: ManagedProcess;
  let origin: string;
  let browser: Browser;
  let page: Page;
  let token: string;

  before(async () => {
    cluster = await testCluster();
    await installCrds(cluster);
    kube = testClient(cluster);
    ({ mine, theirs } = await twoNamespaces(cluster, kube, 'console-login'));
    // A ServiceAccount that may read ContinuousDeployments in `mine` only; its token from the TokenRequest API.
    token = await serviceAccountToken(kube, mine, 'viewer', [READ_CDS]);

    dir = await mkdtemp(join(tmpdir(), 'tidemark-console-login-'));
    const ca = join(dir, 'ca.crt');
    await writeFile(ca, testConnection(cluster).tls.ca ?? '', { mode: 0o600 });
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    dashboard = await startProcess({
      name: 'tidemark dashboard --in-cluster',
      command: process.execPath,
      args: [
        TIDEMARK_BIN,
        'dashboard',
        '--in-cluster',
        `--port=${port}`,
        '--listen=127.0.0.1',
        `--host=127.0.0.1:${port}`,
        `--api-server=${cluster.server}`,
        `--api-ca=${ca}`,
        `--cache-dir=${join(dir, 'cache')}`,
        // Small enough to reach in a test: the third failed login from this address is the last.
        '--login-failures=3/10m',
      ],
      env: { ...process.env, KUBECONFIG: '', KUBERNETES_SERVICE_HOST: '', KUBERNETES_SERVICE_PORT: '' },
    });
    await waitFor(() => Promise.resolve(/Tidemark console \(in-cluster\)/.test(dashboard.tail(20))), {
      what: 'tidemark dashboard --in-cluster listens',
      timeoutMs: 60_000,
      watch: [dashboard],
    });

    ({ browser, page } = await launchBrowser(join(dir, 'profile'), { width: 1100, height: 700 }));
  });

  after(async () => {
    await browser?.close();
    await dashboard?.stop();
    await kube?.close();
    for (const namespace of [mine, theirs]) if (namespace) await cluster.deleteNamespace(namespace);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const logIn = async (secret: string, namespace: string) => {
    await page.goto(`${origin}/login`);
    await page.type('#token', secret);
    await page.type('#namespace', namespace);
    await Promise.all([page.waitForNavigation(), page.click('#login')]);
  };

  it('any page sends a browser without a session to the login page', async () => {
    await page.goto(`${origin}/`);
    assert.equal(page.url(), `${origin}/login`);
    assert.deepEqual(await texts(page, 'h1'), ['Log in']);
    assert.equal(await page.evaluate(`document.getElementById('problem').hidden`), true);
    await page.screenshot({ path: join(SCREENSHOTS, 'console-login.png') });
  });

  it('a wrong token: a clear error on the login page, no session', async () => {
    await logIn('not-a-token', mine);
    assert.equal(page.url(), `${origin}/login?failed=token`);
    await page.waitForSelector('#problem:not([hidden])');
    assert.match((await texts(page, '#problem'))[0] ?? '', /did not accept this token/);
    assert.deepEqual(await browser.cookies(), []);
  });

  it('a ServiceAccount token that may read one namespace: sees only it, and a Sync is refused with the reason', async () => {
    await logIn(token, mine);
    assert.equal(page.url(), `${origin}/`);
    await page.waitForSelector('body[data-live="synced"]');
    assert.deepEqual(await texts(page, '#scope'), [`Namespace ${mine}`]);
    const keys = (await page.evaluate(`[...document.querySelectorAll('tr[data-key]')].map((tr) => tr.dataset.key)`)) as string[];
    assert.deepEqual(keys, [`${mine}/site`]);
    const [cookie] = await browser.cookies();
    assert.equal(cookie?.name, 'tidemark_session');
    assert.equal(cookie?.httpOnly, true);
    assert.equal(cookie?.sameSite, 'Strict');
    assert.ok(!cookie?.value.includes(token.slice(0, 20)), 'the cookie holds a session id, not the token');

    const before = (await getCd(kube, mine, 'site'))?.metadata.annotations?.['tidemark.dev/requestedAt'];
    await page.click(`button[aria-label="Sync ${mine}/site"]`);
    await page.waitForFunction(`document.getElementById('status')?.textContent?.startsWith('Could not sync')`);
    const [said] = await texts(page, '#status');
    assert.match(said ?? '', new RegExp(`Kubernetes refused: .*"system:serviceaccount:${mine}:viewer" cannot patch`));
    assert.equal((await getCd(kube, mine, 'site'))?.metadata.annotations?.['tidemark.dev/requestedAt'], before, 'nothing written');
    await page.screenshot({ path: join(SCREENSHOTS, 'console-in-cluster-refused.png') });
  });

  it('Log out ends the session: the old cookie opens nothing', async () => {
    const [cookie] = await browser.cookies();
    assert.ok(cookie);
    await page.waitForSelector('#logout');
    await Promise.all([page.waitForNavigation(), page.click('#logout')]);
    assert.equal(page.url(), `${origin}/login`);
    // The same cookie again, as if it had been copied before the logout.
    await browser.setCookie(cookie);
    const status = await page.evaluate(`fetch('/api/session').then((res) => res.status)`);
    assert.equal(status, 401);
  });

  it('past the failed logins of this address: the page says to wait, and even a good token waits', async () => {
    await logIn('still-not-a-token', mine);
    assert.equal(page.url(), `${origin}/login?failed=token`);
    await logIn('not-a-token-either', mine);
    assert.equal(page.url(), `${origin}/login?failed=token`);
    const response = page.waitForResponse((res) => res.url() === `${origin}/login` && res.request().method() === 'POST');
    await logIn(token, mine);
    const refused = await response;
    assert.equal(refused.status(), 429);
    assert.match(refused.headers()['retry-after'] ?? '', /^\d+$/);
    assert.match((await texts(page, '#problem'))[0] ?? '', /^Too many failed logins from your address\. Try again in \d+ minutes?\.$/);
    await page.screenshot({ path: join(SCREENSHOTS, 'console-login-limited.png') });
  });
});
