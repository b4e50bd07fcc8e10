/**
 * The agent against a Git server that fails: down, slower than spec.timeout, answering garbage or
 * a pack cut short, refusing the credentials, the repository gone, the branch force-pushed. The
 * faults come from a proxy in front of the harness's real smart-HTTP server (or from the
 * repository itself), so the agent runs unmodified. While a fault lasts, the last good commit
 * stays applied (nothing applied from the new one, nothing pruned) and the Ready condition names
 * the fault; once it is lifted, the agent syncs the new commit by itself (no sync request).
 * runGitFaultCase is the same case for any transport; git-ssh-faults.ts runs it over SSH.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import type { AgentProcess } from '../harness/agent-process.ts';
import { startAgentProcess } from '../harness/agent-process.ts';
import { kubeconfigYaml } from '../harness/control-plane.ts';
import type { GitFaultProxy } from '../harness/git-fault-proxy.ts';
import { startGitFaultProxy } from '../harness/git-fault-proxy.ts';
import type { GitServers } from '../harness/git.ts';
import { git as runGit } from '../harness/git.ts';
import { applyCd, condition, listEvents, waitForCd } from '../harness/tidemark.ts';
import type { FaultRow } from './report.ts';
import { releaseDeployment, type FaultEnv, liveConfigMaps, diff } from './case-env.ts';
import { scanForSecrets, type KnownSecret } from './secret-scan.ts';

/** What every Git fault case can reach: the repositories and its own repository's name. */
export interface RepoContext {
  git: GitServers;
  repo: string;
}

interface FaultContext extends RepoContext {
  proxy: GitFaultProxy;
}

/** A Git fault, whatever the transport: `C` is what inject and lift act on (a proxy, sshd). */
export interface GitFaultCase<C extends RepoContext> {
  name: string;
  /** The Ready reason the deployment must show while the fault lasts; undefined when no failure is expected. */
  reason: string | undefined;
  /** Turns the fault on after the first commit is applied. Returns the commit the branch holds now. */
  inject: (ctx: C, pushB: () => Promise<string>) => Promise<string>;
  /** Lifts the fault. Returns the commit the agent must converge to. */
  lift: (ctx: C, during: string) => Promise<string>;
  /** Checks that hold after the case converged (e.g. a server the agent must never have trusted). */
  verify?: (ctx: C) => Promise<void>;
}

export interface GitFault extends GitFaultCase<FaultContext> {
  /** Deploys with reader credentials from a Secret (the server's anonymous read is not used). */
  credentials?: boolean;
}

/**
 * How a case's agent reaches its repository: the servers in front of it, the deployment's URL
 * and credentials, and what must never show in the case's outputs.
 */
export interface GitAccess<C extends RepoContext> {
  ctx: C;
  /** The ContinuousDeployment's `url` and credentials fields (`secretRef`, `insecure`). */
  spec: Record<string, unknown>;
  /** The data of the Secret `git` in the case's namespace, when `spec` names it. */
  secretData?: Record<string, string>;
  /** The deployment's spec.timeout; TIMEOUT by default. */
  timeout?: string;
  /** Values no agent log line, status or Event of the case may hold; the agent then logs at debug. */
  secrets?: readonly KnownSecret[];
  /** Turns every fault off (before the deployment is let go). */
  restore(): Promise<void>;
  /** Ends the case's servers (after the agent stopped). */
  close(): Promise<void>;
}

export const TIMEOUT = '2s';
const INTERVAL = '2s';

/** Commit A: cm-0…cm-4 at "a". Commit B: cm-0 changed, cm-4 gone, cm-5 new. */
const filesA = (): Record<string, string> => Object.fromEntries([0, 1, 2, 3, 4].map((i) => [`d/cm-${i}.yaml`, configMap(i, 'a')]));
const filesB = (): Record<string, string | null> => ({
  'd/cm-0.yaml': configMap(0, 'b'),
  'd/cm-4.yaml': null,
  'd/cm-5.yaml': configMap(5, 'b'),
});
const wantA = () => new Map([0, 1, 2, 3, 4].map((i) => [`cm-${i}`, 'a']));
const wantB = () =>
  new Map([
    ['cm-0', 'b'],
    ['cm-1', 'a'],
    ['cm-2', 'a'],
    ['cm-3', 'a'],
    ['cm-5', 'b'],
  ]);
