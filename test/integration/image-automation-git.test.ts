import assert from 'node:assert/strict';
import { readFile, writeFile, mkdtemp, rm, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { TidemarkError } from '../../shared/errors/index.ts';
import type { GitCredentials } from '../../shared/git/index.ts';
import { updateBranch, type AppliedUpdate } from '../../image-updater/automation/git-update.ts';
import { git, startGitServers } from '../harness/git.ts';
import type { GitServers } from '../harness/git.ts';

const run = promisify(execFile);
const BOT = { name: 'tidemark-bot', email: 'tidemark-bot@users.noreply.tidemark.dev' };
const FILE = 'apps/web.yaml';
const manifest = (image: string) => `spec:\n  image: ${image} # {"$imagepolicy": "ns:web"}\n`;

/** A stand-in for the marker rewrite: sets the marked image in FILE, reports whether it changed. */
function setImage(image: string, seen?: string[]) {
  return async (dir: string): Promise<AppliedUpdate<string>> => {
    const path = join(dir, FILE);
    const text = await readFile(path, 'utf8');
    seen?.push(text);
    const next = text.replace(/image: \S+ #/, `image: ${image} #`);
    if (next === text) return { message: null, result: 'unchanged' };
    await writeFile(path, next);
    return { message: `Update image automatically.\n\nImage: ${image}\n`, result: 'changed' };
  };
}

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

describe('image automation: clone, rewrite, commit, push against real Git servers', () => {
  let servers: GitServers;
  let workRoot: string;
  let writer: GitCredentials;
  let reader: GitCredentials;

  before(async () => {
    servers = await startGitServers({ http: true, ssh: true });
    workRoot = await mkdtemp(join(tmpdir(), 'tidemark-automation-git-'));
    writer = { username: servers.http!.writer.username, password: servers.http!.writer.password };
    reader = { username: servers.http!.reader.username, password: servers.http!.reader.password };
  });

  after(async () => {
    await servers?.stop();
    if (workRoot) await rm(workRoot, { recursive: true, force: true });
  });

  const request = (repo: string, image: string, extra: Partial<Parameters<typeof updateBranch<string>>[0]> = {}) => ({
    url: servers.http!.url(repo),
    credentials: writer,
    checkoutBranch: 'main',
    pushBranch: 'main',
    author: BOT,
    workRoot,
    apply: setImage(image),
    ...extra,
  });

  it('commits and pushes a change; the same update again commits nothing', async () => {
    const base = await servers.repos.createRepo('plain', { [FILE]: manifest('nginx:1') });
    const first = await updateBranch(request('plain', 'nginx:2'));
    assert.equal(first.kind, 'pushed');
    assert.equal(first.kind === 'pushed' && first.base, base);
    const log = await servers.repos.readLog('plain', 'main');
    assert.equal(log.length, 2);
    assert.deepEqual(
      { message: log[0]?.message, author: log[0]?.authorName, files: log[0]?.files },
      { message: 'Update image automatically.\n\nImage: nginx:2', author: BOT.name, files: [FILE] },
    );
    assert.equal(log[0]?.sha, first.kind === 'pushed' ? first.commit : '');
    assert.equal(await servers.repos.readFile('plain', 'main', FILE), manifest('nginx:2'));

    const second = await updateBranch(request('plain', 'nginx:2'));
    assert.deepEqual(
      { kind: second.kind, reason: second.kind === 'unchanged' ? second.reason : '' },
      { kind: 'unchanged', reason: 'no-change' },
    );
    assert.equal((await servers.repos.readLog('plain', 'main')).length, 2, 'no empty commit');
    assert.deepEqual(await readdir(workRoot), [], 'checkouts are removed');
  });

  for (const moment of ['advertisement', 'pack upload'] as const) {
    it(`a human push racing ours (at the ${moment}) ends with both commits; ours is re-applied on theirs`, async () => {
      const repo = `race-${moment === 'advertisement' ? 'adv' : 'pack'}`;
      await servers.repos.createRepo(repo, { [FILE]: manifest('nginx:1'), 'README.md': 'v1\n' });
      let human: string | undefined;
      servers.http!.setBeforeRequest(async (req) => {
        const hit =
          moment === 'advertisement'
            ? req.method === 'GET' && req.service === 'git-receive-pack'
            : req.method === 'POST' && req.service === 'git-receive-pack';
        if (hit && human === undefined && req.path.includes(repo)) {
          human = await servers.repos.commitFiles(repo, 'main', { 'README.md': 'v2 by a human\n' }, 'human change');
        }
      });
      const seen: string[] = [];
      try {
        const outcome = await updateBranch(request(repo, 'nginx:2', { apply: setImage('nginx:2', seen) }));
        assert.equal(outcome.kind, 'pushed');
        assert.equal(outcome.kind === 'pushed' && outcome.attempts, 2);
        assert.equal(outcome.kind === 'pushed' && outcome.base, human, 'the second attempt started from the human commit');
      } finally {
        servers.http!.setBeforeRequest(undefined);
      }
      const log = await servers.repos.readLog(repo, 'main');
      assert.deepEqual(
        log.map((e) => e.message),
        ['Update image automatically.\n\nImage: nginx:2', 'human change', 'Initial commit'],
      );
      assert.equal(log[1]?.sha, human);
      assert.equal(await servers.repos.readFile(repo, 'main', 'README.md'), 'v2 by a human\n');
      assert.equal(await servers.repos.readFile(repo, 'main', FILE), manifest('nginx:2'));
      assert.equal(seen.length, 2, 'the rewrite ran again on the new head');
    });
  }

  it('re-evaluates on the new head: a human who already set the value leaves nothing to commit', async () => {
    await servers.repos.createRepo('same-value', { [FILE]: manifest('nginx:1') });
    let human: string | undefined;
    servers.http!.setBeforeRequest(async (req) => {
      if (req.method === 'POST' && req.service === 'git-receive-pack' && human === undefined) {
        human = await servers.repos.commitFiles('same-value', 'main', { [FILE]: manifest('nginx:2') }, 'human bumps the image');
      }
    });
    try {
      const outcome = await updateBranch(request('same-value', 'nginx:2'));
      assert.equal(outcome.kind, 'unchanged');
    } finally {
      servers.http!.setBeforeRequest(undefined);
    }
    const log = await servers.repos.readLog('same-value', 'main');
    assert.deepEqual(
      log.map((e) => e.message),
      ['human bumps the image', 'Initial commit'],
    );
  });

  it("gives up with GitPushRejected (transient) when the branch keeps moving, losing nobody's commit", async () => {
    await servers.repos.createRepo('busy', { [FILE]: manifest('nginx:1'), 'n.txt': '0\n' });
    let n = 0;
    servers.http!.setBeforeRequest(async (req) => {
      if (req.method === 'POST' && req.service === 'git-receive-pack' && req.path.includes('busy')) {
        n++;
        await servers.repos.commitFiles('busy', 'main', { 'n.txt': `${n}\n` }, `human ${n}`);
      }
    });
    try {
      const err = await rejectsWith(updateBranch(request('busy', 'nginx:2', { maxAttempts: 3 })), 'GitPushRejected');
      assert.equal(err.kind, 'transient');
      assert.match(err.message, /rejected 3 times/);
    } finally {
      servers.http!.setBeforeRequest(undefined);
    }
    const log = await servers.repos.readLog('busy', 'main');
    assert.deepEqual(
      log.map((e) => e.message),
      ['human 3', 'human 2', 'human 1', 'Initial commit'],
    );
    // The next run, with the branch quiet, lands it.
    const outcome = await updateBranch(request('busy', 'nginx:2'));
    assert.equal(outcome.kind, 'pushed');
  });

  it('a read-only credential gives GitPermissionDenied (terminal) and changes nothing', async () => {
    const base = await servers.repos.createRepo('readonly', { [FILE]: manifest('nginx:1') });
    const err = await rejectsWith(updateBranch(request('readonly', 'nginx:2', { credentials: reader })), 'GitPermissionDenied');
    assert.equal(err.kind, 'terminal');
    assert.doesNotMatch(err.message, new RegExp(servers.http!.reader.password));
    assert.equal(await servers.repos.head('readonly', 'main'), base);
  });

  it('keeps a separate push branch one commit ahead of the current base, replacing it with a lease', async () => {
    await servers.repos.createRepo('pr', { [FILE]: manifest('nginx:1'), 'README.md': 'v1\n' });
    const pr = { pushBranch: 'tidemark/image-updates' };
    const first = await updateBranch(request('pr', 'nginx:2', pr));
    assert.equal(first.kind, 'pushed');
    assert.equal(await servers.repos.readFile('pr', 'main', FILE), manifest('nginx:1'), 'the base branch is untouched');
    let botLog = await servers.repos.readLog('pr', pr.pushBranch);
    assert.deepEqual(
      botLog.map((e) => e.message),
      ['Update image automatically.\n\nImage: nginx:2', 'Initial commit'],
    );

    // Nothing new: no force-push of an identical commit.
    const again = await updateBranch(request('pr', 'nginx:2', pr));
    assert.deepEqual(
      { kind: again.kind, reason: again.kind === 'unchanged' ? again.reason : '' },
      { kind: 'unchanged', reason: 'branch-current' },
    );
    assert.equal(await servers.repos.head('pr', pr.pushBranch), first.kind === 'pushed' ? first.commit : '');

    // The base moves on: the bot branch is rebuilt on the new head, not left behind it.
    const moved = await servers.repos.commitFiles('pr', 'main', { 'README.md': 'v2\n' }, 'base moves');
    const third = await updateBranch(request('pr', 'nginx:2', pr));
    assert.equal(third.kind, 'pushed');
    botLog = await servers.repos.readLog('pr', pr.pushBranch);
    assert.deepEqual(
      botLog.map((e) => e.message),
      ['Update image automatically.\n\nImage: nginx:2', 'base moves', 'Initial commit'],
    );
    assert.equal(botLog[1]?.sha, moved);
    assert.equal(await servers.repos.readFile('pr', pr.pushBranch, 'README.md'), 'v2\n');

    // A newer image replaces the bot's commit instead of stacking another one.
    const fourth = await updateBranch(request('pr', 'nginx:3', pr));
    assert.equal(fourth.kind, 'pushed');
    botLog = await servers.repos.readLog('pr', pr.pushBranch);
    assert.deepEqual(
      botLog.map((e) => e.message),
      ['Update image automatically.\n\nImage: nginx:3', 'base moves', 'Initial commit'],
    );
    assert.equal((await servers.repos.readLog('pr', 'main')).length, 2, 'the base branch never gets bot commits');
  });

  it('pushes over SSH with a key', async () => {
    await servers.repos.createRepo('over-ssh', { [FILE]: manifest('nginx:1') });
    const ssh = servers.ssh!;
    const outcome = await updateBranch(
      request('over-ssh', 'nginx:2', {
        url: ssh.url('over-ssh'),
        credentials: { identity: ssh.privateKey, knownHosts: ssh.knownHosts },
      }),
    );
    assert.equal(outcome.kind, 'pushed');
    assert.equal(await servers.repos.readFile('over-ssh', 'main', FILE), manifest('nginx:2'));
  });

  it('signs the bot commit with an SSH key from the signing Secret', async () => {
    await servers.repos.createRepo('signed', { [FILE]: manifest('nginx:1') });
    const keyDir = await mkdtemp(join(tmpdir(), 'tidemark-signing-'));
    try {
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'tidemark-signing', '-f', join(keyDir, 'key')]);
      const signingKey = await readFile(join(keyDir, 'key'), 'utf8');
      const outcome = await updateBranch(request('signed', 'nginx:2', { signingKey }));
      assert.equal(outcome.kind, 'pushed');
      const raw = (
        await git(['--git-dir', servers.repos.path('signed'), 'cat-file', 'commit', outcome.kind === 'pushed' ? outcome.commit : 'HEAD'])
      ).stdout;
      assert.match(raw, /^gpgsig -----BEGIN SSH SIGNATURE-----/m);
    } finally {
      await rm(keyDir, { recursive: true, force: true });
    }
  });

  it('refuses option-like branch names before any git process starts', async () => {
    await servers.repos.createRepo('options', { [FILE]: manifest('nginx:1') });
    for (const field of ['checkoutBranch', 'pushBranch'] as const) {
      const commands: string[][] = [];
      const err = await rejectsWith(
        updateBranch(
          request('options', 'nginx:2', {
            [field]: '--upload-pack=touch /tmp/pwned',
            onCommand: (args) => commands.push([...args]),
          }),
        ),
        'GitInvalidSpec',
      );
      assert.equal(err.kind, 'terminal');
      assert.deepEqual(commands, [], 'no git process ran');
    }
    assert.equal((await servers.repos.readLog('options', 'main')).length, 1);
  });
});
