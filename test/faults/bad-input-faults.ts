/**
 * Bad input against one agent process (as in a Pod) on the real API server and Git server: YAML
 * that explodes, files too big or too many, bytes that are not text, objects that are not
 * objects, kinds nobody serves, paths and links out of the checkout, submodules, LFS pointers,
 * and specs whose URL, branch or range try to be something else. Each case starts from a good
 * commit, applied; then the bad revision arrives (a commit, or a spec change). While it is there:
 * the Ready condition and an Event carry the precise reason, the good commit stays applied
 * (nothing pruned, nothing of the bad one applied), the agent's memory stays under a bound, and
 * another deployment of the same agent applies a new commit. Once the input is fixed, the
 * deployment syncs again by itself.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import type { Reason } from '../../shared/errors/reasons.ts';
import type { AgentProcess } from '../harness/agent-process.ts';
import { startAgentProcess } from '../harness/agent-process.ts';
import { kubeconfigYaml } from '../harness/control-plane.ts';
import type { GitRepos } from '../harness/git.ts';
import { harnessGitEnv } from '../harness/git.ts';
import { applyCd, cdPath, condition, getObject, waitForCd } from '../harness/tidemark.ts';
import { releaseDeployment, waitEvent, type FaultEnv, liveConfigMaps, diff } from './case-env.ts';
import type { FaultRow } from './report.ts';

/**
 * The agent's resident memory may not pass this at any sample of a case. A Node agent idles at
 * about 100–150 MiB; a 100 MB manifest read whole, or an alias bomb expanded, would pass it.
 */
export const MAX_AGENT_RSS_BYTES = 512 * 1024 * 1024;
const RSS_SAMPLE_MS = 100;
const INTERVAL = '2s';
const TIMEOUT = '30s';
/** Time the agent gets to do harm while the bad input is there (at least two polls at INTERVAL). */
const HARM_WINDOW_MS = 4_000;

/** One tree entry: a file (mode 100644), a symlink (120000, data is the target) or a gitlink (160000, data is a commit id). */
export interface TreeEntry {
  path: string;
  mode?: '100644' | '120000' | '160000';
  data: string | Buffer;
}

export interface CaseContext {
  /** Object names of this case start with it. */
  prefix: string;
  /** A path no command of the case may create (for inputs that would run one). */
  marker: string;
  /** Unique in the cluster, for cluster-scoped objects: `<namespace>-<prefix>`. */
  unique: string;
}

export interface BadInput {
  name: string;
  /** The bad revision: entries added to the good commit's tree. */
  commit?: (ctx: CaseContext) => TreeEntry[];
  /** Or a change of spec (a JSON merge patch of `.spec`). */
  spec?: (ctx: CaseContext) => Record<string, unknown>;
  /** The API server refuses that spec at admission; its message must match. */
  refused?: RegExp;
  /** The Ready condition the bad input must leave; without it, the input is applied (as kubectl would). */
  expect?: { reason: Reason; message: RegExp };
  /** Extra checks while the bad input is there. */
  check?: (ctx: CaseContext, env: BadInputEnv) => Promise<void>;
  /** Extra checks once the fixed commit is applied. */
  after?: (ctx: CaseContext, env: BadInputEnv) => Promise<void>;
}

const configMap = (name: string, v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  v: ${v}\n`;
const goodFiles = (prefix: string, v: string): Record<string, string> =>
  Object.fromEntries([0, 1, 2].map((i) => [`d/${prefix}-${i}.yaml`, configMap(`${prefix}-${i}`, v)]));
const want = (prefix: string, v: string) => new Map([0, 1, 2].map((i) => [`${prefix}-${i}`, v]));

/** Nine levels of nine references each: 387,420,489 strings once expanded. */
function aliasBomb(): string {
  const lines = ['  l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i <= 9; i++)
    lines.push(
      `  l${i}: &l${i} [${Array(9)
        .fill(`*l${i - 1}`)
        .join(',')}]`,
    );
  return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\ndata:\n${lines.join('\n')}\n`;
}

const LFS_POINTER =
  'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 104857600\n';

