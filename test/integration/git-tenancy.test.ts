import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { reconcile } from '../../agent/reconcile/index.ts';
import { world } from '../../agent/reconcile/test-kit.ts';
import { RenderCache } from '../../agent/render-cache.ts';
import { createRenderer } from '../../agent/renderer.ts';
import { createGitSource } from '../../agent/source.ts';
import { TidemarkError } from '../../shared/errors/index.ts';
import { cloneForUpdate, fetchRevision, repositoryCacheDir } from '../../shared/git/index.ts';
import type { GitCredentials } from '../../shared/git/index.ts';
import { silentLogger } from '../../shared/log/index.ts';
import { git, startGitServers } from '../harness/git.ts';
import type { GitServers } from '../harness/git.ts';

/**
 * Git against hostile tenants: a tenant may create ContinuousDeployments and Secrets in its own
 * namespace and controls its own repositories. Real Git servers; the cluster side is the
 * in-memory port, since what is under test is what reaches the render, not how it is applied.
 */

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<TidemarkError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof TidemarkError, `expected a TidemarkError, got ${String(err)}`);
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
    return err;
  }
  assert.fail(`expected ${code}, but it succeeded`);
}

const PRIVATE = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tenant-a-private}\ndata: {password: hunter2}\n';

describe('Git sources shared by tenants', () => {
  let servers: GitServers;
  let cacheDir: string;
  let shaA: string;
  let urlA: string;
  let urlB: string;
  let credsA: GitCredentials;

  before(async () => {
    servers = await startGitServers({ http: true, ssh: false });
    cacheDir = await mkdtemp(join(tmpdir(), 'tidemark-git-tenancy-'));
    shaA = await servers.repos.createRepo('tenant-a', { 'deploy/cm.yaml': PRIVATE });
    await servers.repos.createRepo('tenant-b', { 'deploy/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tenant-b}\n' });
    urlA = servers.http!.url('tenant-a');
    urlB = servers.repos.fileUrl('tenant-b');
    credsA = { username: servers.http!.reader.username, password: servers.http!.reader.password };
  });

  after(async () => {
    await servers?.stop();
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  });

  it("does not hand tenant A's cached render to tenant B pinning A's commit on B's own repository", async () => {
    const renderCache = new RenderCache();
    const source = createGitSource({ cacheDir, log: silentLogger });
    const render = createRenderer({});

    const a = world({ url: urlA, secretRef: 'git-a', git: { branch: 'main' }, path: 'deploy' });
    const first = await reconcile(a.input({ auth: credsA }), { ...a.deps, source, render, renderCache });
    assert.equal(first.error, undefined, first.error?.message);
    assert.equal(first.resolved?.sha, shaA);
    assert.equal(renderCache.size, 1, "A's render is cached: the attack needs it there");

    const b = world({ url: urlB, git: { commit: shaA }, path: 'deploy' });
    const attack = await reconcile(b.input(), { ...b.deps, source, render, renderCache });
    assert.equal(attack.failedPhase, 'fetch', `B was served: ${JSON.stringify(attack.changes.map((c) => c.ref.name))}`);
    assert.equal(attack.error?.code, 'GitRefNotFound');
    assert.equal(b.kube.peek('v1', 'ConfigMap', 'apps', 'tenant-a-private'), undefined);
    assert.equal(b.kube.writes().length, 0);
  });

  it("refuses to send a Secret's password over plain http:// unless the deployment opts in with spec.insecure", async () => {
    const source = createGitSource({ cacheDir, log: silentLogger });
    const render = createRenderer({});
    const spec = { url: 'http://git.example.invalid/org/config.git', secretRef: 'git', path: 'deploy', timeout: '20s' };
    const refused = world(spec);
    const outcome = await reconcile(refused.input({ auth: credsA }), { ...refused.deps, source, render });
    assert.equal(outcome.error?.code, 'GitInsecureCredentials', outcome.error?.message);
    const optedIn = world({ ...spec, insecure: true });
    const attempted = await reconcile(optedIn.input({ auth: credsA }), { ...optedIn.deps, source, render });
    assert.equal(attempted.failedPhase, 'fetch');
    assert.notEqual(attempted.error?.code, 'GitInsecureCredentials', 'the opt-in lets git try');
    // The harness server is on loopback: no network lies between, so no opt-in is needed there.
    const loopback = world({ url: urlA, secretRef: 'git', git: { branch: 'main' }, path: 'deploy' });
    const served = await reconcile(loopback.input({ auth: credsA }), { ...loopback.deps, source, render });
    assert.equal(served.error, undefined, served.error?.message);
  });

  it('does not check out a cached commit for other credentials without the remote serving it to them', async () => {
    const first = await fetchRevision(urlA, credsA, { commit: shaA }, shaA, cacheDir, { advertised: false });
    assert.equal(first.sha, shaA);
    // Same URL, same commit, credentials the server refuses: the shared cache must not answer.
    const stranger: GitCredentials = { username: servers.http!.reader.username, password: 'not-the-password' };
    await rejectsWith(fetchRevision(urlA, stranger, { commit: shaA }, shaA, cacheDir, { advertised: false }), 'GitAuthenticationFailed');
    await rejectsWith(fetchRevision(urlA, undefined, { commit: shaA }, shaA, cacheDir, { advertised: false }), 'GitAuthenticationFailed');
    // The credentials that proved it are not asked again.
    const commands: string[][] = [];
    await fetchRevision(urlA, credsA, { commit: shaA }, shaA, cacheDir, { advertised: false, onCommand: (c) => commands.push([...c]) });
    assert.equal(commands.filter((c) => c.includes('fetch')).length, 0, JSON.stringify(commands));
  });
});

