import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { registry } from '../metrics/index.ts';
import { parseTextFormat } from '../metrics/text-format.ts';
import { gitEnvironment, runGit } from './run.ts';

const scratch = mkdtempSync(join(tmpdir(), 'tidemark-run-git-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A stand-in `git` on PATH: starts a grandchild (as git starts git-remote-http or ssh) and records its pid. */
function fakeGit(name: string, body: string): { env: Record<string, string>; pidFile: string } {
  const dir = mkdtempSync(join(scratch, `${name}-`));
  const pidFile = join(dir, 'helper.pid');
  writeFileSync(join(dir, 'git'), `#!/bin/sh\nsleep 300 &\necho $! > "${pidFile}"\n${body}\n`);
  chmodSync(join(dir, 'git'), 0o755);
  return { env: { PATH: `${dir}:/usr/bin:/bin` }, pidFile };
}

/** True while the process runs; a zombie waiting to be reaped counts as gone. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function helperPid(pidFile: string): Promise<number> {
  for (let i = 0; i < 200; i++) {
    try {
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      if (pid > 0) return pid;
    } catch {
      // not written yet
    }
    await sleep(10);
  }
  throw new Error('the fake git never started its helper');
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(10);
  return !alive(pid);
}

const base = { cwd: scratch, operation: 'ls-remote', defaultTimeoutMs: 30_000 };

describe('runGit', () => {
  it('returns what git prints, untrimmed', async () => {
    const out = await runGit(['--version'], { ...base, env: gitEnvironment() });
    assert.match(out, /^git version \d+\.\d+/);
    assert.ok(out.endsWith('\n'));
  });

  it('maps a failing git to a stable code from its stderr', async () => {
    await assert.rejects(
      runGit(['ls-remote', '--', join(scratch, 'nope')], { ...base, env: gitEnvironment() }),
      (err: Error & { code?: string }) => err.code === 'GitRepositoryNotFound',
    );
  });

  it('a deadline kills git and every helper it started (its process group)', async () => {
    const { env, pidFile } = fakeGit('deadline', 'wait');
    const started = Date.now();
    const pending = runGit(['ls-remote'], { ...base, env, timeoutMs: 500 });
    const helper = await helperPid(pidFile);
    await assert.rejects(
      pending,
      (err: Error & { code?: string; kind?: string }) =>
        err.code === 'GitUnreachable' && err.kind === 'transient' && /timed out after 500ms/.test(err.message),
    );
    assert.ok(Date.now() - started < 10_000);
    assert.ok(await gone(helper), 'the helper outlived the deadline');
  });

  it('an abort kills the group and rethrows the reason', async () => {
    const { env, pidFile } = fakeGit('abort', 'wait');
    const controller = new AbortController();
    const pending = runGit(['fetch'], { ...base, env, signal: controller.signal });
    const helper = await helperPid(pidFile);
    controller.abort(new Error('shutting down'));
    await assert.rejects(pending, /shutting down/);
    assert.ok(await gone(helper));
  });

  it("the caller's abort wins over git's own deadline when both fire before git's exit is read", async () => {
    // A process outside git's group holds its stdout a second: the deadline kills the group at
    // 300 ms, the caller aborts at 600 ms, and only then does the output end.
    const { env, pidFile } = fakeGit('both', 'setsid sleep 1 &\nwait');
    const controller = new AbortController();
    const pending = runGit(['ls-remote'], { ...base, env, timeoutMs: 300, signal: controller.signal });
    const helper = await helperPid(pidFile);
    setTimeout(() => controller.abort(new Error('the reconcile took longer than spec.timeout')), 600);
    await assert.rejects(pending, /took longer than spec\.timeout/);
    assert.ok(await gone(helper));
  });

  it('nothing git left in its group survives its exit', async () => {
    const { env, pidFile } = fakeGit('leftover', 'echo done');
    assert.equal(await runGit(['status'], { ...base, env }), 'done\n');
    assert.ok(await gone(await helperPid(pidFile)));
  });

  it('an already aborted signal starts nothing', async () => {
    const { env, pidFile } = fakeGit('pre-aborted', 'wait');
    const seen: string[][] = [];
    await assert.rejects(
      runGit(['fetch'], { ...base, env, signal: AbortSignal.abort(new Error('too late')), onCommand: (a) => seen.push([...a]) }),
      /too late/,
    );
    assert.deepEqual(seen, []);
    await sleep(50);
    assert.throws(() => readFileSync(pidFile));
  });

  it('git reads no input: stdin is closed', async () => {
    const dir = mkdtempSync(join(scratch, 'stdin-'));
    writeFileSync(join(dir, 'git'), '#!/bin/sh\ncat\necho read-nothing\n');
    chmodSync(join(dir, 'git'), 0o755);
    assert.equal(await runGit(['commit'], { ...base, env: { PATH: `${dir}:/usr/bin:/bin` }, timeoutMs: 5_000 }), 'read-nothing\n');
  });

  it('no git on PATH is a clear GitCommandFailed', async () => {
    await assert.rejects(
      runGit(['--version'], { ...base, env: { PATH: join(scratch, 'empty') } }),
      (err: Error & { code?: string; hint?: string }) =>
        err.code === 'GitCommandFailed' && /git is not installed/.test(err.message) && err.hint === 'install git',
    );
  });
});

describe('runGit metrics', () => {
  it('counts each operation by its result: success, or the failure’s Reason', async () => {
    const count = async (operation: string, result: string) =>
      parseTextFormat(await registry.metrics())
        .get('tidemark_git_operations_total')
        ?.samples.find((s) => s.labels.operation === operation && s.labels.result === result)?.value ?? 0;
    const before = [await count('commit', 'success'), await count('commit', 'GitRepositoryNotFound')];
    const env = gitEnvironment({});
    await runGit(['--version'], { cwd: scratch, env, operation: 'commit', defaultTimeoutMs: 10_000 });
    await assert.rejects(
      runGit(['ls-remote', '--', join(scratch, 'no-such-repository')], {
        cwd: scratch,
        env,
        operation: 'commit',
        defaultTimeoutMs: 10_000,
      }),
      (err: unknown) => (err as { code?: string }).code === 'GitRepositoryNotFound',
    );
    const after = [await count('commit', 'success'), await count('commit', 'GitRepositoryNotFound')];
    assert.deepEqual(
      after.map((n, i) => n - (before[i] ?? 0)),
      [1, 1],
    );
  });
});
