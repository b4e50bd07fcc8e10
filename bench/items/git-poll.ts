/**
 * Item 4: the agent's poll of an unchanged remote — `lsRemote` of shared/git, called the way the
 * agent calls it (in process over smart HTTP: protocol v2 `ls-refs` on a kept-alive connection) — against a
 * plain `git ls-remote <url> refs/heads/main` with the same credentials through GIT_ASKPASS.
 * Both ask the harness's smart-HTTP server (basic auth) of a repository with 100 tags and 20
 * branches; the server's own log counts the requests each side made. Our polls are traced as
 * well: the time the server (in this process) spent answering them, the connections they opened
 * and the auth challenges they met — what a poll slower than its one round trip would show.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ServerResponse } from 'node:http';
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
  /** Per timed poll of ours: from the server's first look at each request to its last byte sent. */
  oursServerMs: number[];
  /** TCP connections our timed polls opened (a kept-alive pool opens none). */
  oursNewConnections: number;
  /** 401 answers our timed polls met (credentials are sent with the first request). */
  oursChallenges: number;
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

  // The server runs in this process; git's own connections are in its child process, not here.
  let serverMs = 0;
  let tracing = false;
  let newConnections = 0;
  const started = new WeakMap<ServerResponse, number>();
  const onServerStart = (message: unknown) => {
    if (tracing) started.set((message as { response: ServerResponse }).response, performance.now());
  };
  const onServerFinish = (message: unknown) => {
    const start = started.get((message as { response: ServerResponse }).response);
    if (start !== undefined) serverMs += performance.now() - start;
  };
  const onConnection = () => {
    if (tracing) newConnections++;
  };
  const ours = async () => {
    serverMs = 0;
    tracing = true;
    const start = performance.now();
    try {
      await lsRemote(url, auth, { branch: 'main' });
      return performance.now() - start;
    } finally {
      tracing = false;
    }
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
    oursServerMs: [],
    oursNewConnections: 0,
    oursChallenges: 0,
  };
  const timedOurs = async () => {
    const before = http.requests.length;
    newConnections = 0;
    const ms = await ours();
    result.oursMs.push(ms);
    result.oursServerMs.push(serverMs);
    result.oursNewConnections += newConnections;
    result.oursChallenges += http.requests.slice(before).filter((r) => r.status === 401).length;
  };
  subscribe('http.server.request.start', onServerStart);
  subscribe('http.server.response.finish', onServerFinish);
  subscribe('net.client.socket', onConnection);
  try {
    for (let i = 0; i < options.reps; i++) {
      if (i % 2 === 0) {
        await timedOurs();
        result.peerMs.push(await peer());
      } else {
        result.peerMs.push(await peer());
        await timedOurs();
      }
    }
  } finally {
    unsubscribe('http.server.request.start', onServerStart);
    unsubscribe('http.server.response.finish', onServerFinish);
    unsubscribe('net.client.socket', onConnection);
  }
  return result;
}