const configMap = (i: number, v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\ndata:\n  v: ${v}\n`;

const onAll =
  (verdict: Parameters<GitFaultProxy['setRule']>[0]) =>
  async (ctx: FaultContext, pushB: () => Promise<string>): Promise<string> => {
    ctx.proxy.setRule(verdict);
    return pushB();
  };
const clearRule = (ctx: FaultContext, during: string): Promise<string> => {
  ctx.proxy.setRule(undefined);
  return Promise.resolve(during);
};

export const GIT_FAULTS: readonly GitFault[] = [
  {
    name: 'Git server down (connection refused)',
    reason: 'GitUnreachable',
    inject: async (ctx, pushB) => {
      await ctx.proxy.down();
      return pushB();
    },
    lift: async (ctx, during) => {
      await ctx.proxy.up();
      return during;
    },
  },
  {
    name: `Git server slow (answers after 4× spec.timeout ${TIMEOUT})`,
    reason: 'ReconcileTimeout',
    inject: onAll(() => ({ delayMs: 8_000 })),
    lift: clearRule,
  },
  {
    name: 'Git server answers an HTML page (200) instead of Git',
    reason: 'GitCommandFailed',
    inject: onAll(() => ({
      status: 200,
      headers: { 'content-type': 'text/html' },
      body: '<html><body>Sign in to continue</body></html>\n',
    })),
    lift: clearRule,
  },
  {
    name: 'Git server answers non-Git bytes as a ref advertisement',
    reason: 'GitCommandFailed',
    inject: onAll((call) =>
      call.kind === 'refs'
        ? {
            status: 200,
            headers: { 'content-type': `application/x-git-upload-pack-${call.method === 'GET' ? 'advertisement' : 'result'}` },
            body: Buffer.from('\u0000\u00ffzz\u0013garbage not pkt-lines\n', 'latin1'),
          }
        : 'forward',
    ),
    lift: clearRule,
  },
  {
    name: 'Git server cuts the pack short (truncated fetch)',
    reason: 'GitUnreachable',
    inject: onAll((call) => (call.kind === 'fetch' ? { truncateAfter: 120 } : 'forward')),
    lift: clearRule,
  },
  {
    name: 'Git credentials revoked (401)',
    reason: 'GitAuthenticationFailed',
    credentials: true,
    inject: onAll(() => ({ status: 401, headers: { 'www-authenticate': 'Basic realm="revoked"' }, body: 'bad credentials\n' })),
    lift: clearRule,
  },
  {
    name: 'Git repository deleted (then created again)',
    reason: 'GitRepositoryNotFound',
    inject: deleteRepository,
    lift: recreateRepository,
  },
  {
    name: 'Git branch force-pushed (history rewritten)',
    reason: undefined,
    inject: forcePushB,
    lift: (_ctx, during) => Promise.resolve(during),
  },
];

/** The repository's directory removed on the server: every transport then finds nothing there. */
export async function deleteRepository(ctx: RepoContext): Promise<string> {
  await rm(ctx.git.repos.path(ctx.repo), { recursive: true, force: true });
  return '';
}

/** The repository at the same path again, with A and then B: B is the commit to converge to. */
export async function recreateRepository(ctx: RepoContext): Promise<string> {
  const first = await ctx.git.repos.createRepo(ctx.repo, filesA(), { branch: 'main' });
  const b = await ctx.git.repos.commitFiles(ctx.repo, 'main', filesB(), 'the repository again, with B');
  assert.notEqual(first, b);
  return b;
}

/** B's tree as a new root commit on main: A is no longer in the branch's history. */
export async function forcePushB(ctx: RepoContext): Promise<string> {
  const repos = ctx.git.repos;
  const bare = repos.path(ctx.repo);
  await repos.commitFiles(ctx.repo, 'side', filesB(), 'B on a side branch');
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 'Rewriter',
    GIT_AUTHOR_EMAIL: 'r@example.test',
    GIT_COMMITTER_NAME: 'Rewriter',
    GIT_COMMITTER_EMAIL: 'r@example.test',
  };
  const rewritten = (
    await runGit(['--git-dir', bare, 'commit-tree', '-m', 'history rewritten', 'refs/heads/side^{tree}'], { env })
  ).stdout.trim();
  await runGit(['--git-dir', bare, 'update-ref', 'refs/heads/main', rewritten]);
  await repos.deleteBranch(ctx.repo, 'side');
  return rewritten;
}

/** One HTTP fault, through the fault proxy in front of the smart-HTTP server. */
export function runGitFault(env: FaultEnv, fault: GitFault): Promise<FaultRow> {
  return runGitFaultCase(env, fault, 'gitfault', async (repo) => {
    const { git } = env;
    const proxy = await startGitFaultProxy(git.http!.baseUrl);
    return {
      ctx: { proxy, git, repo },
      spec: { url: proxy.url(git.http!.url(repo)), ...(fault.credentials ? { secretRef: 'git', insecure: true } : {}) },
      ...(fault.credentials ? { secretData: { username: git.http!.reader.username, password: git.http!.reader.password } } : {}),
      restore: async () => {
        proxy.setRule(undefined);
        await proxy.up().catch(() => undefined);
      },
      close: () => proxy.close(),
    };
  });
}

/**
 * One fault in a namespace of its own (`prefix`-…), the repository reached through `open`;
 * returns the row, asserting the last good state held, the sync resumed, and no known secret
 * showed in the agent's log, the status or the Events.
 */
export async function runGitFaultCase<C extends RepoContext>(
  env: FaultEnv,
  fault: GitFaultCase<C>,
  prefix: string,
  open: (repo: string) => Promise<GitAccess<C>>,
): Promise<FaultRow> {
  const { cluster, admin, git } = env;
  const ns = await cluster.createNamespace(prefix);
  const repo = `${prefix}-${ns.slice(-6)}`;
  const cacheDir = await mkdtemp(join(tmpdir(), `tidemark-${prefix}-`));
  let access: GitAccess<C> | undefined;
  let agent: AgentProcess | undefined;
  try {
    access = await open(repo);
    const { ctx } = access;
    const a = await git.repos.createRepo(repo, filesA(), { branch: 'main' });
    const kubeconfig = join(cacheDir, 'kubeconfig');
    await writeFile(kubeconfig, kubeconfigYaml(cluster.info, 'admin', cluster.adminToken), { mode: 0o600 });
    if (access.secretData) {
      await admin.rest.request({
        method: 'POST',
        path: `/api/v1/namespaces/${ns}/secrets`,
        body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'git' }, stringData: access.secretData },
      });
    }
    const args = access.secrets ? ['--log-level', 'debug'] : [];
    agent = await startAgentProcess({ kubeconfig, namespace: ns, cacheDir: join(cacheDir, 'git'), args });
    const spec = { ...access.spec, path: 'd', pullInterval: INTERVAL, timeout: access.timeout ?? TIMEOUT };
    await applyCd(admin, { metadata: { name: 'app', namespace: ns }, spec });
    const synced = (sha: string) => (cd: ContinuousDeployment) =>
      cd.status?.lastAppliedRevision === `main@sha1:${sha}` && cd.status?.sync?.status === 'Synced';
    await waitForCd(admin, ns, 'app', synced(a), 'first sync', 120_000);

    const pushB = () => git.repos.commitFiles(repo, 'main', filesB(), 'change cm-0, drop cm-4, add cm-5');
    const during = await fault.inject(ctx, pushB);
    let lostDuring = 0;
    if (fault.reason !== undefined) {
      // Any failure first, then the reason: a wrong reason fails at once and says which it was.
      const failed = await waitForCd(
        admin,
        ns,
        'app',
        (cd) => condition(cd, 'Ready')?.status === 'False',
        `Ready=False during ${fault.name}`,
        90_000,
      );
      assert.equal(condition(failed, 'Ready')?.reason, fault.reason, `the condition's reason: ${condition(failed, 'Ready')?.message}`);
      const ready = condition(failed, 'Ready');
      assert.ok((ready?.message ?? '').length > 0, 'the condition says what happened');
      assert.equal(failed.status?.lastAppliedRevision, `main@sha1:${a}`, 'the last good commit is still the applied one');
      // The agent keeps retrying against the fault meanwhile: give it a few polls to do harm.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const live = await liveConfigMaps(admin, ns);
      lostDuring = diff(wantA(), live).length;
      assert.deepEqual(diff(wantA(), live), [], 'the last good state stays applied: nothing pruned, nothing of the new commit');
    }

    const target = await fault.lift(ctx, during);
    const lifted = Date.now();
    const cd = await waitForCd(admin, ns, 'app', synced(target), `synced again after ${fault.name}`, 120_000);
    const recoverySeconds = (Date.now() - lifted) / 1000;
    assert.equal(condition(cd, 'Ready')?.status, 'True');
    const live = await liveConfigMaps(admin, ns);
    const missing = diff(wantB(), live).filter((name) => wantB().has(name));
    const orphans = [...live.keys()].filter((name) => !wantB().has(name));
    assert.deepEqual(missing, [], 'every object of the new commit is live');
    assert.deepEqual(orphans, [], 'nothing the new commit dropped is left');
    await fault.verify?.(ctx);
    const row: FaultRow = {
      fault: fault.name,
      converged: true,
      lostObjects: lostDuring + missing.length,
      orphans: orphans.length,
      recoverySeconds,
    };
    if (access.secrets) {
      const outputs = [
        { source: 'agent log', text: agent.output() },
        { source: 'status', text: JSON.stringify(cd.status) },
        { source: 'Events', text: JSON.stringify(await listEvents(admin, ns, 'app')) },
      ];
      const hits = scanForSecrets(access.secrets, outputs);
      assert.deepEqual(hits, [], 'no output holds a known secret, whole or in part');
      row.secretHits = hits.length;
    }
    return row;
  } catch (err) {
    throw new Error(`${fault.name}: ${(err as Error).message}\nagent output (tail): ${agent?.output().slice(-3000) ?? ''}`, { cause: err });
  } finally {
    // The agent removes its finalizer (keeping the objects) before it stops; the namespace takes the rest.
    await access?.restore().catch(() => undefined);
    await releaseDeployment(admin, ns, 'app', 30_000);
    await agent?.stop();
    await access?.close().catch(() => undefined);
    await cluster.deleteNamespace(ns).catch(() => undefined);
    await rm(cacheDir, { recursive: true, force: true });
  }
}
