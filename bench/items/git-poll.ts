/**
 * Item 4: the agent's poll of an unchanged remote — `lsRemote` of shared/git, called the way the
 * agent calls it (in process over smart HTTP: protocol v2 `ls-refs` on a kept-alive connection) — against a
 * plain `git ls-remote <url> refs/heads/main` with the same credentials through GIT_ASKPASS.
 * Both ask the harness's smart-HTTP server (basic auth) of a repository with 100 tags and 20
 * branches; the server's own log counts the requests each side made.
 */
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lsRemote } from '../../shared/git/index.ts';
import { harnessGitEnv } from '../../test/harness/git.ts';
import type { BenchEnv } from '../lib/env.ts';
import { mustRun } from '../lib/proc.ts';

export interface GitPollResult {
  oursMs: number[];
  peerMs: number[];
  oursRequests: number;
  peerRequests: number;
  refs: number;
}

export async function runGitPoll(env: BenchEnv, options: { reps: number; warmup: number }): Promise<GitPollResult> {
  const http = env.git.http!;
  const repo = 'poll';
  await env.git.repos.createRepo(
    repo,
    { 'deploy/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: poll\n' },
    { branch: 'main' },
  );
  for (let i = 0; i < 20; i++) await env.git.repos.commitFiles(repo, `feature-${i}`, { [`f${i}.txt`]: `${i}\n` }, `feature ${i}`);
  for (let i = 0; i < 100; i++) await env.git.repos.createTag(repo, `v1.${Math.floor(i / 10)}.${i % 10}`, 'main');
  const url = http.url(repo);
  const auth = { username: http.reader.username, password: http.reader.password };

  // The peer authenticates the way a user's credential setup would: an askpass program reading files.
  const dir = await mkdtemp(join(env.workDir, 'askpass-'));
  await writeFile(join(dir, 'user'), `${auth.username}\n`, { mode: 0o600 });
  await writeFile(join(dir, 'pass'), `${auth.password}\n`, { mode: 0o600 });
  const askpass = join(dir, 'askpass.sh');
  await writeFile(askpass, `#!/bin/sh\ncase "$1" in [Uu]sername*) cat '${join(dir, 'user')}' ;; *) cat '${join(dir, 'pass')}' ;; esac\n`, {
    mode: 0o700,
  });
  await chmod(askpass, 0o700);
  const peerEnv = harnessGitEnv({ GIT_ASKPASS: askpass });
  const peerArgs = ['ls-remote', '--', url, 'refs/heads/main'];

  const ours = async () => {
    const start = performance.now();
    await lsRemote(url, auth, { branch: 'main' });
    return performance.now() - start;
  };
  const peer = async () => (await mustRun('git', peerArgs, { env: peerEnv })).ms;

  const countRequests = async (fn: () => Promise<number>) => {
    const before = http.requests.length;
    await fn();
    return http.requests.length - before;
  };
  for (let i = 0; i < options.warmup; i++) {
    await ours();
    await peer();
  }
  const result: GitPollResult = {
    oursMs: [],
    peerMs: [],
    oursRequests: await countRequests(ours),
    peerRequests: await countRequests(peer),
    refs: 1 + 20 + 100,
  };
  for (let i = 0; i < options.reps; i++) {
    if (i % 2 === 0) {
      result.oursMs.push(await ours());
      result.peerMs.push(await peer());
    } else {
      result.peerMs.push(await peer());
      result.oursMs.push(await ours());
    }
  }
  return result;
}