describe('checkouts in use', () => {
  let servers: GitServers;
  let cacheDir: string;
  let url: string;
  const commits: string[] = [];
  const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\n`;

  before(async () => {
    servers = await startGitServers({ http: false, ssh: false });
    cacheDir = await mkdtemp(join(tmpdir(), 'tidemark-git-leases-'));
    const files = (n: number) => Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`deploy/cm-${i}.yaml`, cm(`c${n}-${i}`)]));
    commits.push(await servers.repos.createRepo('moving', files(1)));
    commits.push(await servers.repos.commitFiles('moving', 'main', files(2), 'two'));
    commits.push(await servers.repos.commitFiles('moving', 'main', files(3), 'three'));
    url = servers.repos.fileUrl('moving');
  });

  after(async () => {
    await servers?.stop();
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  });

  it('keeps a leased checkout through newer fetches that prune, and prunes it once released', async () => {
    const cache = join(cacheDir, 'leases');
    const [c1, c2, c3] = commits as [string, string, string];
    const a = await fetchRevision(url, undefined, { branch: 'main' }, c1, cache, { keepCheckouts: 1 });
    const b = await fetchRevision(url, undefined, { branch: 'main' }, c2, cache, { keepCheckouts: 1 });
    assert.equal(existsSync(join(a.dir, 'deploy/cm-19.yaml')), true, 'pruned while in use');
    a.release();
    a.release(); // twice is harmless
    const c = await fetchRevision(url, undefined, { branch: 'main' }, c3, cache, { keepCheckouts: 1 });
    assert.equal(existsSync(a.dir), false, 'released and beyond keepCheckouts: pruned');
    assert.equal(existsSync(b.dir), true, 'still leased');
    b.release();
    c.release();
  });

  it('renders a commit completely while other deployments of the repository move on, and caches only finished renders', async () => {
    const [c1, c2, c3] = commits as [string, string, string];
    const source = createGitSource({ cacheDir: join(cacheDir, 'agent'), log: silentLogger, keepCheckouts: 1 });
    const realRender = createRenderer({});
    const renderCache = new RenderCache();

    // A render that stops midway (throws) or whose run was aborted meanwhile is not cached.
    const broken = world({ url, git: { commit: c1 }, path: 'deploy' });
    const failed = await reconcile(broken.input(), {
      ...broken.deps,
      source,
      renderCache,
      render: () => Promise.reject(new Error('the render broke halfway')),
    });
    assert.equal(failed.failedPhase, 'render');
    const abort = new AbortController();
    const aborted = await reconcile(broken.input(), {
      ...broken.deps,
      source,
      renderCache,
      signal: abort.signal,
      render: async (dir, path, signal) => {
        const objects = await realRender(dir, path, signal);
        abort.abort(new Error('stopping'));
        return objects.slice(0, 3);
      },
    });
    assert.equal(aborted.failedPhase, 'render');
    assert.equal(renderCache.size, 0, 'a partial render was cached');

    // The race: the render of c1 waits while two other deployments check out c2 and c3 (keep 1).
    let arrived!: () => void;
    const rendering = new Promise<void>((resolve) => (arrived = resolve));
    let proceed!: () => void;
    const gate = new Promise<void>((resolve) => (proceed = resolve));
    const slow = world({ url, git: { commit: c1 }, path: 'deploy' });
    const slowRun = reconcile(slow.input(), {
      ...slow.deps,
      source,
      renderCache,
      render: async (dir, path, signal) => {
        arrived();
        await gate;
        return realRender(dir, path, signal);
      },
    });
    await rendering;
    for (const sha of [c2, c3]) {
      const other = world({ url, git: { commit: sha }, path: 'deploy' });
      const outcome = await reconcile(other.input(), { ...other.deps, source, render: realRender, renderCache });
      assert.equal(outcome.error, undefined, outcome.error?.message);
    }
    proceed();
    const outcome = await slowRun;
    assert.equal(outcome.error, undefined, outcome.error?.message);
    const applied = outcome.changes.filter((c) => c.action === 'created').map((c) => c.ref.name);
    assert.equal(applied.length, 20, `a partial render was applied: ${applied.join(', ')}`);
    assert.ok(applied.every((name) => name.startsWith('c1-')));
  });
});

describe('bounded fetches', () => {
  let servers: GitServers;
  let scratch: string;

  before(async () => {
    servers = await startGitServers({ http: false, ssh: false });
    scratch = await mkdtemp(join(tmpdir(), 'tidemark-git-bounds-'));
  });

  after(async () => {
    await servers?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('fetches only the one commit: a missing one fails without fetching every branch and tag', async () => {
    const head = await servers.repos.createRepo('wide', { 'deploy/a.yaml': 'a: 1\n' });
    const other = await servers.repos.commitFiles('wide', 'other', { 'big/b.txt': 'b\n' }, 'other branch');
    await servers.repos.createTag('wide', 'v1', other);
    const cache = join(scratch, 'wide');
    const url = servers.repos.fileUrl('wide');
    await rejectsWith(
      fetchRevision(url, undefined, { commit: 'f'.repeat(40) }, 'f'.repeat(40), cache, { advertised: false }),
      'GitRefNotFound',
    );
    const repo = join(repositoryCacheDir(cache, url), 'repo.git');
    assert.equal((await git(['--git-dir', repo, 'for-each-ref'])).stdout, '', 'branches or tags were fetched');
    await assert.rejects(git(['--git-dir', repo, 'cat-file', '-e', `${other}^{commit}`]), 'the other branch was downloaded');
    await assert.rejects(git(['--git-dir', repo, 'cat-file', '-e', `${head}^{commit}`]), 'the default branch was downloaded');
  });

  it('stops a fetch that downloads more than maxFetchBytes and keeps nothing of it', async () => {
    const sha = await servers.repos.createRepo('heavy', { 'deploy/blob.bin': randomBytes(3 * 1024 * 1024) });
    const cache = join(scratch, 'heavy');
    const url = servers.repos.fileUrl('heavy');
    const err = await rejectsWith(
      fetchRevision(url, undefined, { branch: 'main' }, sha, cache, { maxFetchBytes: 1024 * 1024 }),
      'GitRepositoryTooLarge',
    );
    assert.match(err.message, /more than 1\.0 MiB/);
    const root = repositoryCacheDir(cache, url);
    assert.deepEqual(await readdir(join(root, 'checkouts')), []);
    const packs = await readdir(join(root, 'repo.git', 'objects', 'pack'));
    assert.deepEqual(packs, [], `the download was kept: ${packs.join(', ')}`);
    // The killed git's locks go too (its shallow.lock failed the next fetch with "File exists").
    const locks = (await readdir(join(root, 'repo.git'))).filter((name) => name.endsWith('.lock'));
    assert.deepEqual(locks, [], `the killed fetch's locks were kept: ${locks.join(', ')}`);
    // Within the limit the same commit is fetched.
    const ok = await fetchRevision(url, undefined, { branch: 'main' }, sha, cache, { maxFetchBytes: 8 * 1024 * 1024 });
    ok.release();
  });

  it('refuses a checkout that would inflate beyond maxCheckoutBytes or hold more than maxCheckoutFiles, before writing it', async () => {
    // 64 MiB of zeros packs into a few hundred KiB: only the tree says how large the checkout is.
    const bomb = await servers.repos.createRepo('bomb', { 'deploy/zeros.bin': Buffer.alloc(64 * 1024 * 1024) });
    const cache = join(scratch, 'bomb');
    const url = servers.repos.fileUrl('bomb');
    const err = await rejectsWith(
      fetchRevision(url, undefined, { branch: 'main' }, bomb, cache, { maxCheckoutBytes: 16 * 1024 * 1024 }),
      'GitRepositoryTooLarge',
    );
    assert.match(err.message, /64\.0 MiB; the limit is 16\.0 MiB/);
    assert.deepEqual(await readdir(join(repositoryCacheDir(cache, url), 'checkouts')), []);

    const many = await servers.repos.createRepo(
      'many',
      Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`deploy/f-${i}.yaml`, `n: ${i}\n`])),
    );
    const manyUrl = servers.repos.fileUrl('many');
    await rejectsWith(
      fetchRevision(manyUrl, undefined, { branch: 'main' }, many, cache, { maxCheckoutFiles: 10 }),
      'GitRepositoryTooLarge',
    );
    const fine = await fetchRevision(manyUrl, undefined, { branch: 'main' }, many, cache, { maxCheckoutFiles: 30 });
    assert.equal(existsSync(join(fine.dir, 'deploy/f-29.yaml')), true);
    fine.release();
  });

  it("bounds the image updater's clone the same way: download and tree size, before a file is written", async () => {
    const heavy = servers.repos.fileUrl('heavy');
    const big = await rejectsWith(
      cloneForUpdate(heavy, undefined, 'main', join(scratch, 'clone-heavy'), { maxFetchBytes: 1024 * 1024 }),
      'GitRepositoryTooLarge',
    );
    assert.match(big.message, /more than 1\.0 MiB/);
    assert.equal(existsSync(join(scratch, 'clone-heavy')), false, 'the partial clone was left behind');

    const bomb = servers.repos.fileUrl('bomb');
    const inflated = await rejectsWith(
      cloneForUpdate(bomb, undefined, 'main', join(scratch, 'clone-bomb'), { maxCheckoutBytes: 16 * 1024 * 1024 }),
      'GitRepositoryTooLarge',
    );
    assert.match(inflated.message, /64\.0 MiB; the limit is 16\.0 MiB/);
    assert.equal(existsSync(join(scratch, 'clone-bomb')), false);

    const fine = await cloneForUpdate(servers.repos.fileUrl('many'), undefined, 'main', join(scratch, 'clone-many'));
    assert.equal(existsSync(join(fine.dir, 'deploy/f-29.yaml')), true, 'a clone within the bounds is checked out');
  });
});