export const BAD_INPUTS: readonly BadInput[] = [
  {
    name: 'YAML alias bomb (9 levels of 9 aliases)',
    commit: () => [{ path: 'd/bomb.yaml', data: aliasBomb() }],
    expect: { reason: 'ManifestParseFailed', message: /d\/bomb\.yaml:\d+:\d+: Excessive alias count/ },
  },
  {
    name: 'YAML duplicate keys',
    commit: ({ prefix }) => [
      { path: 'd/dup.yaml', data: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${prefix}-dup\ndata: {v: "1"}\ndata: {v: "2"}\n` },
    ],
    expect: { reason: 'ManifestParseFailed', message: /d\/dup\.yaml:6:1: Map keys must be unique/ },
  },
  {
    name: 'object without apiVersion',
    commit: ({ prefix }) => [{ path: 'd/noapi.yaml', data: `kind: ConfigMap\nmetadata:\n  name: ${prefix}-noapi\n` }],
    expect: { reason: 'ManifestInvalid', message: /d\/noapi\.yaml document 1 has no apiVersion/ },
  },
  {
    name: 'object without kind',
    commit: ({ prefix }) => [{ path: 'd/nokind.yaml', data: `apiVersion: v1\nmetadata:\n  name: ${prefix}-nokind\n` }],
    expect: { reason: 'ManifestInvalid', message: /d\/nokind\.yaml document 1 has no kind/ },
  },
  {
    name: 'invalid UTF-8 in a manifest',
    commit: ({ prefix }) => [
      {
        path: 'd/latin1.yaml',
        data: Buffer.concat([
          Buffer.from(`apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${prefix}-latin1\ndata:\n  v: "caf`),
          Buffer.from([0xe9, 0x22, 0x0a]),
        ]),
      },
    ],
    expect: { reason: 'ManifestParseFailed', message: /d\/latin1\.yaml:6:\d+: .*not valid UTF-8/ },
  },
  {
    name: 'deep nesting (10,000 levels)',
    commit: ({ prefix }) => [
      {
        path: 'd/deep.yaml',
        data: `${configMap(`${prefix}-deep`, 'x')}x: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`,
      },
    ],
    expect: { reason: 'ManifestParseFailed', message: /d\/deep\.yaml:\d+:\d+: .*nest.* deeper than/ },
  },
  {
    name: 'Git LFS pointer instead of a manifest',
    commit: () => [
      { path: '.gitattributes', data: 'd/*.yaml filter=lfs diff=lfs merge=lfs -text\n' },
      { path: 'd/lfs.yaml', data: LFS_POINTER },
    ],
    expect: { reason: 'ManifestInvalid', message: /d\/lfs\.yaml is a Git LFS pointer/ },
  },
  {
    name: 'a 100 MB manifest',
    commit: ({ prefix }) => [
      {
        path: 'd/big.yaml',
        data: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${prefix}-big\ndata:\n  v: "${'x'.repeat(100 * 1024 * 1024)}"\n`,
      },
    ],
    expect: { reason: 'ManifestTooLarge', message: /d\/big\.yaml is larger than 8 MiB/ },
  },
  {
    name: '100,000 files',
    commit: ({ prefix }) => {
      const data = configMap(`${prefix}-same`, 'x');
      return Array.from({ length: 100_000 }, (_, i) => ({ path: `d/many/f${i}.yaml`, data }));
    },
    expect: { reason: 'GitRepositoryTooLarge', message: /has 100003 files; the limit is 100000/ },
  },
  {
    name: 'a kind no CRD defines',
    commit: ({ prefix }) => [
      { path: 'd/widget.yaml', data: `apiVersion: example.test/v1\nkind: Widget\nmetadata:\n  name: ${prefix}-widget\nspec: {}\n` },
    ],
    expect: { reason: 'UnknownKind', message: /the API server does not serve: Widget b\d+-widget/ },
  },
  {
    name: 'a namespaced object in a namespace that does not exist',
    commit: ({ prefix }) => [
      {
        path: 'd/elsewhere.yaml',
        data: configMap(`${prefix}-elsewhere`, 'x').replace('metadata:\n', 'metadata:\n  namespace: no-such-ns\n'),
      },
    ],
    expect: { reason: 'DryRunFailed', message: /no-such-ns/ },
  },
  {
    // kubectl drops the namespace of a cluster-scoped object; so does the agent, and prunes it later.
    name: 'a cluster-scoped object with a namespace (ClusterRole)',
    commit: ({ unique }) => [
      {
        path: 'd/role.yaml',
        data:
          `apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n` +
          `metadata:\n  name: ${unique}\n  namespace: no-such-ns\nrules: []\n`,
      },
    ],
    check: async ({ unique }, env) => {
      const role = await getObject(env.admin, `/apis/rbac.authorization.k8s.io/v1/clusterroles/${unique}`);
      assert.equal(role?.metadata.namespace, undefined, 'applied cluster-scoped, the namespace dropped');
    },
    after: async ({ unique }, env) => {
      const role = await getObject(env.admin, `/apis/rbac.authorization.k8s.io/v1/clusterroles/${unique}`);
      assert.equal(role, undefined, 'pruned once the commit drops it');
    },
  },
  {
    name: 'a symlink to a file outside the checkout',
    commit: () => [{ path: 'd/passwd.yaml', mode: '120000', data: '/etc/passwd' }],
    expect: { reason: 'PathOutsideCheckout', message: /symlink d\/passwd\.yaml leads outside the repository checkout/ },
  },
  {
    name: 'a symlink up out of the checkout (../../..)',
    commit: () => [{ path: 'd/up', mode: '120000', data: '../../../../..' }],
    expect: { reason: 'PathOutsideCheckout', message: /symlink d\/up leads outside the repository checkout/ },
  },
  {
    name: 'spec.path ../../..',
    spec: () => ({ path: '../../..' }),
    expect: { reason: 'InvalidSpec', message: /spec\.path: "\.\.\/\.\.\/\.\." leads outside the repository/ },
  },
  {
    name: 'a submodule whose URL runs a command (ext::)',
    commit: ({ marker }) => [
      { path: '.gitmodules', data: `[submodule "sub"]\n\tpath = d/sub\n\turl = ext::sh -c touch% ${marker}\n` },
      { path: 'd/sub', mode: '160000', data: '0123456789abcdef0123456789abcdef01234567' },
    ],
    expect: { reason: 'GitSubmoduleUnsupported', message: /d\/sub is a Git submodule in d; the agent does not fetch submodules/ },
    check: ({ marker }) => {
      assert.equal(existsSync(marker), false, 'the submodule URL ran no command');
      return Promise.resolve();
    },
  },
  {
    name: 'repository URL with ext:: (a command)',
    spec: ({ marker }) => ({ url: `ext::/bin/touch%20${marker}` }),
    expect: { reason: 'InvalidSpec', message: /spec\.url: the repository URL uses a transport that is not allowed/ },
    check: ({ marker }) => {
      assert.equal(existsSync(marker), false, 'the URL ran no command');
      return Promise.resolve();
    },
  },
  {
    name: 'repository URL that looks like an option',
    spec: ({ marker }) => ({ url: `--upload-pack=touch${marker}` }),
    refused: /spec\.url.*should match/,
  },
  {
    name: 'branch that looks like an option',
    spec: ({ marker }) => ({ git: { branch: `--upload-pack=touch${marker}` } }),
    refused: /spec\.git\.branch.*should match/,
  },
  {
    name: 'pathological semver range (git.semver, 200 alternatives)',
    spec: () => ({ git: { semver: Array(200).fill('>=1.0.0 <2').join(' || ') } }),
    expect: {
      reason: 'InvalidSemverRange',
      message:
        /spec\.git\.semver ">=1\.0\.0 <2 \|\| .{40,60}…" \(2,?\d{3} characters\) is not a valid range: it is longer than 512 characters/,
    },
  },
];

/**
 * One agent process watching one namespace, with a healthy deployment that must keep syncing.
 * stop() also stops the Git servers and closes the admin client it was given.
 */
export interface BadInputEnv extends FaultEnv {
  ns: string;
  agent: AgentProcess;
  healthy: { repo: string; name: string; bump(value: string): Promise<void> };
  workDir: string;
  stop(): Promise<void>;
}

export async function startBadInputEnv(base: FaultEnv): Promise<BadInputEnv> {
  const { cluster, admin, git } = base;
  const ns = await cluster.createNamespace('badinput');
  const workDir = await mkdtemp(join(tmpdir(), 'tidemark-badinput-'));
  let agent: AgentProcess | undefined;
  const stop = async () => {
    await releaseDeployment(admin, ns, 'healthy', 30_000);
    await agent?.stop();
    await cluster.deleteNamespace(ns).catch(() => undefined);
    await rm(workDir, { recursive: true, force: true });
    await git.stop();
    await admin.close();
  };
  try {
    const kubeconfig = join(workDir, 'kubeconfig');
    await writeFile(kubeconfig, kubeconfigYaml(cluster.info, 'admin', cluster.adminToken), { mode: 0o600 });
    agent = await startAgentProcess({ kubeconfig, namespace: ns, cacheDir: join(workDir, 'git') });
    const repo = `healthy-${ns.slice(-6)}`;
    const first = await git.repos.createRepo(repo, { 'd/healthy.yaml': configMap('healthy', 'start') }, { branch: 'main' });
    await applyCd(admin, {
      metadata: { name: 'healthy', namespace: ns },
      spec: { url: git.http!.url(repo), path: 'd', pullInterval: INTERVAL },
    });
    await waitForCd(admin, ns, 'healthy', synced(first), 'the healthy deployment synced', 120_000);
    const bump = async (value: string) => {
      const sha = await git.repos.commitFiles(repo, 'main', { 'd/healthy.yaml': configMap('healthy', value) }, `healthy: ${value}`);
      await waitForCd(admin, ns, 'healthy', synced(sha), `the healthy deployment applied ${value}`, 60_000);
      const live = await liveConfigMaps(admin, ns, 'healthy');
      assert.equal(live.get('healthy'), value, 'the healthy deployment applied its new commit');
    };
    return { ...base, ns, agent, healthy: { repo, name: 'healthy', bump }, workDir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

const synced = (sha: string) => (cd: ContinuousDeployment) =>
  cd.status?.lastAppliedRevision === `main@sha1:${sha}` && cd.status?.sync?.status === 'Synced';

/** One bad input on a deployment of its own, beside the healthy one; returns the table row. */
export async function runBadInput(env: BadInputEnv, input: BadInput, index: number): Promise<FaultRow> {
  const { admin, git, ns, agent } = env;
  const prefix = `b${index}`;
  const name = `bad-${index}`;
  const repo = `badinput-${index}-${ns.slice(-6)}`;
  const ctx: CaseContext = { prefix, marker: join(env.workDir, `ran-${index}`), unique: `${ns}-${prefix}` };
  const goodSpec = { url: git.http!.url(repo), path: 'd', pullInterval: INTERVAL, timeout: TIMEOUT };
  const memory = sampleRss(agent);
  try {
    const a = await git.repos.createRepo(repo, goodFiles(prefix, 'a'), { branch: 'main' });
    await applyCd(admin, { metadata: { name, namespace: ns }, spec: goodSpec });
    await waitForCd(admin, ns, name, synced(a), `${name}: first sync`, 120_000);
    memory.start();

    if (input.refused) {
      const patch = admin.rest.request({
        method: 'PATCH',
        path: cdPath(ns, name),
        contentType: 'application/merge-patch+json',
        body: { spec: input.spec?.(ctx) ?? {} },
      });
      await assert.rejects(patch, (err: Error) => input.refused!.test(err.message), 'the API server refuses the spec');
    } else if (input.spec) {
      await admin.rest.request({
        method: 'PATCH',
        path: cdPath(ns, name),
        contentType: 'application/merge-patch+json',
        body: { spec: input.spec(ctx) },
      });
    } else if (input.commit) {
      const bad = await commitEntries(git.repos, repo, a, input.commit(ctx), `bad input: ${input.name}`);
      if (!input.expect) await waitForCd(admin, ns, name, synced(bad), `${name}: applied`, 120_000);
    }

    let lost = 0;
    if (input.expect) {
      const failed = await waitForCd(admin, ns, name, (cd) => condition(cd, 'Ready')?.status === 'False', `${name}: Ready=False`, 120_000);
      const ready = condition(failed, 'Ready');
      assert.equal(ready?.reason, input.expect.reason, `the condition's reason (message: ${ready?.message})`);
      assert.match(ready?.message ?? '', input.expect.message, 'the condition says what is wrong');
      assert.equal(failed.status?.lastAppliedRevision, `main@sha1:${a}`, 'the good commit is still the applied one');
      await waitEvent(admin, ns, name, input.expect.reason);
    }
    // Meanwhile the agent retries the bad input, and the other deployment applies a new commit.
    await Promise.all([env.healthy.bump(`during-${index}`), new Promise((resolve) => setTimeout(resolve, HARM_WINDOW_MS))]);
    const during = await liveConfigMaps(admin, ns, prefix);
    lost = diff(want(prefix, 'a'), during).length;
    assert.deepEqual(diff(want(prefix, 'a'), during), [], 'the good commit stays applied: nothing pruned, nothing of the bad input');
    await input.check?.(ctx, env);
    const peak = memory.stop();
    assert.ok(peak <= MAX_AGENT_RSS_BYTES, `the agent's RSS peaked at ${mib(peak)} MiB (bound ${mib(MAX_AGENT_RSS_BYTES)} MiB)`);

    // Fixed: the spec back, or a commit of the good files (with a new value) over the bad one.
    let fixed: string;
    const fixedAt = Date.now();
    if (input.spec && !input.refused) {
      const clear = Object.fromEntries(Object.keys(input.spec(ctx)).map((k) => [k, null]));
      await admin.rest.request({
        method: 'PATCH',
        path: cdPath(ns, name),
        contentType: 'application/merge-patch+json',
        body: { spec: { ...clear, ...goodSpec } },
      });
    }
    if (input.commit) {
      fixed = await commitEntries(
        git.repos,
        repo,
        a,
        Object.entries(goodFiles(prefix, 'c')).map(([path, data]) => ({ path, data })),
        'fixed',
        true,
      );
    } else {
      fixed = await git.repos.commitFiles(repo, 'main', goodFiles(prefix, 'c'), 'a new value');
    }
    await waitForCd(admin, ns, name, synced(fixed), `${name}: synced again once fixed`, 120_000);
    const recoverySeconds = (Date.now() - fixedAt) / 1000;
    const after = await liveConfigMaps(admin, ns, prefix);
    const missing = diff(want(prefix, 'c'), after);
    assert.deepEqual(missing, [], 'every object of the fixed commit is live, nothing else');
    await input.after?.(ctx, env);
    return { fault: input.name, converged: true, recoverySeconds, lostObjects: lost + missing.length, orphans: 0, peakRssMiB: mib(peak) };
  } catch (err) {
    throw new Error(`${input.name}: ${(err as Error).message}\nagent output (tail): ${agent.output().slice(-3000)}`, { cause: err });
  } finally {
    memory.stop();
    await releaseDeployment(admin, ns, name, 30_000);
    for (const i of [0, 1, 2]) {
      await admin.rest.request({ method: 'DELETE', path: `/api/v1/namespaces/${ns}/configmaps/${prefix}-${i}` }).catch(() => undefined);
    }
    await rm(git.repos.path(repo), { recursive: true, force: true });
    // A released deployment leaves its objects; a cluster-scoped one would outlive the namespace.
    await admin.rest
      .request({ method: 'DELETE', path: `/apis/rbac.authorization.k8s.io/v1/clusterroles/${ctx.unique}` })
      .catch(() => undefined);
  }
}

