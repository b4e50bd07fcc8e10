import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import type { KubeClient } from '../../shared/kube/client.ts';
import { testCluster } from '../harness/cluster.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { startGitServers } from '../harness/git.ts';
import type { GitServers } from '../harness/git.ts';
import { waitFor } from '../harness/process.ts';
import type { ManagedProcess } from '../harness/process.ts';
import { applyCd, cdPath, getCd, installCrds, testClient } from '../harness/tidemark.ts';
import { browserUnavailable, SCREENSHOTS } from '../harness/browser.ts';
import { dashboardAs, launchBrowser, startDashboard, texts } from '../harness/console.ts';
import { grantRole, READ_CDS } from '../harness/rbac.ts';

/**
 * The console in a real browser (Debian's chromium, driven by puppeteer-core) against the real
 * API server: `tidemark dashboard` runs as the user would start it, the test opens the URL it
 * prints, and every check goes through the page or the API server — no fakes.
 */

/** A plain HTTP request to the console from this process: another local user, with no browser and no cookie. */
function call(port: number, method: string, path: string, host = `127.0.0.1:${port}`): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { host, origin: `http://127.0.0.1:${port}` } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The first `columns` cells of each row of a table body. */
async function table(page: Page, tbody: string, columns: number): Promise<string[][]> {
  const rows = `[...document.querySelectorAll(${JSON.stringify(`${tbody} tr`)})]`;
  const code = `${rows}.map((tr) => [...tr.cells].slice(0, ${columns}).map((c) => c.textContent))`;
  return (await page.evaluate(code)) as string[][];
}

