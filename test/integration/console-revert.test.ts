import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import { useAgentWorld } from '../harness/agent-world.ts';
import type { ManagedProcess } from '../harness/process.ts';
import { applyCd, getObject, requestSync, waitForCd } from '../harness/tidemark.ts';
import { browserUnavailable, SCREENSHOTS } from '../harness/browser.ts';
import { dashboardAs, launchBrowser, logIn, startDashboard, texts } from '../harness/console.ts';
import { grantRole, READ_CDS } from '../harness/rbac.ts';

/**
 * Revert from the console, the GitOps way, in a real browser: `tidemark dashboard` against the real
 * API server, a real agent, and a Git server over HTTP with a writer and a reader credential.
 * Clicking Revert pushes a `git revert` commit with the deployment's credentials and the agent
 * deploys it; a read-only credential leaves the button disabled with its reason.
 */

const configMap = (color: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop\ndata:\n  color: ${color}\n`;

describe('Revert from the console in Chromium', { skip: browserUnavailable ?? false }, () => {
  const world = useAgentWorld('console-revert', { http: true });
  let dashboard: ManagedProcess | undefined;
  let scoped: ManagedProcess | undefined;
  let loginUrl: string;
  let port: number;
  let browser: Browser;
  let page: Page;
  let profile: string;
  let green: string;

  before(async () => {
    const { kube, git, ns, apps, cluster } = world();
    const http = git.http!;
    await git.repos.createRepo(
      'shop',
      { 'deploy/cm.yaml': configMap('blue'), 'read-only/cm.yaml': configMap('blue').replace('name: shop', 'name: shop-ro') },
      { message: 'shop: blue' },
    );
    for (const [name, user] of [
      ['shop-writer', http.writer],
      ['shop-reader', http.reader],
    ] as const) {
      await kube.rest.request({
        method: 'POST',
        path: `/api/v1/namespaces/${ns}/secrets`,
        body: { apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData: { username: user.username, password: user.password } },
      });
    }
    for (const [name, secretRef] of [
      ['shop', 'shop-writer'],
      ['shop-ro', 'shop-reader'],
    ] as const) {
      await applyCd(kube, {
        metadata: { name, namespace: ns },
        spec: {
          url: http.url('shop'),
          secretRef,
          path: name === 'shop' ? 'deploy' : 'read-only',
          targetNamespace: apps,
          pullInterval: '1h',
        },
      });
    }
    await waitForCd(kube, ns, 'shop', (cd) => (cd.status?.history?.length ?? 0) >= 1, 'the first sync of shop');
    green = await git.repos.commitFiles('shop', 'main', { 'deploy/cm.yaml': configMap('green') }, 'shop: green');
    await requestSync(kube, ns, 'shop');
    await waitForCd(kube, ns, 'shop', (cd) => cd.status?.lastAppliedRevision === `main@sha1:${green}`, 'shop synced at green');
    await waitForCd(kube, ns, 'shop-ro', (cd) => (cd.status?.history?.length ?? 0) >= 1, 'a sync of shop-ro');

    ({ process: dashboard, loginUrl, port } = await startDashboard(cluster.kubeconfigPath));
    profile = await mkdtemp(join(tmpdir(), 'tidemark-chromium-'));
    ({ browser, page } = await launchBrowser(profile, { width: 1360, height: 900 }));
    await logIn(page, loginUrl);
  });

  after(async () => {
    await browser?.close();
    await dashboard?.stop();
    await scoped?.stop();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  it('Revert on an entry pushes a revert commit with the trailer, and the agent deploys it', async () => {
    const { kube, git, ns, apps } = world();
    await page.goto(`http://127.0.0.1:${port}/cd?namespace=${ns}&name=shop`);
    await page.waitForSelector('body[data-reverts="loaded"]');
    // A change without the page's CSRF token is refused before anything is cloned or pushed.
    const body = JSON.stringify(JSON.stringify({ revision: `main@sha1:${green}` }));
    const forged = `fetch('/api/cds/${ns}/shop/revert', { method: 'POST', body: ${body} })`;
    assert.equal(await page.evaluate(`${forged}.then((res) => res.status)`), 403);
    assert.equal(await git.repos.head('shop', 'main'), green, 'nothing pushed');

    const button = `button[aria-label="Revert main@${green.slice(0, 7)}"]`;
    await page.waitForSelector(`${button}:not([disabled])`);
    await page.click(button);
    await page.waitForSelector('#revert-dialog[open]');
    assert.match((await texts(page, '#revert-dialog .effect')).join(), /Pushes a commit to main of .* that undoes “shop: green”/);
    await page.screenshot({ path: join(SCREENSHOTS, 'console-revert-confirm.png') });
    await page.click('#revert-dialog button[value=revert]');
    await page.waitForFunction(
      `[...document.querySelectorAll('#history td.revert .outcome')].some((o) => o.textContent.startsWith('Pushed'))`,
    );

    const [tip] = await git.repos.readLog('shop', 'main');
    assert.ok(tip);
    assert.match(tip.message, /^Revert "shop: green"\n\nThis reverts commit [0-9a-f]{40}\.\n\nReverted-by: \S+/);
    assert.ok(tip.message.includes(`This reverts commit ${green}.`));
    assert.equal(tip.authorEmail, 'tidemark-bot@users.noreply.tidemark.dev');
    assert.equal(await git.repos.readFile('shop', 'main', 'deploy/cm.yaml'), configMap('blue'));

    // The console asked for a sync: the agent applies the revert, the ConfigMap is blue again.
    await waitForCd(kube, ns, 'shop', (cd) => cd.status?.lastAppliedRevision === `main@sha1:${tip.sha}`, 'shop synced at the revert');
    const cm = await getObject(kube, `/api/v1/namespaces/${apps}/configmaps/shop`);
    assert.equal((cm?.data as Record<string, string> | undefined)?.color, 'blue');
    const synced = await waitForCd(kube, ns, 'shop', (cd) => cd.status?.history?.[0]?.revision === `main@sha1:${tip.sha}`, 'its entry');
    assert.match(synced.status?.history?.[0]?.requestedBy ?? '', /^console\//);

    // The page shows the new entry; the reverted one says it is reverted already.
    await page.waitForFunction(`document.querySelector('#history tr td')?.textContent === 'main@${tip.sha.slice(0, 7)}'`);
    await page.waitForFunction(
      `[...document.querySelectorAll('#history td.revert .reason')].some((r) => r.textContent.startsWith('Already reverted'))`,
    );
    const html = (await page.evaluate('document.documentElement.outerHTML')) as string;
    assert.ok(!html.includes(git.http!.writer.password), 'no credential in the page');
    await page.screenshot({ path: join(SCREENSHOTS, 'console-revert.png'), fullPage: true });
  });

  it('a deployment whose credential may only read shows the button disabled, with the reason', async () => {
    const { git, ns } = world();
    await page.goto(`http://127.0.0.1:${port}/cd?namespace=${ns}&name=shop-ro`);
    await page.waitForSelector('body[data-reverts="loaded"]');
    await page.waitForSelector('#history td.revert button');
    const disabled = (await page.evaluate(
      `[...document.querySelectorAll('#history td.revert button')].map((b) => b.disabled)`,
    )) as boolean[];
    assert.ok(disabled.length > 0 && disabled.every(Boolean), 'every Revert is disabled');
    const [reason] = await texts(page, '#history td.revert .reason');
    assert.match(reason ?? '', /cannot push: the credential may read the repository but not push to it \(HTTP 403\)/);
    // The probe asked the Git server with the reader's credential, and nothing was pushed.
    assert.ok(git.http!.requests.some((r) => r.service === 'git-receive-pack' && r.user === 'reader' && r.status === 403));
    const html = (await page.evaluate('document.documentElement.outerHTML')) as string;
    assert.ok(!html.includes(git.http!.reader.password), 'no credential in the page');
    await page.screenshot({ path: join(SCREENSHOTS, 'console-revert-disabled.png'), fullPage: true });
  });

  it('a user who may read the deployment but not change it gets the button disabled, and a POST is refused before any push', async () => {
    const { kube, git, ns, cluster } = world();
    await grantRole(kube, ns, 'alice', [READ_CDS]);
    const alice = await dashboardAs(cluster, 'alice', ns, browser, profile);
    scoped = alice.process;
    const { view } = alice;
    try {
      await view.goto(`http://127.0.0.1:${alice.port}/cd?namespace=${ns}&name=shop`);
      await view.waitForSelector('body[data-reverts="loaded"]');
      await view.waitForSelector('#history td.revert button');
      const disabled = (await view.evaluate(
        `[...document.querySelectorAll('#history td.revert button')].map((b) => b.disabled)`,
      )) as boolean[];
      assert.ok(disabled.length > 0 && disabled.every(Boolean), 'every Revert is disabled');
      const [reason] = await texts(view, '#history td.revert .reason');
      assert.equal(reason, 'You may not change this deployment (update and patch), so you may not revert it.');

      // The same request the button would send, with the session's CSRF token: refused, nothing pushed.
      const tip = await git.repos.head('shop', 'main');
      const body = JSON.stringify(JSON.stringify({ revision: `main@sha1:${green}` }));
      const go = `(s) => fetch('/api/cds/${ns}/shop/revert', { method: 'POST', headers: { 'x-csrf-token': s.csrfToken }, body: ${body} })`;
      const status = await view.evaluate(`fetch('/api/session').then((r) => r.json()).then(${go}).then((res) => res.status)`);
      assert.equal(status, 403);
      assert.equal(await git.repos.head('shop', 'main'), tip, 'nothing pushed');
      await view.screenshot({ path: join(SCREENSHOTS, 'console-revert-forbidden.png'), fullPage: true });
    } finally {
      await alice.close();
    }
  });
});