const mib = (bytes: number) => Math.round(bytes / (1024 * 1024));

/** Samples the agent's resident memory (/proc/<pid>/status VmRSS) between start() and stop(); stop() returns the peak. */
function sampleRss(agent: AgentProcess): { start(): void; stop(): number } {
  let peak = 0;
  let timer: NodeJS.Timeout | undefined;
  const sample = async () => {
    const pid = agent.pid();
    if (pid === undefined) return;
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const kib = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0);
    peak = Math.max(peak, kib * 1024);
  };
  return {
    start() {
      void sample();
      timer = setInterval(() => void sample(), RSS_SAMPLE_MS);
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      return peak;
    },
  };
}

/**
 * Commits `entries` over the tree of `base` on main, with git plumbing (no checkout): a tree of
 * 100,000 files or a 100 MB blob is written in seconds, and symlinks and gitlinks are plain index
 * lines. `replace`: the tree is base's tree plus entries; otherwise main's current tree plus them.
 */
async function commitEntries(
  repos: GitRepos,
  repo: string,
  base: string,
  entries: readonly TreeEntry[],
  message: string,
  replace = false,
): Promise<string> {
  const bare = repos.path(repo);
  const dir = await mkdtemp(join(tmpdir(), 'tidemark-badinput-index-'));
  const env = harnessGitEnv({
    GIT_INDEX_FILE: join(dir, 'index'),
    GIT_AUTHOR_NAME: 'Bad Input',
    GIT_AUTHOR_EMAIL: 'bad@example.test',
    GIT_COMMITTER_NAME: 'Bad Input',
    GIT_COMMITTER_EMAIL: 'bad@example.test',
  });
  const run = (args: string[], input?: string | Buffer) => gitWithInput(['--git-dir', bare, ...args], env, input);
  try {
    const parent = (await run(['rev-parse', 'refs/heads/main'])).trim();
    await run(['read-tree', replace ? base : parent]);
    const oids = new Map<string | Buffer, string>();
    const lines: string[] = [];
    for (const entry of entries) {
      let oid = entry.mode === '160000' ? String(entry.data) : oids.get(entry.data);
      if (oid === undefined) {
        oid = (await run(['hash-object', '-w', '--stdin'], entry.data)).trim();
        oids.set(entry.data, oid);
      }
      lines.push(`${entry.mode ?? '100644'} ${oid}\t${entry.path}`);
    }
    await run(['update-index', '--index-info'], `${lines.join('\n')}\n`);
    const tree = (await run(['write-tree'])).trim();
    const commit = (await run(['commit-tree', tree, '-p', parent, '-m', message])).trim();
    await run(['update-ref', 'refs/heads/main', commit, parent]);
    return commit;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function gitWithInput(args: string[], env: NodeJS.ProcessEnv, input?: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(Buffer.concat(out).toString()) : reject(new Error(`git ${args.join(' ')} failed (${code}): ${err}`)),
    );
    // A git that fails before reading its input closes the pipe: its exit code says why, not EPIPE.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input);
  });
}