describe('the web console in Chromium', { skip: browserUnavailable ?? false }, () => {
  let cluster: ClusterAccess;
  let kube: KubeClient;
  let ns: string;
  let dashboard: ManagedProcess;
  let loginUrl: string;
  let port: number;
  let browser: Browser;
  let page: Page;
  let profile: string;
  let scoped: ManagedProcess | undefined;
  let git: GitServers | undefined;

  before(async () => {
    cluster = await testCluster();
    await installCrds(cluster);
    kube = testClient(cluster);
    ns = await cluster.createNamespace('console');
    await applyCd(kube, {
      metadata: { name: 'existing', namespace: ns },
      spec: { url: 'https://git.example/platform.git', path: 'base', pullInterval: '1h' },
    });
    ({ process: dashboard, loginUrl, port } = await startDashboard(cluster.kubeconfigPath));
    profile = await mkdtemp(join(tmpdir(), 'tidemark-chromium-'));
    ({ browser, page } = await launchBrowser(profile, { width: 1360, height: 820 }, [
      // A name that resolves to the console's address, as a DNS-rebinding attack would make it.
      '--host-resolver-rules=MAP rebind.test 127.0.0.1',
    ]));
  });

  after(async () => {
    await browser?.close();
    await dashboard?.stop();
    await scoped?.stop();
    await git?.stop();
    await kube?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  it('the printed URL logs in and lands on the list, which shows what exists', async () => {
    await page.goto(loginUrl);
    assert.equal(page.url(), `http://127.0.0.1:${port}/`, 'the token left the address bar');
    await page.waitForSelector('body[data-live="synced"]');
    await page.waitForSelector(`tr[data-key="${ns}/existing"]`);
    const cookies = await browser.cookies();
    const session = cookies.find((c) => c.name === `tidemark_session_${port}`);
    assert.ok(session, 'a session cookie');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.equal(await page.evaluate('document.cookie'), '', 'page scripts cannot read it');
  });

  it('a ContinuousDeployment created through the API appears without a reload', async () => {
    const marker = (await page.evaluate('window.marker = Math.random()')) as number;
    await applyCd(kube, {
      metadata: { name: 'web', namespace: ns, annotations: { 'kubesphere.io/alias-name': 'Web <shop>' } },
      spec: { url: 'https://git.example/shop.git', path: 'deploy/prod', git: { branch: 'main' }, pullInterval: '1h' },
    });
    await kube.rest.request({
      method: 'PATCH',
      path: `${cdPath(ns, 'web')}/status`,
      contentType: 'application/merge-patch+json',
      body: { status: statusFor(ns) },
    });
    const row = `tr[data-key="${ns}/web"]`;
    await page.waitForSelector(row);
    await page.waitForFunction(`document.querySelector('${row} td.health')?.textContent === 'Degraded'`);
    assert.equal(await page.evaluate('window.marker'), marker, 'the same page, not reloaded');
    const cells = await texts(page, `${row} td`);
    assert.equal(cells[0], `Web <shop>web · ${ns}`, 'the alias as text, not markup');
    assert.equal(cells[2], 'OutOfSync');
    assert.equal(cells[3], `in-cluster / ${ns}`);
    assert.equal(cells[4], 'main@4a1c2e9');
    assert.equal(await page.$(`${row} shop`), null, 'no element made from data');
    await page.screenshot({ path: join(SCREENSHOTS, 'console-list.png') });
  });

  it('filters and search narrow the list', async () => {
    const hidden = (name: string) => `document.querySelector('tr[data-key="${ns}/${name}"]')?.hidden`;
    await page.select('#f-health', 'Degraded');
    await page.waitForFunction(`${hidden('existing')} === true`);
    assert.equal(await page.evaluate(hidden('web')), false);
    await page.select('#f-health', '');
    await page.type('#search', 'shop');
    await page.waitForFunction(`${hidden('existing')} === true`);
    assert.equal(await page.evaluate(hidden('web')), false);
    await page.click('#search', { count: 3 });
    await page.keyboard.press('Backspace');
    await page.waitForFunction(`${hidden('existing')} === false`);
  });

  it('Sync sets the requestedAt annotation', async () => {
    assert.equal((await getCd(kube, ns, 'web'))?.metadata.annotations?.['tidemark.dev/requestedAt'], undefined);
    await page.click(`button[aria-label="Sync ${ns}/web"]`);
    await waitFor(async () => (await getCd(kube, ns, 'web'))?.metadata.annotations?.['tidemark.dev/requestedAt'] !== undefined, {
      what: 'the requestedAt annotation',
      timeoutMs: 30_000,
    });
    await page.waitForFunction(`document.getElementById('status')?.textContent?.startsWith('Sync requested')`);
  });

  it('a change without the CSRF token is refused (403), and nothing is written', async () => {
    const before = (await getCd(kube, ns, 'web'))?.metadata.resourceVersion;
    const status = await page.evaluate(`fetch('/api/cds/${ns}/web/sync', { method: 'POST' }).then((res) => res.status)`);
    assert.equal(status, 403);
    assert.equal((await getCd(kube, ns, 'web'))?.metadata.resourceVersion, before);
  });

  it('another local user, without the cookie, is refused (401); the spent login URL opens nothing', async () => {
    assert.equal(await call(port, 'POST', `/api/cds/${ns}/web/sync`), 401);
    assert.equal(await call(port, 'GET', '/api/events'), 401);
    const other = await browser.createBrowserContext();
    try {
      const stranger = await other.newPage();
      const response = await stranger.goto(loginUrl);
      assert.equal(response?.status(), 401);
    } finally {
      await other.close();
    }
  });

  it('a page under another host name (DNS rebinding) is refused', async () => {
    assert.equal(await call(port, 'GET', '/', `rebind.test:${port}`), 403);
    const other = await browser.createBrowserContext();
    try {
      const response = await (await other.newPage()).goto(`http://rebind.test:${port}/`);
      assert.equal(response?.status(), 403);
    } finally {
      await other.close();
    }
  });

  it('the details page: source, conditions, managed resources, events', async () => {
    await kube.rest.request({
      method: 'POST',
      path: `/api/v1/namespaces/${ns}/events`,
      body: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `web.${Date.now()}`, namespace: ns },
        involvedObject: { apiVersion: 'tidemark.dev/v1alpha1', kind: 'ContinuousDeployment', name: 'web', namespace: ns },
        type: 'Warning',
        reason: 'ApplyFailed',
        message: 'Deployment/web: spec.replicas: Invalid value: -1',
        source: { component: 'tidemark-agent' },
        firstTimestamp: new Date().toISOString(),
        lastTimestamp: new Date().toISOString(),
        count: 1,
      },
    });
    await page.click(`tr[data-key="${ns}/web"] a.name`);
    await page.waitForSelector('body[data-live="synced"]');
    assert.deepEqual(await texts(page, '#title'), ['Web <shop>']);
    const facts = await texts(page, '#source dd');
    assert.deepEqual(facts.slice(0, 4), [
      'https://git.example/shop.git',
      'branch main',
      'deploy/prod',
      'main@sha1:4a1c2e9f00000000000000000000000000000000',
    ]);
    const conditions = await table(page, '#conditions', 3);
    assert.deepEqual(conditions, [['Ready', 'False', 'ApplyFailed']]);
    const resources = await table(page, '#resources', 5);
    assert.deepEqual(resources, [
      ['Deployment', ns, 'web', 'Degraded', 'OutOfSync'],
      ['ConfigMap', ns, 'web-config', 'Healthy', 'Synced'],
    ]);
    assert.deepEqual(await table(page, '#history', 4), [
      ['main@4a1c2e9', 'web: two replicas', 'Failed', `webhook (receiver/${ns}/github)`],
      ['main@93b0d7a', 'Update image automatically. web to 1.4.2', 'Succeeded', 'bot commit (image update)'],
    ]);
    await page.waitForFunction(`document.querySelector('#events td:nth-child(2)')?.textContent === 'ApplyFailed'`);
    await page.screenshot({ path: join(SCREENSHOTS, 'console-details.png'), fullPage: true });
  });

  it('Edit information, and Edit YAML: problems by field (our reader, then the dry run), nothing written until valid', async () => {
    await page.click('#do-info');
    await page.waitForSelector('#info-dialog[open]');
    await page.click('#info-dialog input[name=alias]', { count: 3 });
    await page.type('#info-dialog input[name=alias]', 'Web shop');
    await page.type('#info-dialog textarea[name=description]', 'The storefront');
    await page.click('#info-dialog button[type=submit]');
    await page.waitForFunction(`document.getElementById('title')?.textContent === 'Web shop'`);
    const annotations = (await getCd(kube, ns, 'web'))?.metadata.annotations ?? {};
    assert.equal(annotations['kubesphere.io/alias-name'], 'Web shop');
    assert.equal(annotations['kubesphere.io/description'], 'The storefront');

    await page.click('#do-yaml');
    await page.waitForFunction(`document.querySelector('#yaml-dialog textarea')?.value.includes('path: deploy/prod')`);
    const original = (await page.evaluate(`document.querySelector('#yaml-dialog textarea').value`)) as string;
    const version = (await getCd(kube, ns, 'web'))?.metadata.resourceVersion;
    const setYaml = (text: string) => page.evaluate(`document.querySelector('#yaml-dialog textarea').value = ${JSON.stringify(text)}`);

    await setYaml(original.replace('pullInterval: 1h', 'pullInterval: often'));
    await page.click('#yaml-dialog button[type=submit]');
    await page.waitForSelector('#yaml-dialog .problems:not([hidden])');
    assert.deepEqual(await texts(page, '#yaml-dialog .problems code'), ['spec.pullInterval']);

    // A label value the API server refuses and our reader does not check: only its dry run can say.
    await setYaml(original.replace('metadata:\n', 'metadata:\n  labels:\n    team: "not a valid value!"\n'));
    await page.click('#yaml-dialog button[type=submit]');
    await page.waitForFunction(`document.querySelector('#yaml-dialog .problems code')?.textContent === 'metadata.labels'`);
    assert.equal((await getCd(kube, ns, 'web'))?.metadata.resourceVersion, version, 'nothing written');
    await page.screenshot({ path: join(SCREENSHOTS, 'console-edit-yaml.png') });

    await setYaml(original.replace('path: deploy/prod', 'path: deploy/staging'));
    await page.click('#yaml-dialog button[type=submit]');
    await page.waitForSelector('#yaml-dialog:not([open])');
    assert.equal((await getCd(kube, ns, 'web'))?.spec.path, 'deploy/staging');
    await page.waitForFunction(`[...document.querySelectorAll('#source dd')].some((dd) => dd.textContent === 'deploy/staging')`);
  });

  it('the details compare with Git: the commit (a bot commit marked), each differing object as a diff, Secret values masked', async () => {
    git = await startGitServers({ http: false, ssh: false });
    const secret = 'git-side-password';
    await git.repos.createRepo(
      'shop',
      {
        'deploy/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop\ndata:\n  color: blue\n',
        'deploy/secret.yaml': `apiVersion: v1\nkind: Secret\nmetadata:\n  name: shop-db\nstringData:\n  password: ${secret}\n`,
      },
      { message: 'Add the shop', author: { name: 'Ada Lovelace', email: 'ada@example.test' } },
    );
    const sha = await git.repos.commitFiles(
      'shop',
      'main',
      { 'deploy/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop\ndata:\n  color: green\n' },
      'Update image automatically.\n\nshop: 1.0.0 -> 1.1.0\n',
      { author: { name: 'tidemark-bot', email: 'tidemark-bot@users.noreply.tidemark.dev' } },
    );
    // What is live differs from Git: someone changed the ConfigMap by hand.
    await kube.rest.request({
      method: 'POST',
      path: `/api/v1/namespaces/${ns}/configmaps`,
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shop' }, data: { color: 'red' } },
    });
    await applyCd(kube, {
      metadata: { name: 'shop', namespace: ns },
      spec: { url: git.repos.fileUrl('shop'), path: 'deploy', pullInterval: '1h' },
    });
    await kube.rest.request({
      method: 'PATCH',
      path: `${cdPath(ns, 'shop')}/status`,
      contentType: 'application/merge-patch+json',
      body: { status: { sync: { status: 'OutOfSync', revision: `main@sha1:${sha}` }, health: { status: 'Healthy' } } },
    });

    await page.goto(`http://127.0.0.1:${port}/cd?namespace=${ns}&name=shop`);
    await page.waitForSelector('body[data-compared="yes"]');
    const [commit] = await texts(page, '#commit');
    assert.match(commit ?? '', /^main@[0-9a-f]{7} Update image automatically\. by tidemark-bot · .* bot commit$/);
    const facts = await texts(page, '#source dt, #source dd');
    assert.equal(facts[facts.indexOf('Commit') + 1], 'Update image automatically. — tidemark-bot (bot)');
    assert.deepEqual(await texts(page, '#changes summary'), [`create Secret/${ns}/shop-db`, `update ConfigMap/${ns}/shop`]);
    assert.deepEqual(await texts(page, '#changes .diff .del'), ['-  color: red']);
    assert.ok((await texts(page, '#changes .diff .add')).includes('+  color: green'));
    const html = (await page.evaluate('document.documentElement.outerHTML')) as string;
    assert.ok(!html.includes(secret) && !html.includes(Buffer.from(secret).toString('base64')), 'no Secret value in the page');
    await page.screenshot({ path: join(SCREENSHOTS, 'console-compare.png'), fullPage: true });

    // Put the color back as Git has it: comparing again shows the ConfigMap's color no longer differs.
    await kube.rest.request({
      method: 'PATCH',
      path: `/api/v1/namespaces/${ns}/configmaps/shop`,
      contentType: 'application/merge-patch+json',
      body: { data: { color: 'green' } },
    });
    await page.click('#do-compare');
    await page.waitForFunction(
      `![...document.querySelectorAll('#changes .diff .del')].some((line) => line.textContent === '-  color: red')`,
    );
    await page.waitForSelector('body[data-compared="yes"]');
    assert.ok(!(await texts(page, '#changes .diff .add')).includes('+  color: green'));
    await kube.rest.request({ method: 'DELETE', path: cdPath(ns, 'shop') });
  });

  it('create through the form: problems beside their fields (our reader, then the API server on the name), then it exists', async () => {
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.click('#create');
    await page.waitForSelector('body[data-live="synced"]');
    const fill = async (name: string, text: string) => {
      await page.click(`[name=${name}]`, { count: 3 });
      await page.keyboard.press('Backspace');
      await page.type(`[name=${name}]`, text);
    };
    assert.deepEqual(await texts(page, '#steps button'), [
      '1. Basic Information',
      '2. Deployment Settings',
      '3. Code Repository Settings',
      '4. Sync Strategy',
      '5. Sync Settings',
      '6. Prune Propagation Policy',
      '7. Replace Resources',
      '8. Image Automation',
    ]);
    await fill('name', 'web');
    await fill('alias', 'Made in the form');
    await page.click('#next');
    await fill('namespace', ns);
    await page.click('#next');
    await fill('refValue', 'release');
    await fill('path', 'deploy/prod');
    await fill('pullInterval', 'often');
    await page.click('#next');
    await page.click('input[name=syncMode][value=manual]');
    await page.click('#next');
    await page.click('input[name=createNamespace]');
    await page.click('#next');
    await page.click('input[name=prunePropagationPolicy][value=foreground]');
    await page.click('#steps button:nth-of-type(1)');
    await page.click('#steps li:nth-child(8) button');
    await page.click('input[name=imageEnabled]');
    await fill('image', 'registry.example/shop');
    await fill('policyValue', '>=1.0.0');
    await page.click('#create');
    // Our reader: the URL is missing, the interval is not a duration. The form goes to the first.
    await page.waitForSelector('.field-problem');
    const problems = async () =>
      (await page.evaluate(
        `[...document.querySelectorAll('.field-problem')].map((p) => p.closest('[data-field]').dataset.field)`,
      )) as string[];
    assert.deepEqual(await problems(), ['spec.url', 'spec.pullInterval']);
    assert.equal(await page.evaluate(`document.activeElement?.name`), 'url', 'the first problem has the focus');
    const marked = (await page.evaluate(
      `[...document.querySelectorAll('#steps button.has-problem')].map((b) => b.textContent)`,
    )) as string[];
    assert.deepEqual(marked, ['1. Basic Information', '3. Code Repository Settings']);
    assert.equal(await page.evaluate(`document.querySelector('fieldset[data-title="Basic Information"]').hidden`), false);
    await page.screenshot({ path: join(SCREENSHOTS, 'console-create-problems.png') });
    assert.equal(await getCd(kube, ns, 'web').then((cd) => cd?.metadata.annotations?.['kubesphere.io/alias-name']), 'Web shop');

    await fill('url', 'https://git.example/made.git');
    await page.click('#steps li:nth-child(3) button');
    await fill('pullInterval', '10m');
    await page.click('#create');
    // The API server's answer in the dry run: the name is taken in this namespace.
    await page.waitForFunction(
      `document.querySelector('[data-field="metadata.name"] .field-problem')?.textContent?.endsWith('exists already')`,
    );
    assert.deepEqual(await problems(), ['metadata.name']);

    await fill('name', 'made');
    await page.click('#create');
    await page.waitForFunction(`location.pathname === '/cd'`);
    await page.waitForSelector('body[data-live="synced"]');
    assert.deepEqual(await texts(page, '#title'), ['Made in the form']);
    const made = await getCd(kube, ns, 'made');
    // What the form said (the CRD's defaults fill the rest).
    const spec = made?.spec;
    assert.equal(spec?.url, 'https://git.example/made.git');
    assert.deepEqual(spec?.git, { branch: 'release' });
    assert.deepEqual([spec?.path, spec?.pullInterval, spec?.prune], ['deploy/prod', '10m', true]);
    const policy = spec?.syncPolicy;
    assert.deepEqual(
      [policy?.manual, policy?.selfHeal, policy?.createNamespace, policy?.pruneLast, policy?.prunePropagationPolicy],
      [true, true, true, false, 'foreground'],
    );
    assert.equal(spec?.imageRepository?.image, 'registry.example/shop');
    assert.deepEqual(spec?.imageRepository?.policy, { semver: { range: '>=1.0.0' } });
    await kube.rest.request({ method: 'DELETE', path: cdPath(ns, 'made') });
  });

  it('Code repositories: import with a credential (the console writes the Secret, never shows it again), offered by Create', async () => {
    const password = 'repo-password-9f3a';
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.click('nav.sections a[href="/repositories"]');
    await page.waitForSelector('body[data-loaded="yes"]');
    await page.click('#import');
    await page.waitForSelector('#import-dialog[open]');
    await page.type('#import-dialog [name=name]', 'shop-repo');
    await page.type('#import-dialog [name=namespace]', ns);
    await page.type('#import-dialog [name=url]', 'ftp://git.example/shop.git');
    await page.select('#import-dialog [name=credential]', 'basic');
    await page.type('#import-dialog [name=username]', 'deployer');
    await page.type('#import-dialog [name=password]', password);
    await page.click('#import-dialog button[type=submit]');
    await page.waitForSelector('#import-dialog [data-field="url"] .field-problem');
    await page.click('#import-dialog [name=url]', { count: 3 });
    await page.type('#import-dialog [name=url]', 'https://git.example/shop.git');
    await page.click('#import-dialog button[type=submit]');
    await page.waitForSelector(`tr[data-key="${ns}/shop-repo"]`);
    assert.deepEqual(
      (await table(page, '#repositories', 4)).find((row) => row[0] === 'shop-repo'),
      ['shop-repo', ns, 'https://git.example/shop.git', 'Username and password'],
    );
    const secret = await kube.rest.request<{ data: Record<string, string> }>({
      method: 'GET',
      path: `/api/v1/namespaces/${ns}/secrets/shop-repo`,
    });
    assert.equal(Buffer.from(secret.data.password ?? '', 'base64').toString(), password);
    assert.equal(Buffer.from(secret.data.username ?? '', 'base64').toString(), 'deployer');
    const listed = (await page.evaluate(`fetch('/api/repositories').then((res) => res.text())`)) as string;
    const html = (await page.evaluate('document.documentElement.outerHTML')) as string;
    for (const text of [listed, html]) {
      assert.ok(!text.includes(password) && !text.includes(secret.data.password ?? '-'), 'the password is not sent back');
    }
    await page.screenshot({ path: join(SCREENSHOTS, 'console-repositories.png') });

    await page.goto(`http://127.0.0.1:${port}/new`);
    await page.waitForFunction(`[...document.querySelectorAll('[name=repository] option')].some((o) => o.value === '${ns}/shop-repo')`);
    await page.select('[name=repository]', `${ns}/shop-repo`);
    const value = (name: string) => page.evaluate(`document.querySelector('[name=${name}]').value`);
    assert.deepEqual(
      [await value('url'), await value('secretRef'), await value('namespace')],
      ['https://git.example/shop.git', 'shop-repo', ns],
    );
  });

  it('Images: repositories (latest tags, last scan), policies (the chosen image), automations (the last bot commit)', async () => {
    const base = `/apis/tidemark.dev/v1alpha1/namespaces/${ns}`;
    const now = new Date().toISOString();
    const ready = (message: string) => [{ type: 'Ready', status: 'True', reason: 'Succeeded', message, lastTransitionTime: now }];
    const make = async (plural: string, kind: string, spec: unknown, status: unknown) => {
      await kube.rest.request({
        method: 'POST',
        path: `${base}/${plural}`,
        body: { apiVersion: 'tidemark.dev/v1alpha1', kind, metadata: { name: 'shop' }, spec },
      });
      await kube.rest.request({
        method: 'PATCH',
        path: `${base}/${plural}/shop/status`,
        contentType: 'application/merge-patch+json',
        body: { status },
      });
    };
    await make(
      'imagerepositories',
      'ImageRepository',
      { image: 'registry.example/shop' },
      {
        lastScanResult: { tagCount: 3, scanTime: now, latestTags: ['1.2.0', '1.1.0', '1.0.0'] },
        conditions: ready('3 tags'),
      },
    );
    await make(
      'imagepolicies',
      'ImagePolicy',
      { imageRepositoryRef: { name: 'shop' }, policy: { semver: { range: '>=1.0.0' } } },
      {
        latestRef: { name: 'registry.example/shop', tag: '1.2.0' },
        conditions: ready('latest 1.2.0'),
      },
    );
    const commit = 'c0ffee1234567890c0ffee1234567890c0ffee12';
    await make(
      'imageupdateautomations',
      'ImageUpdateAutomation',
      { sourceRef: { name: 'web' } },
      {
        lastAutomationRunTime: now,
        lastPushCommit: commit,
        lastPushTime: now,
        conditions: ready(`pushed ${commit}`),
      },
    );
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.click('nav.sections a[href="/images"]');
    await page.waitForSelector('body[data-loaded="yes"]');
    const row = async (tbody: string) => (await table(page, tbody, 5)).find((cells) => cells[0]?.startsWith('shop'));
    assert.deepEqual(await row('#repositories'), [`shop · ${ns}`, 'registry.example/shop', '1.2.0, 1.1.0, 1.0.0', 'just now', 'True']);
    assert.deepEqual(await row('#policies'), [`shop · ${ns}`, `${ns}/shop`, 'semver >=1.0.0', 'registry.example/shop:1.2.0', 'True']);
    assert.deepEqual(await row('#automations'), [`shop · ${ns}`, 'web', 'just now', 'c0ffee1 just now', 'True']);
    await page.screenshot({ path: join(SCREENSHOTS, 'console-images.png'), fullPage: true });
  });

  it('Delete says what it does and, with the orphan choice, keeps the resources (the annotation the agent reads)', async () => {
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForSelector(`tr[data-key="${ns}/existing"]`);
    // A finalizer stands in for the agent's, so the deletion waits and the annotation can be read.
    await kube.rest.request({
      method: 'PATCH',
      path: cdPath(ns, 'existing'),
      contentType: 'application/merge-patch+json',
      body: { metadata: { finalizers: ['tidemark.dev/finalizer'] } },
    });
    await page.click(`button[aria-label="Delete ${ns}/existing"]`);
    await page.waitForSelector('#delete-dialog[open]');
    assert.match((await texts(page, '#delete-dialog .effect')).join(), /also deletes every resource it deployed/);
    await page.click('#delete-dialog input[name=orphan]');
    assert.match((await texts(page, '#delete-dialog .effect')).join(), /stay in the cluster/);
    await page.screenshot({ path: join(SCREENSHOTS, 'console-delete.png') });
    await page.click('#delete-dialog button[value=delete]');
    await waitFor(async () => (await getCd(kube, ns, 'existing'))?.metadata.deletionTimestamp !== undefined, {
      what: 'existing being deleted',
      timeoutMs: 30_000,
    });
    const cd = await getCd(kube, ns, 'existing');
    assert.equal(cd?.metadata.annotations?.['tidemark.dev/deletion-policy'], 'orphan');
    await page.waitForFunction(`document.querySelector('tr[data-key="${ns}/existing"] td.health')?.textContent === 'Deleting'`);
    await kube.rest.request({
      method: 'PATCH',
      path: cdPath(ns, 'existing'),
      contentType: 'application/merge-patch+json',
      body: { metadata: { finalizers: null } },
    });
    await page.waitForFunction(`document.querySelector('tr[data-key="${ns}/existing"]') === null`);
  });

  it('a user who may only read one namespace sees only it, and a Sync is refused with the reason', async () => {
    const other = await cluster.createNamespace('console-other');
    await applyCd(kube, { metadata: { name: 'hidden', namespace: other }, spec: { url: 'https://git.example/x.git' } });
    await grantRole(kube, ns, 'alice', [READ_CDS]);
    const alice = await dashboardAs(cluster, 'alice', ns, browser, profile, { width: 900, height: 600 });
    scoped = alice.process;
    const { view } = alice;
    try {
      // A small laptop window (above): the list must still fit.
      assert.deepEqual(await texts(view, '#scope'), [`Namespace ${ns}`]);
      const keys = (await view.evaluate(`[...document.querySelectorAll('tr[data-key]')].map((tr) => tr.dataset.key)`)) as string[];
      assert.deepEqual(keys, [`${ns}/web`], 'only what alice may list');
      const before = (await getCd(kube, ns, 'web'))?.metadata.annotations?.['tidemark.dev/requestedAt'];
      await view.click(`button[aria-label="Sync ${ns}/web"]`);
      await view.waitForFunction(`document.getElementById('status')?.textContent?.startsWith('Could not sync')`);
      const [said] = await texts(view, '#status');
      assert.match(said ?? '', /Kubernetes refused: .*"alice" cannot patch/);
      assert.equal((await getCd(kube, ns, 'web'))?.metadata.annotations?.['tidemark.dev/requestedAt'], before);
      await view.screenshot({ path: join(SCREENSHOTS, 'console-refused.png') });
    } finally {
      await alice.close();
    }
  });

  it('SIGTERM (as Ctrl+C) stops the dashboard cleanly while a page holds its event stream open', async () => {
    assert.equal(await page.evaluate(`document.body.dataset.live`), 'synced', 'the list page is still connected');
    const exit = await dashboard.stop(30_000);
    assert.deepEqual(exit, { code: 0, signal: null });
  });
});

