import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TidemarkError } from '../errors/index.ts';
import { lsRemote } from './remote.ts';
import { refuseCredentialsOverHttp, refuseLocalRepository } from './transport.ts';
import { push } from './update.ts';
import type { GitCredentials } from './types.ts';

const password: GitCredentials = { username: 'bob', password: 'hunter2-secret' };
const token: GitCredentials = { bearerToken: 'tok-secret' };

function refusal(fn: () => unknown): TidemarkError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TidemarkError);
    return err;
  }
  assert.fail('expected a refusal');
}

describe('refuseCredentialsOverHttp', () => {
  it('refuses a password or a token bound for plain http:// without the opt-in', () => {
    for (const creds of [password, token]) {
      const err = refusal(() => refuseCredentialsOverHttp(creds, 'http://git.example.com/org/config', undefined));
      assert.equal(err.code, 'GitInsecureCredentials');
      assert.equal(err.kind, 'terminal');
      assert.match(err.hint ?? '', /spec\.insecure: true/);
      assert.doesNotMatch(err.message, /hunter2|tok-secret/);
      refusal(() => refuseCredentialsOverHttp(creds, 'HTTP://git.example.com/org/config', false));
    }
  });

  it('lets them through with the opt-in, over https://, to a loopback host, and lets other credentials through', () => {
    refuseCredentialsOverHttp(password, 'http://git.example.com/org/config', true);
    refuseCredentialsOverHttp(token, 'https://git.example.com/org/config', undefined);
    refuseCredentialsOverHttp(password, 'http://127.0.0.1:8080/app.git', undefined);
    refuseCredentialsOverHttp(password, 'http://localhost/app.git', undefined);
    refuseCredentialsOverHttp(password, 'http://[::1]:3000/app.git', undefined);
    refuseCredentialsOverHttp(undefined, 'http://git.example.com/org/config', undefined);
    refuseCredentialsOverHttp({ caFile: 'PEM' }, 'http://git.example.com/org/config', undefined);
    refuseCredentialsOverHttp({ identity: 'KEY', knownHosts: 'h' }, 'git@git.example.com:org/config', undefined);
  });

  it('is enforced before git runs: ls-remote to a plain http:// host never starts a process', async () => {
    const commands: string[][] = [];
    await assert.rejects(
      lsRemote('http://git.example.invalid/org/config', password, { branch: 'main' }, { onCommand: (c) => commands.push([...c]) }),
      (err: unknown) => err instanceof TidemarkError && err.code === 'GitInsecureCredentials',
    );
    assert.deepEqual(commands, []);
  });
});

describe("the image updater's push", () => {
  it('refuses to push with a password to a plain http:// origin unless the deployment opted in', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tidemark-push-http-'));
    try {
      execFileSync('git', ['init', '--quiet', dir], { env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' } });
      execFileSync('git', ['-C', dir, 'remote', 'add', 'origin', 'http://git.example.invalid/org/config.git']);
      const commands: string[][] = [];
      const onCommand = (c: readonly string[]) => commands.push([...c]);
      await assert.rejects(
        push(dir, 'main', { credentials: password, onCommand }),
        (err: unknown) => err instanceof TidemarkError && err.code === 'GitInsecureCredentials',
      );
      assert.equal(commands.filter((c) => c[0] === 'push').length, 0, 'git push never ran');
      // With the opt-in the push is attempted (and fails on the unresolvable host, not on the rule).
      await assert.rejects(
        push(dir, 'main', { credentials: password, onCommand, allowInsecureHttp: true, timeoutMs: 20_000 }),
        (err: unknown) => err instanceof TidemarkError && err.code !== 'GitInsecureCredentials',
      );
      assert.equal(commands.filter((c) => c[0] === 'push').length, 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('local repositories', () => {
  it('a file:// URL is refused unless the program was started to allow it; other transports pass', () => {
    for (const url of ['file:///srv/git/app.git', 'file://localhost/var/cache/tidemark/sources/x']) {
      assert.throws(
        () => refuseLocalRepository(url, false),
        (err: unknown) => err instanceof TidemarkError && err.code === 'GitLocalRepositoryNotAllowed' && err.kind === 'terminal',
      );
      assert.doesNotThrow(() => refuseLocalRepository(url, true));
    }
    for (const url of ['https://git.example.com/org/app.git', 'ssh://git@git.example.com/org/app.git', 'git@git.example.com:org/app.git']) {
      assert.doesNotThrow(() => refuseLocalRepository(url, false));
    }
  });
});
