import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { git, harnessGitEnv, startGitServers } from '../harness/git.ts';
import type { GitServers } from '../harness/git.ts';

/** The harness itself, driven with the plain git CLI: if these fail, the library tests mean nothing. */
describe('git test servers', () => {
  let servers: GitServers;
  let scratch: string;

  before(async () => {
    servers = await startGitServers({ http: true, ssh: true });
    scratch = await mkdtemp(join(tmpdir(), 'tidemark-git-harness-test-'));
    await servers.repos.createRepo('app', { 'README.md': 'hello\n', 'deploy/app.yaml': 'kind: ConfigMap\n' });
  });

  after(async () => {
    await servers?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  /** Basic auth through a one-off header in the env, so the harness test does not depend on askpass. */
  function basicEnv(username: string, password: string): NodeJS.ProcessEnv {
    const token = Buffer.from(`${username}:${password}`).toString('base64');
    return harnessGitEnv({
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.extraHeader',
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${token}`,
    });
  }

  it('creates a repository with one commit and reads it back', async () => {
    const log = await servers.repos.readLog('app', 'main');
    assert.equal(log.length, 1);
    assert.equal(log[0]?.message, 'Initial commit');
    assert.deepEqual(log[0]?.files.sort(), ['README.md', 'deploy/app.yaml']);
    assert.equal(await servers.repos.readFile('app', 'main', 'README.md'), 'hello\n');
    assert.equal(await servers.repos.readFile('app', 'main', 'missing.txt'), undefined);
  });

  it('commits, tags and deletes branches', async () => {
    const sha = await servers.repos.commitFiles('app', 'feature', { 'x.txt': 'x\n', 'README.md': null }, 'Add x', {
      author: { name: 'Someone', email: 'someone@example.test' },
    });
    const log = await servers.repos.readLog(servers.repos.fileUrl('app'), 'feature');
    assert.equal(log[0]?.sha, sha);
    assert.equal(log[0]?.authorName, 'Someone');
    assert.deepEqual(log[0]?.files.sort(), ['README.md', 'x.txt']);
    assert.equal(await servers.repos.readFile('app', 'feature', 'README.md'), undefined);
    await servers.repos.createTag('app', 'v1.0.0', 'feature', { message: 'release' });
    const tags = (await git(['ls-remote', '--tags', '--', servers.repos.fileUrl('app')])).stdout;
    assert.match(tags, new RegExp(`^${sha}\\trefs/tags/v1\\.0\\.0\\^\\{\\}$`, 'm'));
    await servers.repos.deleteBranch('app', 'feature');
    assert.equal(await servers.repos.head('app', 'feature'), undefined);
  });

  it('serves clones over HTTP to the reader and refuses a wrong or missing password', async () => {
    const http = servers.http!;
    const ok = join(scratch, 'http-ok');
    await git(['clone', '--quiet', '--', http.url('app'), ok], { env: basicEnv('reader', http.reader.password) });
    assert.equal(await readFile(join(ok, 'README.md'), 'utf8'), 'hello\n');

    await assert.rejects(
      git(['clone', '--quiet', '--', http.url('app'), join(scratch, 'http-bad')], { env: basicEnv('reader', 'wrong') }),
      /401|Authentication failed|could not read Username/,
    );
    await assert.rejects(git(['clone', '--quiet', '--', http.url('app'), join(scratch, 'http-none')]), /could not read Username|401/);
    const refused = http.requests.filter((r) => r.status === 401);
    assert.ok(refused.length >= 2, 'both failed clones were answered 401');
  });

  it('answers 401 with a Basic challenge and 403 to a pushing reader', async () => {
    const http = servers.http!;
    const anonymous = await fetch(`${http.url('app')}/info/refs?service=git-upload-pack`);
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic realm=/);
    const auth = (u: string, p: string) => ({ Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
    const readerPush = await fetch(`${http.url('app')}/info/refs?service=git-receive-pack`, {
      headers: auth('reader', http.reader.password),
    });
    assert.equal(readerPush.status, 403);
    const writerPush = await fetch(`${http.url('app')}/info/refs?service=git-receive-pack`, {
      headers: auth('writer', http.writer.password),
    });
    assert.equal(writerPush.status, 200);
    assert.equal(writerPush.headers.get('content-type'), 'application/x-git-receive-pack-advertisement');
    const bearer = await fetch(`${http.url('app')}/info/refs?service=git-upload-pack`, {
      headers: { Authorization: `Bearer ${http.readerToken}` },
    });
    assert.equal(bearer.status, 200);
    const badBearer = await fetch(`${http.url('app')}/info/refs?service=git-upload-pack`, {
      headers: { Authorization: 'Bearer nope' },
    });
    assert.equal(badBearer.status, 401);
  });

  it('lets the writer push over HTTP', async () => {
    const http = servers.http!;
    const work = join(scratch, 'http-push');
    const env = {
      ...basicEnv('writer', http.writer.password),
      GIT_AUTHOR_NAME: 'w',
      GIT_AUTHOR_EMAIL: 'w@x',
      GIT_COMMITTER_NAME: 'w',
      GIT_COMMITTER_EMAIL: 'w@x',
    };
    await git(['clone', '--quiet', '--', http.url('app'), work], { env });
    // Incompressible and above the 1 MiB http.postBuffer, so the pack goes up chunked.
    await writeFile(join(work, 'big.bin'), randomBytes(1536 * 1024));
    await git(['add', '--all'], { cwd: work, env });
    await git(['commit', '--quiet', '-m', 'Writer commit'], { cwd: work, env });
    await git(['push', '--quiet', 'origin', 'HEAD:refs/heads/main'], { cwd: work, env });
    const log = await servers.repos.readLog('app', 'main');
    assert.equal(log[0]?.message, 'Writer commit');
    assert.ok(http.requests.some((r) => r.service === 'git-receive-pack' && r.method === 'POST' && r.chunked && r.status === 200));
  });

  it('handles gzip-encoded fetch requests', async () => {
    const http = servers.http!;
    // Many branches make the clone's list of wants larger than the 1 KiB git starts gzipping at.
    const head = (await servers.repos.head('app', 'main'))!;
    for (let i = 0; i < 40; i++) await servers.repos.commitFiles('app', `b${i}`, { [`f${i}.txt`]: `${i}\n` }, `branch ${i}`);
    const work = join(scratch, 'http-gzip');
    await git(['clone', '--quiet', '--no-single-branch', '--', http.url('app'), work], {
      env: basicEnv('reader', http.reader.password),
    });
    assert.ok(
      http.requests.some((r) => r.contentEncoding === 'gzip' && r.status === 200),
      'a gzip request was served',
    );
    const branches = (await git(['branch', '--remotes'], { cwd: work })).stdout;
    assert.match(branches, /origin\/b39/);
    assert.ok(head);
  });

  it('serves clones over SSH with the authorized key only', async () => {
    const ssh = servers.ssh!;
    const keyFile = join(scratch, 'id');
    const strangerFile = join(scratch, 'stranger');
    const knownHosts = join(scratch, 'known_hosts');
    await writeFile(keyFile, ssh.privateKey, { mode: 0o600 });
    await writeFile(strangerFile, ssh.unauthorizedPrivateKey, { mode: 0o600 });
    await writeFile(knownHosts, `${ssh.knownHosts}\n`);
    assert.match(ssh.knownHosts, /^\[127\.0\.0\.1\]:\d+ ssh-ed25519 AAAA\S+$/);
    const sshEnv = (key: string) =>
      harnessGitEnv({
        GIT_SSH_COMMAND:
          `ssh -F /dev/null -i ${key} -o IdentitiesOnly=yes -o BatchMode=yes ` +
          `-o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes`,
      });
    const work = join(scratch, 'ssh-ok');
    await git(['clone', '--quiet', '--', ssh.url('app'), work], { env: sshEnv(keyFile) });
    assert.ok((await readFile(join(work, 'deploy/app.yaml'), 'utf8')).startsWith('kind: ConfigMap'));
    await assert.rejects(
      git(['clone', '--quiet', '--', ssh.url('app'), join(scratch, 'ssh-bad')], { env: sshEnv(strangerFile) }),
      /Permission denied/,
    );
  });
});
