import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import type { KubeClient } from '../../shared/kube/client.ts';
import { CHROMIUM, puppeteer, SCREENSHOTS, TIDEMARK_BIN } from './browser.ts';
import type { ClusterAccess } from './control-plane.ts';
import { kubeconfigYaml } from './control-plane.ts';
import { startProcess, waitFor } from './process.ts';
import type { ManagedProcess } from './process.ts';
import { applyCd } from './tidemark.ts';

/**
 * The console's browser and in-cluster tests: `tidemark dashboard` as a user starts it, Chromium
 * logged in to it, and the namespaces a scoped user is shown one of.
 */

/** `tidemark dashboard` as a user starts it; the URL it prints. */
export async function startDashboard(kubeconfig: string): Promise<{ process: ManagedProcess; loginUrl: string; port: number }> {
  const proc = await startProcess({
    name: 'tidemark dashboard',
    command: process.execPath,
    args: [TIDEMARK_BIN, 'dashboard', '--kubeconfig', kubeconfig],
    env: { ...process.env, KUBECONFIG: '' },
  });
  const printed = /Open (http:\/\/127\.0\.0\.1:(\d+)\/login\?token=\S+)/;
  await waitFor(() => Promise.resolve(printed.test(proc.tail(20))), {
    what: 'tidemark dashboard prints its URL',
    timeoutMs: 60_000,
    watch: [proc],
  });
  const loginUrl = printed.exec(proc.tail(20))?.[1] ?? '';
  return { process: proc, loginUrl, port: Number(new URL(loginUrl).port) };
}

/** Headless Chromium with its profile in `profile`, one page of the given size, and the screenshot folder made. */
export async function launchBrowser(
  profile: string,
  viewport: { width: number; height: number },
  args: readonly string[] = [],
): Promise<{ browser: Browser; page: Page }> {
  const browser = await puppeteer!.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: profile,
    args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), '--disable-dev-shm-usage', '--disable-gpu', ...args],
  });
  const page = await browser.newPage();
  page.setDefaultTimeout(60_000);
  await page.setViewport(viewport);
  await mkdir(SCREENSHOTS, { recursive: true });
  return { browser, page };
}

/** Opens the printed login URL and waits for the list's live feed. */
export async function logIn(page: Page, loginUrl: string): Promise<void> {
  await page.goto(loginUrl);
  await page.waitForSelector('body[data-live="synced"]');
}

/** The text of every element `selector` matches. (Page code is passed as text: the project compiles without the DOM types.) */
export async function texts(page: Page, selector: string): Promise<string[]> {
  return (await page.evaluate(`[...document.querySelectorAll(${JSON.stringify(selector)})].map((e) => e.textContent)`)) as string[];
}

/**
 * A second `tidemark dashboard` as a token-file user of the test cluster (kubeconfig in `dir`),
 * logged in from a browser context of its own: what that user's RBAC lets them see and do.
 * The caller stops `process` and closes `context`.
 */
export async function dashboardAs(
  cluster: ClusterAccess,
  user: string,
  namespace: string,
  browser: Browser,
  dir: string,
  viewport?: { width: number; height: number },
): Promise<{ process: ManagedProcess; port: number; view: Page; close(): Promise<void> }> {
  const kubeconfig = join(dir, `kubeconfig-${user}.yaml`);
  await writeFile(kubeconfig, kubeconfigYaml(cluster.info, user, cluster.userToken(user), namespace), { mode: 0o600 });
  const started = await startDashboard(kubeconfig);
  const context = await browser.createBrowserContext();
  try {
    const view = await context.newPage();
    view.setDefaultTimeout(60_000);
    if (viewport) await view.setViewport(viewport);
    await logIn(view, started.loginUrl);
    return { process: started.process, port: started.port, view, close: () => context.close() };
  } catch (err) {
    await context.close();
    await started.process.stop();
    throw err;
  }
}

/**
 * Two namespaces with a deployment `site` in each: the in-cluster tests' user may read `mine`
 * and must never see `theirs`.
 */
export async function twoNamespaces(cluster: ClusterAccess, kube: KubeClient, prefix: string): Promise<{ mine: string; theirs: string }> {
  const mine = await cluster.createNamespace(prefix);
  const theirs = await cluster.createNamespace(`${prefix}-other`);
  for (const namespace of [mine, theirs]) {
    await applyCd(kube, {
      metadata: { name: 'site', namespace },
      spec: { url: 'https://git.example/site.git', path: 'deploy', pullInterval: '1h' },
    });
  }
  return { mine, theirs };
}
