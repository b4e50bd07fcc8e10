import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { cloneForUpdate, commitAll, fetchAndRebase, fetchRevision, lsRemote, push, resolveInside } from '../../shared/git/index.ts';
import type { GitCredentials } from '../../shared/git/index.ts';
import { TidemarkError } from '../../shared/errors/index.ts';
import { git, startGitServers } from '../harness/git.ts';
import type { GitServers } from '../harness/git.ts';
import { freePort } from '../harness/ports.ts';

const run = promisify(execFile);
const BOT = { name: 'Tidemark Bot', email: 'bot@tidemark.test' };

/** Promise.withResolvers, which the project's ES2023 lib does not declare. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Asserts a promise rejects with a TidemarkError of `code`, and returns it for more checks. */
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

/** Command line and environment of every process on the machine (`ps` shows the first to anyone). */
async function allProcesses(): Promise<Array<{ pid: string; cmdline: string; environ: string }>> {
  const found: Array<{ pid: string; cmdline: string; environ: string }> = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'latin1')).split('\0').join(' ');
      const environ = await readFile(`/proc/${pid}/environ`, 'latin1').catch(() => '');
      if (cmdline) found.push({ pid, cmdline, environ });
    } catch {
      // Gone already.
    }
  }
  return found;
}

describe('shared/git against real servers', () => {
  let servers: GitServers;
  let scratch: string;
  let first: string;
  let head: string;
  let tagged: string;
  let rc: string;
  let readerCreds: GitCredentials;
  let writerCreds: GitCredentials;
  let sshCreds: GitCredentials;

  before(async () => {
    servers = await startGitServers({ http: true, ssh: true });
    scratch = await mkdtemp(join(tmpdir(), 'tidemark-git-test-'));
    const repos = servers.repos;
    first = await repos.createRepo('app', { 'deploy/app.yaml': 'version: 1\n' });
    await repos.createTag('app', 'v1.0.0', first);
    tagged = await repos.commitFiles('app', 'main', { 'deploy/app.yaml': 'version: 1.1\n' }, 'v1.1');
    await repos.createTag('app', 'v1.1.0', tagged, { message: 'annotated release' });
    rc = await repos.commitFiles('app', 'main', { 'deploy/app.yaml': 'version: 2-rc\n' }, 'v2 rc');
    await repos.createTag('app', 'v2.0.0-rc.1', rc);
    head = await repos.commitFiles('app', 'main', { 'deploy/app.yaml': 'version: head\n' }, 'head');
    readerCreds = { username: servers.http!.reader.username, password: servers.http!.reader.password };
    writerCreds = { username: servers.http!.writer.username, password: servers.http!.writer.password };
    sshCreds = { identity: servers.ssh!.privateKey, knownHosts: servers.ssh!.knownHosts };
  });

  after(async () => {
    await servers?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  const transports = () =>
    [
      ['file://', servers.repos.fileUrl('app'), undefined],
      ['HTTP (reader)', servers.http!.url('app'), readerCreds],
      ['HTTP (bearer token)', servers.http!.url('app'), { bearerToken: servers.http!.readerToken }],
      ['SSH', servers.ssh!.url('app'), sshCreds],
    ] as const;

  describe('lsRemote', () => {
    it('resolves branch, tag, annotated tag, semver, commit and the default branch over every transport', async () => {
      for (const [name, url, creds] of transports()) {
        const branch = await lsRemote(url, creds, { branch: 'main' });
        assert.deepEqual(branch, { ref: 'main', sha: head, revision: `main@sha1:${head}`, verified: true }, name);
        assert.equal((await lsRemote(url, creds, { tag: 'v1.0.0' })).sha, first, name);
        assert.equal((await lsRemote(url, creds, { tag: 'v1.1.0' })).sha, tagged, `${name}: annotated tag peeled`);
        const semver = await lsRemote(url, creds, { semver: '>=1.0.0 <2.0.0' });
        assert.deepEqual([semver.ref, semver.sha], ['v1.1.0', tagged], name);
        assert.equal((await lsRemote(url, creds, { semver: '>=2.0.0-0' })).ref, 'v2.0.0-rc.1', name);
        const pinned = await lsRemote(url, creds, { commit: head, branch: 'main' });
        assert.deepEqual([pinned.sha, pinned.verified, pinned.revision], [head, true, `main@sha1:${head}`], name);
        const old = await lsRemote(url, creds, { commit: first.toUpperCase() });
        assert.deepEqual([old.sha, old.verified], [first, true], `${name}: v1.0.0 advertises it`);
        const viaTag = await lsRemote(url, creds, { commit: rc });
        assert.deepEqual([viaTag.sha, viaTag.verified], [rc, true], `${name}: the rc tag advertises it`);
        assert.equal((await lsRemote(url, creds, undefined)).ref, 'main', name);
      }
    });

    it('accepts a commit no ref points at without fetching, marked unverified', async () => {
      const orphan = await servers.repos.commitFiles('app', 'scratch-branch', { 'x.txt': 'x\n' }, 'soon unreachable by name');
      await servers.repos.deleteBranch('app', 'scratch-branch');
      const result = await lsRemote(servers.http!.url('app'), readerCreds, { commit: orphan });
      assert.deepEqual([result.sha, result.verified, result.revision], [orphan, false, `sha1:${orphan}`]);
    });

    it('reports a missing branch, tag and semver match as GitRefNotFound', async () => {
      for (const [name, url, creds] of transports()) {
        await rejectsWith(lsRemote(url, creds, { branch: 'nope' }), 'GitRefNotFound');
        await rejectsWith(lsRemote(url, creds, { tag: 'v9.9.9' }), 'GitRefNotFound');
        const err = await rejectsWith(lsRemote(url, creds, { semver: '>=5.0.0' }), 'GitRefNotFound');
        assert.equal(err.kind, 'terminal', name);
      }
    });

    it('reports a missing repository as GitRepositoryNotFound', async () => {
      await rejectsWith(lsRemote(servers.repos.fileUrl('nope'), undefined, { branch: 'main' }), 'GitRepositoryNotFound');
      await rejectsWith(lsRemote(servers.http!.url('nope'), readerCreds, { branch: 'main' }), 'GitRepositoryNotFound');
      await rejectsWith(lsRemote(servers.ssh!.url('nope'), sshCreds, { branch: 'main' }), 'GitRepositoryNotFound');
    });

    it('reports a wrong or missing password as GitAuthenticationFailed without revealing it', async () => {
      const wrong = { username: 'reader', password: 'wrong-password-123' };
      const err = await rejectsWith(lsRemote(servers.http!.url('app'), wrong, { branch: 'main' }), 'GitAuthenticationFailed');
      assert.equal(err.kind, 'terminal');
      assert.equal(err.hint, 'check the credentials in the Git secret');
      assert.doesNotMatch(`${err.message} ${err.hint}`, /wrong-password-123/);
      await rejectsWith(lsRemote(servers.http!.url('app'), undefined, { branch: 'main' }), 'GitAuthenticationFailed');
      const badToken = await rejectsWith(
        lsRemote(servers.http!.url('app'), { bearerToken: 'bad-token-456' }, { branch: 'main' }),
        'GitAuthenticationFailed',
      );
      assert.doesNotMatch(badToken.message, /bad-token-456/);
    });

    it('reports an unauthorized SSH key as GitAuthenticationFailed and a wrong host key as GitHostKeyMismatch', async () => {
      const ssh = servers.ssh!;
      await rejectsWith(
        lsRemote(ssh.url('app'), { identity: ssh.unauthorizedPrivateKey, knownHosts: ssh.knownHosts }, { branch: 'main' }),
        'GitAuthenticationFailed',
      );
      const otherHost = ssh.knownHosts.replace(/AAAA\S+$/, 'AAAAC3NzaC1lZDI1NTE5AAAAIFakeFakeFakeFakeFakeFakeFakeFakeFakeFakeFake');
      const err = await rejectsWith(
        lsRemote(ssh.url('app'), { identity: ssh.privateKey, knownHosts: otherHost }, { branch: 'main' }),
        'GitHostKeyMismatch',
      );
      assert.equal(err.kind, 'terminal');
      assert.match(err.hint ?? '', /host key/);
    });

    it('reaches SSH with a passphrase-protected key through askpass', async () => {
      const keyFile = join(scratch, 'protected_key');
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'open sesame', '-C', 'protected', '-f', keyFile]);
      await servers.ssh!.authorizeKey(await readFile(`${keyFile}.pub`, 'utf8'));
      const identity = await readFile(keyFile, 'utf8');
      const creds = { identity, knownHosts: servers.ssh!.knownHosts, passphrase: 'open sesame' };
      assert.equal((await lsRemote(servers.ssh!.url('app'), creds, { branch: 'main' })).sha, head);
      await rejectsWith(
        lsRemote(servers.ssh!.url('app'), { ...creds, passphrase: 'wrong' }, { branch: 'main' }),
        'GitAuthenticationFailed',
      );
    });

    it('reports a server that is down as GitUnreachable (transient)', async () => {
      const port = await freePort(); // nothing listens there
      const http = await rejectsWith(lsRemote(`http://127.0.0.1:${port}/app.git`, readerCreds, { branch: 'main' }), 'GitUnreachable');
      assert.equal(http.kind, 'transient');
      await rejectsWith(
        lsRemote(
          `ssh://root@127.0.0.1:${port}/app.git`,
          { ...sshCreds, knownHosts: `[127.0.0.1]:${port} ssh-ed25519 AAAA` },
          { branch: 'main' },
        ),
        'GitUnreachable',
      );
    });

    it('gives up after the deadline with GitUnreachable', async () => {
      const held = deferred();
      servers.http!.setBeforeRequest(() => held.promise);
      try {
        const err = await rejectsWith(
          lsRemote(servers.http!.url('app'), readerCreds, { branch: 'main' }, { timeoutMs: 1_000 }),
          'GitUnreachable',
        );
        assert.match(err.message, /timed out/);
      } finally {
        servers.http!.setBeforeRequest(undefined);
        held.resolve();
      }
    });
  });

  describe('option injection', () => {
    it('refuses option-like refs, URLs and paths before git runs', async () => {
      const marker = join(scratch, 'pwned');
      const evil = `--upload-pack=touch ${marker}`;
      const spawned: string[][] = [];
      const onCommand = (args: readonly string[]) => spawned.push([...args]);
      const url = servers.repos.fileUrl('app');
      await rejectsWith(lsRemote(url, undefined, { branch: evil }, { onCommand }), 'GitInvalidSpec');
      await rejectsWith(lsRemote(url, undefined, { tag: evil }, { onCommand }), 'GitInvalidSpec');
      await rejectsWith(lsRemote(evil, undefined, { branch: 'main' }, { onCommand }), 'GitInvalidSpec');
      await rejectsWith(lsRemote('ext::sh -c touch% /tmp/pwned', undefined, { branch: 'main' }, { onCommand }), 'GitInvalidSpec');
      await rejectsWith(
        fetchRevision(url, undefined, { branch: evil }, head, join(scratch, 'cache-evil'), { onCommand }),
        'GitInvalidSpec',
      );
      await rejectsWith(
        fetchRevision(url, undefined, { branch: 'main' }, evil, join(scratch, 'cache-evil'), { onCommand }),
        'GitInvalidSpec',
      );
      await rejectsWith(cloneForUpdate(url, undefined, evil, join(scratch, 'clone-evil'), { onCommand }), 'GitInvalidSpec');
      await rejectsWith(cloneForUpdate(url, undefined, 'main', '-evil-dir', { onCommand }), 'GitInvalidSpec');
      assert.deepEqual(spawned, [], 'no git process was started');
      assert.equal(existsSync(marker), false);

      const checkout = await cloneForUpdate(url, undefined, 'main', join(scratch, 'clone-for-evil-push'));
      await rejectsWith(push(checkout.dir, evil, { onCommand }), 'GitInvalidSpec');
      await rejectsWith(fetchAndRebase(checkout.dir, evil, { committer: BOT, onCommand }), 'GitInvalidSpec');
      assert.deepEqual(spawned, []);
    });
  });

  describe('credentials stay out of argv, URLs and errors', () => {
    for (const kind of ['password', 'bearer'] as const) {
      it(`${kind}: not in any process's command line or environment while git runs`, async () => {
        const http = servers.http!;
        const creds: GitCredentials = kind === 'password' ? readerCreds : { bearerToken: http.readerToken };
        const secret = kind === 'password' ? http.reader.password : http.readerToken;
        const argvs: string[][] = [];
        let seen: Array<{ pid: string; cmdline: string; environ: string }> = [];
        const held = deferred();
        const looked = deferred();
        http.setBeforeRequest(async () => {
          // The client is blocked on this authenticated request now: git and its remote helper are alive.
          seen = await allProcesses();
          looked.resolve();
          await held.promise;
        });
        try {
          const cache = join(scratch, `cache-secrets-${kind}`);
          const pending = fetchRevision(http.url('app'), creds, { branch: 'main' }, head, cache, { onCommand: (a) => argvs.push([...a]) });
          await looked.promise;
          http.setBeforeRequest(undefined);
          held.resolve();
          const fetched = await pending;
          assert.equal(fetched.sha, head);
          fetched.release();
        } finally {
          http.setBeforeRequest(undefined);
          held.resolve();
        }
        const gitProcesses = seen.filter((p) => p.cmdline.includes(http.url('app')));
        assert.ok(gitProcesses.length > 0, 'the scan saw the running git processes');
        assert.ok(
          gitProcesses.some((p) => p.environ.includes('GIT_CONFIG_GLOBAL=')),
          "the scan could read git's environment",
        );
        for (const p of seen) {
          assert.ok(!p.cmdline.includes(secret), `secret in a command line: ${p.cmdline}`);
          assert.ok(!p.environ.includes(secret), `secret in the environment of ${p.cmdline}`);
        }
        assert.ok(argvs.length > 0);
        for (const argv of argvs) {
          assert.ok(!argv.join(' ').includes(secret), 'secret in argv');
          for (const arg of argv) assert.doesNotMatch(arg, /:\/\/[^/\s]*@/, 'no userinfo in URLs');
        }
      });
    }

    it('lists refs over HTTP in process: no git process, nothing written to disk', async () => {
      const http = servers.http!;
      for (const creds of [readerCreds, { bearerToken: http.readerToken }] as const) {
        const argvs: string[][] = [];
        const before = http.requests.length;
        const resolved = await lsRemote(http.url('app'), creds, { branch: 'main' }, { onCommand: (a) => argvs.push([...a]) });
        assert.equal(resolved.sha, head);
        assert.deepEqual(argvs, [], 'no git process was started');
        const asked = http.requests.slice(before);
        assert.ok(asked.length >= 1 && asked.length <= 2, `one or two requests, not ${asked.length}`);
        assert.ok(
          asked.every((r) => r.service === 'git-upload-pack' && r.user !== 'anonymous'),
          'authenticated upload-pack requests only',
        );
      }
    });

    it("lists refs over HTTPS with the Secret's CA; without it the private certificate is refused", async () => {
      // A TLS front for the HTTP server, with the test CA's certificate for 127.0.0.1.
      const tls = new URL('../../shared/kube/kubeconfig/fixtures/tls/', import.meta.url);
      const ca = readFileSync(new URL('ca.crt', tls), 'utf8');
      const target = new URL(servers.http!.baseUrl);
      const front = createHttpsServer(
        { cert: readFileSync(new URL('server.crt', tls)), key: readFileSync(new URL('server.key', tls)) },
        (req, res) => {
          const upstream = httpRequest(
            { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
            (up) => {
              res.writeHead(up.statusCode ?? 502, up.headers);
              up.pipe(res);
            },
          );
          upstream.on('error', () => res.destroy());
          req.pipe(upstream);
        },
      );
      await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
      const address = front.address();
      const url = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/app.git`;
      try {
        assert.equal((await lsRemote(url, { ...readerCreds, caFile: ca }, { branch: 'main' })).sha, head);
        const untrusted = await rejectsWith(lsRemote(url, readerCreds, { branch: 'main' }), 'GitUnreachable');
        assert.match(untrusted.message, /certificate/i);
        assert.ok(!untrusted.message.includes(servers.http!.reader.password));
      } finally {
        front.closeAllConnections();
        await new Promise<void>((resolve) => front.close(() => resolve()));
      }
    });

    it('keeps the password out of errors from every operation', async () => {
      const wrong: GitCredentials = { username: 'writer', password: 'Sup3r-Secret-Wrong' };
      const url = servers.http!.url('app');
      const errors = [
        await rejectsWith(lsRemote(url, wrong, { branch: 'main' }), 'GitAuthenticationFailed'),
        await rejectsWith(fetchRevision(url, wrong, { branch: 'main' }, head, join(scratch, 'cache-wrong')), 'GitAuthenticationFailed'),
        await rejectsWith(cloneForUpdate(url, wrong, 'main', join(scratch, 'clone-wrong')), 'GitAuthenticationFailed'),
      ];
      const checkout = await cloneForUpdate(url, writerCreds, 'main', join(scratch, 'clone-right'));
      errors.push(await rejectsWith(push(checkout.dir, 'main', { credentials: wrong }), 'GitAuthenticationFailed'));
      for (const err of errors) {
        assert.doesNotMatch(`${err.message} ${err.hint ?? ''} ${err.stack ?? ''}`, /Sup3r-Secret-Wrong/);
        assert.doesNotMatch(err.message, new RegExp(servers.http!.writer.password));
      }
      const config = await readFile(join(checkout.dir, '.git', 'config'), 'utf8');
      assert.doesNotMatch(config, new RegExp(servers.http!.writer.password), 'the clone does not store the password');
      assert.doesNotMatch(config, /:\/\/[^/\s]*@/);
    });
  });

  describe('fetchRevision', () => {
    it('fetches a commit once; the same commit again makes no request at all', async () => {
      const http = servers.http!;
      const cache = join(scratch, 'cache-http');
      const before1 = http.requests.length;
      const fetched = await fetchRevision(http.url('app'), readerCreds, { branch: 'main' }, head, cache);
      assert.equal(fetched.fetched, true);
      assert.equal(fetched.sha, head);
      assert.ok(http.requests.length > before1, 'the first fetch went to the server');
      assert.equal(await readFile(join(fetched.dir, 'deploy/app.yaml'), 'utf8'), 'version: head\n');
      const headOfCheckout = (await git(['rev-parse', 'HEAD'], { cwd: fetched.dir })).stdout.trim();
      assert.equal(headOfCheckout, head);

      const before2 = http.requests.length;
      const again = await fetchRevision(http.url('app'), readerCreds, { branch: 'main' }, head, cache);
      assert.deepEqual({ dir: again.dir, sha: again.sha, fetched: again.fetched }, { dir: fetched.dir, sha: head, fetched: false });
      fetched.release();
      again.release();
      assert.equal(http.requests.length, before2, 'no request for a cached commit');
    });

    it('restores a checkout someone modified, still without the network', async () => {
      const http = servers.http!;
      const cache = join(scratch, 'cache-dirty');
      const fetched = await fetchRevision(http.url('app'), readerCreds, { branch: 'main' }, head, cache);
      fetched.release();
      await rm(join(fetched.dir, 'deploy/app.yaml'));
      await git(['-C', fetched.dir, 'status']); // harmless local command
      const count = http.requests.length;
      const again = await fetchRevision(http.url('app'), readerCreds, { branch: 'main' }, head, cache);
      assert.equal(http.requests.length, count);
      assert.equal(await readFile(join(again.dir, 'deploy/app.yaml'), 'utf8'), 'version: head\n');
    });

    it('serialises concurrent calls for one repository', async () => {
      const http = servers.http!;
      const cache = join(scratch, 'cache-concurrent');
      const results = await Promise.all([1, 2, 3].map(() => fetchRevision(http.url('app'), readerCreds, { branch: 'main' }, head, cache)));
      assert.deepEqual(results.map((r) => r.fetched).sort(), [false, false, true], 'exactly one call fetched');
      assert.equal(new Set(results.map((r) => r.dir)).size, 1);
    });

    it('moves to a new commit, fetches tags and pinned commits, and prunes old checkouts', async () => {
      const http = servers.http!;
      const cache = join(scratch, 'cache-moving');
      const a = await fetchRevision(http.url('app'), readerCreds, { tag: 'v1.0.0' }, first, cache);
      assert.equal(await readFile(join(a.dir, 'deploy/app.yaml'), 'utf8'), 'version: 1\n');
      const b = await fetchRevision(http.url('app'), readerCreds, { tag: 'v1.1.0' }, tagged, cache);
      assert.equal(await readFile(join(b.dir, 'deploy/app.yaml'), 'utf8'), 'version: 1.1\n');
      a.release();
      b.release();
      const c = await fetchRevision(http.url('app'), readerCreds, { commit: rc }, rc, cache);
      assert.equal(c.fetched, true);
      assert.equal(existsSync(a.dir), false, 'the oldest checkout is gone');
      assert.equal(existsSync(b.dir), true, 'the previous checkout is kept');
      // The first commit's objects are still cached: checking it out again needs no request.
      const count = http.requests.length;
      const again = await fetchRevision(http.url('app'), readerCreds, { tag: 'v1.0.0' }, first, cache);
      assert.equal(again.fetched, false);
      assert.equal(http.requests.length, count);
    });

    it('works over file:// and SSH', async () => {
      const viaFile = await fetchRevision(servers.repos.fileUrl('app'), undefined, { branch: 'main' }, head, join(scratch, 'cache-file'));
      assert.equal(await readFile(join(viaFile.dir, 'deploy/app.yaml'), 'utf8'), 'version: head\n');
      const viaSsh = await fetchRevision(servers.ssh!.url('app'), sshCreds, { tag: 'v1.1.0' }, tagged, join(scratch, 'cache-ssh'));
      assert.equal(await readFile(join(viaSsh.dir, 'deploy/app.yaml'), 'utf8'), 'version: 1.1\n');
    });

    it('reports a commit the repository does not have as GitRefNotFound', async () => {
      await rejectsWith(
        fetchRevision(servers.http!.url('app'), readerCreds, { branch: 'main' }, 'f'.repeat(40), join(scratch, 'cache-missing')),
        'GitRefNotFound',
      );
    });
  });

  describe('image updater: clone, commit, push', () => {
    it('commits and pushes as the writer; nothing changed means no commit', async () => {
      await servers.repos.createRepo('fleet', { 'apps/web.yaml': 'image: nginx:1.0\n' });
      const http = servers.http!;
      const checkout = await cloneForUpdate(http.url('fleet'), writerCreds, 'main', join(scratch, 'fleet-writer'));
      assert.equal(checkout.head, await servers.repos.head('fleet', 'main'));
      assert.equal(await commitAll(checkout.dir, 'Update image automatically.\n\nnothing', BOT), null);
      await writeFile(join(checkout.dir, 'apps/web.yaml'), 'image: nginx:1.1\n');
      const sha = await commitAll(checkout.dir, 'Update image automatically.\n\nnginx:1.1\n', BOT);
      assert.match(sha ?? '', /^[0-9a-f]{40}$/);
      assert.equal(await push(checkout.dir, 'main', { credentials: writerCreds }), sha);
      const log = await servers.repos.readLog('fleet', 'main');
      assert.deepEqual(
        {
          sha: log[0]?.sha,
          message: log[0]?.message,
          name: log[0]?.authorName,
          email: log[0]?.authorEmail,
          files: log[0]?.files,
        },
        {
          sha,
          message: 'Update image automatically.\n\nnginx:1.1',
          name: BOT.name,
          email: BOT.email,
          files: ['apps/web.yaml'],
        },
      );
      assert.equal(log.length, 2);
    });

    it('refuses a push by the reader with GitPermissionDenied', async () => {
      await servers.repos.createRepo('readonly', { 'a.yaml': 'a: 1\n' });
      const http = servers.http!;
      const checkout = await cloneForUpdate(http.url('readonly'), readerCreds, 'main', join(scratch, 'readonly'));
      await writeFile(join(checkout.dir, 'a.yaml'), 'a: 2\n');
      assert.ok(await commitAll(checkout.dir, 'change', BOT));
      const err = await rejectsWith(push(checkout.dir, 'main', { credentials: readerCreds }), 'GitPermissionDenied');
      assert.equal(err.kind, 'terminal');
      assert.equal((await servers.repos.readLog('readonly', 'main')).length, 1, 'nothing landed');
    });

    it('turns a concurrent push into GitPushRejected; fetchAndRebase then push lands both commits', async () => {
      await servers.repos.createRepo('race', { 'apps/web.yaml': 'image: web:1\n', 'apps/api.yaml': 'image: api:1\n' });
      const http = servers.http!;
      const checkout = await cloneForUpdate(http.url('race'), writerCreds, 'main', join(scratch, 'race'));
      await writeFile(join(checkout.dir, 'apps/web.yaml'), 'image: web:2\n');
      const ours = await commitAll(checkout.dir, 'Update image automatically.\n\nweb:2', BOT);
      assert.ok(ours);

      const theirs = await servers.repos.commitFiles(http.url('race'), 'main', { 'apps/api.yaml': 'image: api:7\n' }, 'human change');
      const err = await rejectsWith(push(checkout.dir, 'main', { credentials: writerCreds }), 'GitPushRejected');
      assert.equal(err.kind, 'transient');
      assert.equal(await servers.repos.head('race', 'main'), theirs, 'the push was not forced');

      const rebased = await fetchAndRebase(checkout.dir, 'main', { credentials: writerCreds, committer: BOT });
      assert.notEqual(rebased, ours);
      assert.equal(await push(checkout.dir, 'main', { credentials: writerCreds }), rebased);
      const log = await servers.repos.readLog('race', 'main');
      assert.deepEqual(
        log.map((e) => e.message),
        ['Update image automatically.\n\nweb:2', 'human change', 'Initial commit'],
      );
      assert.equal(log[1]?.sha, theirs);
      assert.equal(await servers.repos.readFile('race', 'main', 'apps/web.yaml'), 'image: web:2\n');
      assert.equal(await servers.repos.readFile('race', 'main', 'apps/api.yaml'), 'image: api:7\n');
    });

    it('aborts a conflicting rebase with GitRebaseConflict and leaves the checkout usable', async () => {
      await servers.repos.createRepo('conflict', { 'a.yaml': 'a: 1\n' });
      const checkout = await cloneForUpdate(servers.repos.fileUrl('conflict'), undefined, 'main', join(scratch, 'conflict'));
      await writeFile(join(checkout.dir, 'a.yaml'), 'a: ours\n');
      const ours = await commitAll(checkout.dir, 'ours', BOT);
      await servers.repos.commitFiles('conflict', 'main', { 'a.yaml': 'a: theirs\n' }, 'theirs');
      const err = await rejectsWith(fetchAndRebase(checkout.dir, 'main', { committer: BOT }), 'GitRebaseConflict');
      assert.equal(err.kind, 'transient');
      const status = (await git(['status', '--porcelain'], { cwd: checkout.dir })).stdout;
      assert.equal(status, '');
      assert.equal((await git(['rev-parse', 'HEAD'], { cwd: checkout.dir })).stdout.trim(), ours);
    });

    it('force-pushes a bot branch only with a matching lease', async () => {
      await servers.repos.createRepo('lease', { 'a.yaml': 'a: 1\n' });
      const url = servers.ssh!.url('lease');
      const checkout = await cloneForUpdate(url, sshCreds, 'main', join(scratch, 'lease'));
      await writeFile(join(checkout.dir, 'a.yaml'), 'a: 2\n');
      await commitAll(checkout.dir, 'bot', BOT);
      // The bot branch does not exist yet: lease '' means "must not exist".
      const pushed = await push(checkout.dir, 'bot/update', { credentials: sshCreds, forceWithLease: '' });
      assert.equal(await servers.repos.head('lease', 'bot/update'), pushed);
      // Someone moves the bot branch: a lease on the old value must fail...
      const moved = await servers.repos.commitFiles('lease', 'bot/update', { 'b.yaml': 'b\n' }, 'human on bot branch');
      await writeFile(join(checkout.dir, 'a.yaml'), 'a: 3\n');
      await commitAll(checkout.dir, 'bot again', BOT);
      await rejectsWith(push(checkout.dir, 'bot/update', { credentials: sshCreds, forceWithLease: pushed }), 'GitPushRejected');
      assert.equal(await servers.repos.head('lease', 'bot/update'), moved);
      // ...and a lease on the current value replaces it.
      const forced = await push(checkout.dir, 'bot/update', { credentials: sshCreds, forceWithLease: moved });
      assert.equal(await servers.repos.head('lease', 'bot/update'), forced);
      // Without a lease the same non-fast-forward push is refused, never forced.
      await servers.repos.commitFiles('lease', 'bot/update', { 'c.yaml': 'c\n' }, 'again');
      await rejectsWith(push(checkout.dir, 'bot/update', { credentials: sshCreds }), 'GitPushRejected');
    });

    it('reports a missing branch on clone as GitRefNotFound', async () => {
      await rejectsWith(
        cloneForUpdate(servers.http!.url('app'), readerCreds, 'no-such-branch', join(scratch, 'clone-missing')),
        'GitRefNotFound',
      );
      assert.equal(existsSync(join(scratch, 'clone-missing')), false);
    });

    it('signs commits with an SSH key and with an OpenPGP key', async () => {
      await servers.repos.createRepo('signed', { 'a.yaml': 'a: 1\n' });
      const checkout = await cloneForUpdate(servers.repos.fileUrl('signed'), undefined, 'main', join(scratch, 'signed'));

      const sshKey = join(scratch, 'signing_ed25519');
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'signer', '-f', sshKey]);
      await writeFile(join(checkout.dir, 'a.yaml'), 'a: 2\n');
      const sshSigned = await commitAll(checkout.dir, 'ssh signed', BOT, {
        signingKey: await readFile(sshKey, 'utf8'),
      });
      const sshCommit = (await git(['cat-file', 'commit', sshSigned!], { cwd: checkout.dir })).stdout;
      assert.match(sshCommit, /^gpgsig -----BEGIN SSH SIGNATURE-----/m);

      const gnupg = join(scratch, 'gnupg');
      await mkdir(gnupg, { mode: 0o700 });
      const env = { ...process.env, GNUPGHOME: gnupg };
      try {
        await run(
          'gpg',
          ['--batch', '--quiet', '--passphrase', '', '--quick-gen-key', 'Tidemark Test <signer@tidemark.test>', 'ed25519', 'sign', '1d'],
          { env },
        );
        const { stdout: armored } = await run('gpg', ['--batch', '--armor', '--export-secret-keys'], { env });
        await writeFile(join(checkout.dir, 'a.yaml'), 'a: 3\n');
        const pgpSigned = await commitAll(checkout.dir, 'pgp signed', BOT, { signingKey: armored });
        const pgpCommit = (await git(['cat-file', 'commit', pgpSigned!], { cwd: checkout.dir })).stdout;
        assert.match(pgpCommit, /^gpgsig -----BEGIN PGP SIGNATURE-----/m);
      } finally {
        await run('gpgconf', ['--kill', 'gpg-agent'], { env }).catch(() => undefined);
      }
    });
  });

  describe('resolveInside on a fetched checkout', () => {
    it('refuses .. and symlinks that leave the checkout, allows the rest', async () => {
      const sha = await servers.repos.createRepo('links', {
        'apps/web/deploy.yaml': 'kind: ConfigMap\n',
        'apps/escape': { symlink: '../../../../../../../etc' },
        'apps/inside': { symlink: 'web' },
      });
      const fetched = await fetchRevision(servers.repos.fileUrl('links'), undefined, { branch: 'main' }, sha, join(scratch, 'cache-links'));
      assert.equal(await resolveInside(fetched.dir, './apps/web'), join(fetched.dir, 'apps/web'));
      assert.equal(await resolveInside(fetched.dir, 'apps/inside'), join(fetched.dir, 'apps/web'));
      for (const path of ['../', '../../etc', 'apps/../../x', 'apps/escape', 'apps/escape/passwd']) {
        await rejectsWith(resolveInside(fetched.dir, path), 'PathOutsideCheckout');
      }
    });
  });
});