function statusFor(ns: string): Record<string, unknown> {
  const now = new Date().toISOString();
  return {
    sync: { status: 'OutOfSync', revision: 'main@sha1:4a1c2e9f00000000000000000000000000000000' },
    health: { status: 'Degraded', message: 'Deployment/web: 0 of 2 replicas available' },
    lastSyncTime: now,
    location: { cluster: 'in-cluster', namespace: ns },
    // As the agent writes it (agent/history.ts); the CRD schema must keep every field.
    history: [
      {
        revision: 'main@sha1:4a1c2e9f00000000000000000000000000000000',
        subject: 'web: two replicas',
        startedAt: now,
        finishedAt: now,
        result: 'Failed',
        reason: 'ApplyFailed',
        message: 'Deployment/web: spec.replicas: Invalid value: -1',
        trigger: 'Webhook',
        requestedBy: `receiver/${ns}/github`,
      },
      {
        revision: 'main@sha1:93b0d7aa00000000000000000000000000000000',
        subject: 'Update image automatically. web to 1.4.2',
        startedAt: now,
        finishedAt: now,
        result: 'Succeeded',
        trigger: 'ImagePush',
      },
    ],
    conditions: [
      {
        type: 'Ready',
        status: 'False',
        reason: 'ApplyFailed',
        message: 'Deployment/web: spec.replicas: Invalid value: -1 (fix the manifest in Git)',
        lastTransitionTime: now,
      },
    ],
    resources: [
      {
        group: 'apps',
        version: 'v1',
        kind: 'Deployment',
        namespace: ns,
        name: 'web',
        status: 'OutOfSync',
        health: { status: 'Degraded', message: '0 of 2 replicas available' },
      },
      { version: 'v1', kind: 'ConfigMap', namespace: ns, name: 'web-config', status: 'Synced', health: { status: 'Healthy' } },
    ],
  };
}
