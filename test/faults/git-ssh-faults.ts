/**
 * The Git faults over SSH: the agent reaches a real sshd (Debian's OpenSSH, git-upload-pack
 * behind it) with a key and known_hosts from a Secret, through a TCP fault proxy where the fault
 * lives on the wire. sshd stopped, connections held past spec.timeout, a port that answers
 * non-SSH bytes or an SSH banner and then garbage, another server (another host key) at the
 * address, the key taken out of authorized_keys, the repository deleted, the branch force-pushed,
 * a pack cut short by upload-pack's connection ending. The same checks as over HTTP
 * (git-faults.ts), and the private key in no log line, status or Event.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import type { GitSshServer } from '../harness/git-server.ts';
import { startGitSshServer } from '../harness/git-server.ts';
import type { TcpFaultProxy } from '../harness/tcp-fault-proxy.ts';
import { startTcpFaultProxy } from '../harness/tcp-fault-proxy.ts';
import type { FaultEnv } from './case-env.ts';
import type { FaultRow } from './report.ts';
import type { GitFaultCase, RepoContext } from './git-faults.ts';
import { deleteRepository, forcePushB, recreateRepository, runGitFaultCase } from './git-faults.ts';

interface SshContext extends RepoContext {
  sshd: GitSshServer;
  proxy: TcpFaultProxy;
  /** Servers a case started besides sshd (an impostor); closed with the case. */
  extra: GitSshServer[];
}

export interface GitSshFault extends GitFaultCase<SshContext> {
  /** The deployment's URL names sshd's own port, not the proxy's (sshd itself goes down). */
  direct?: boolean;
  /** sshd runs commands through the pack cutter (startGitSshServer's `cutPacks`). */
  cutPacks?: boolean;
}

/**
 * Longer than over HTTP: a first sync is two SSH logins (ls-remote, fetch), each a key exchange,
 * and on 2 busy cores a login took up to a second.
 */
const TIMEOUT = '10s';

const onProxy =
  (verdict: Parameters<TcpFaultProxy['setVerdict']>[0]) =>
  (ctx: SshContext, pushB: () => Promise<string>): Promise<string> => {
    ctx.proxy.setVerdict(verdict);
    return pushB();
  };
const clearProxy = (ctx: SshContext, during: string): Promise<string> => {
  ctx.proxy.setVerdict(undefined);
  return Promise.resolve(during);
};

export const GIT_SSH_FAULTS: readonly GitSshFault[] = [
  {
    name: 'Git over SSH: sshd stopped (connection refused)',
    reason: 'GitUnreachable',
    direct: true,
    inject: async (ctx, pushB) => {
      await ctx.sshd.down();
      return pushB();
    },
    lift: async (ctx, during) => {
      await ctx.sshd.up();
      return during;
    },
  },
  {
    name: `Git over SSH: slow (each connection held 2× spec.timeout ${TIMEOUT})`,
    reason: 'ReconcileTimeout',
    inject: onProxy({ delayMs: 20_000 }),
    lift: clearProxy,
  },
  {
    name: 'Git over SSH: the port answers non-SSH bytes',
    reason: 'GitCommandFailed',
    inject: onProxy({ garbage: Buffer.from('\u0000\u00ffzz\u0013 no SSH here\r\n', 'latin1') }),
    lift: clearProxy,
  },
  {
    name: 'Git over SSH: an SSH banner, then garbage',
    reason: 'GitCommandFailed',
    inject: onProxy({ garbage: Buffer.concat([Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'), randomBytes(4096)]) }),
    lift: clearProxy,
  },
  {
    name: 'Git over SSH: host key changed (another sshd at the address)',
    reason: 'GitHostKeyMismatch',
    inject: async (ctx, pushB) => {
      // An impostor with its own host key serving the same repositories, and authorizing the
      // agent's key: only the host key check stands between the agent and it.
      const impostor = await startGitSshServer(ctx.git.repos);
      ctx.extra.push(impostor);
      await impostor.authorizeKey(ctx.sshd.publicKey);
      ctx.proxy.setVerdict({ upstreamPort: impostor.port });
      return pushB();
    },
    lift: clearProxy,
    verify: async (ctx) => {
      // Fail closed: the agent hung up at the host key, before it offered its key.
      const impostor = ctx.extra[0];
      assert.ok(impostor?.process.logFile, 'the impostor sshd logs');
      const log = await readFile(impostor.process.logFile, 'utf8');
      assert.doesNotMatch(log, /Accepted publickey|Postponed publickey/, 'the agent never authenticated to the impostor');
      assert.match(log, /Connection (closed|reset) by/, 'the agent did reach the impostor');
    },
  },
  {
    name: 'Git over SSH: key revoked (removed from authorized_keys)',
    reason: 'GitAuthenticationFailed',
    inject: async (ctx, pushB) => {
      await ctx.sshd.revokeKey(ctx.sshd.publicKey);
      return pushB();
    },
    lift: async (ctx, during) => {
      await ctx.sshd.authorizeKey(ctx.sshd.publicKey);
      return during;
    },
  },
  {
    name: 'Git over SSH: repository deleted (then created again)',
    reason: 'GitRepositoryNotFound',
    inject: deleteRepository,
    lift: recreateRepository,
  },
  {
    name: 'Git over SSH: branch force-pushed (history rewritten)',
    reason: undefined,
    inject: forcePushB,
    lift: (_ctx, during) => Promise.resolve(during),
  },
  {
    name: 'Git over SSH: pack cut short (upload-pack ends 120 bytes into the pack)',
    reason: 'GitUnreachable',
    cutPacks: true,
    inject: async (ctx, pushB) => {
      await ctx.sshd.cutPacksAfter(120);
      return pushB();
    },
    lift: async (ctx, during) => {
      await ctx.sshd.cutPacksAfter(undefined);
      return during;
    },
  },
];

/** One SSH fault on an sshd of its own (and a TCP fault proxy in front of it). */
export function runGitSshFault(env: FaultEnv, fault: GitSshFault): Promise<FaultRow> {
  return runGitFaultCase(env, fault, 'sshfault', async (repo) => {
    const { git } = env;
    const sshd = await startGitSshServer(git.repos, fault.cutPacks ? { cutPacks: true } : {});
    let proxy: TcpFaultProxy;
    try {
      proxy = await startTcpFaultProxy(sshd.port);
    } catch (err) {
      await sshd.stop();
      throw err;
    }
    const ctx: SshContext = { git, repo, sshd, proxy, extra: [] };
    const port = fault.direct ? sshd.port : proxy.port;
    return {
      ctx,
      spec: { url: sshd.url(repo).replace(`:${sshd.port}/`, `:${port}/`), secretRef: 'git' },
      timeout: TIMEOUT,
      secretData: { identity: sshd.privateKey, known_hosts: sshd.knownHosts.replace(`:${sshd.port} `, `:${port} `) },
      secrets: [
        {
          name: 'Git SSH private key',
          value: sshd.privateKey,
          // Another key of the same type and the public halves: their common parts are the format.
          sameShape: [sshd.unauthorizedPrivateKey, sshd.publicKey, sshd.knownHosts],
        },
      ],
      restore: async () => {
        proxy.setVerdict(undefined);
        await sshd.up();
        // Once, whether or not the case took it out.
        await sshd.revokeKey(sshd.publicKey);
        await sshd.authorizeKey(sshd.publicKey);
        if (fault.cutPacks) await sshd.cutPacksAfter(undefined);
      },
      close: async () => {
        await proxy.close();
        await Promise.allSettled([sshd.stop(), ...ctx.extra.map((s) => s.stop())]);
      },
    };
  });
}
