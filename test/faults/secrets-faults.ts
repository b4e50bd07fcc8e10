/**
 * Known secret values through the whole product, on the real servers: Git over HTTP with a
 * password and with a bearer token, Git over SSH with a private key, an image repository behind
 * a token-auth registry, a remote target through a kubeconfig Secret, the image updater pushing
 * with a writer password; and the failures where secrets leak: a wrong password, an unreachable
 * host, a URL with userinfo, a registry refusing the password, a remote cluster refusing the
 * token or not answering. Then every output — both programs' logs, every status of every
 * Tidemark object, every Event, the bot's commits, /metrics of both, the CLI's get / status /
 * diff — is searched for every value (see secret-scan.ts). The assertion is zero hits.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { main } from '../../cli/main.ts';
import { API_VERSION } from '../../shared/api/constants.ts';
import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import type { AgentProcess } from '../harness/agent-process.ts';
import { startAgentProcess } from '../harness/agent-process.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { kubeconfigYaml } from '../harness/control-plane.ts';
import { git as runGit, startGitServers, type GitServers } from '../harness/git.ts';
import { freePort } from '../harness/ports.ts';
import { onShutdown, waitFor } from '../harness/process.ts';
import { startRegistry, type TestRegistry } from '../harness/registry.ts';
import { applyCd, condition, testClient, waitForCd } from '../harness/tidemark.ts';
import type { FaultRow } from './report.ts';
import { scanForSecrets, type KnownSecret, type Output, type SecretHit } from './secret-scan.ts';

const BIN = new URL('../../bin/tidemark.ts', import.meta.url).pathname;
const REPO = 'team/app';

/** A distinctive value no other part of the suite could print by chance. */
const distinct = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;

/** What each deployment must show once the agent has dealt with it. */
interface Expectation {
  name: string;
  ready: 'True' | 'False';
  reason?: string;
}

export interface SecretScanResult {
  row: FaultRow;
  hits: SecretHit[];
  /** Each source and its size, for the report (and to show nothing came back empty). */
  sources: Array<{ source: string; bytes: number }>;
  /** Why a part was left out (no sshd). */
  skipped: string[];
  /** The names of the values searched for. */
  searchedFor: string[];
}

/**
 * The scenario in its own namespaces with its own Git servers, registry, agent and image updater
 * processes. `short` leaves out the remote-cluster failures and the image automation (the slow
 * parts) for `npm test`.
 */
export async function runSecretScan(cluster: ClusterAccess, options: { short?: boolean } = {}): Promise<SecretScanResult> {
  const admin = testClient(cluster);
  const work = await mkdtemp(join(tmpdir(), 'tidemark-secrets-'));
  const cleanups: Array<() => Promise<unknown>> = [];
  const skipped: string[] = [];
  let agent: AgentProcess | undefined;
  let updater: ProgramProcess | undefined;
  try {
    const ns = await cluster.createNamespace('secrets');
    cleanups.push(() => cluster.deleteNamespace(ns));
    const target = await cluster.createNamespace('secrets-target');
    cleanups.push(() => cluster.deleteNamespace(target));

    const startGit = async (): Promise<GitServers> => {
      try {
        return await startGitServers({ http: true, ssh: true });
      } catch (err) {
        skipped.push(`Git over SSH: ${(err as Error).message}`);
        return startGitServers({ http: true, ssh: false });
      }
    };
    const [gitStarted, registryStarted] = await Promise.allSettled([startGit(), startRegistry({ auth: 'token' })]);
    if (gitStarted.status === 'fulfilled') cleanups.push(() => gitStarted.value.stop());
    if (registryStarted.status === 'fulfilled') cleanups.push(() => registryStarted.value.stop());
    if (gitStarted.status === 'rejected') throw gitStarted.reason;
    if (registryStarted.status === 'rejected') throw registryStarted.reason;
    const git = gitStarted.value;
    const registry: TestRegistry = registryStarted.value;
    const http = git.http!;
    const ssh = git.ssh;
    await registry.pushImage(REPO, ['1.0.0', '1.1.0']);

    // ---- the values ------------------------------------------------------------------------
    const wrongPassword = distinct('wrongpw');
    const unreachablePassword = distinct('unreachpw');
    const urlPassword = distinct('urlpw');
    const unparsedUrlPassword = distinct('urlpw2');
    const registryWrong = distinct('regwrong');
    const registryUnreachable = distinct('regunreach');
    const writerWrong = distinct('wrongwriter');
    const remoteToken = cluster.userToken('alice');
    const remoteWrongToken = distinct('kubewrong');
    const remoteUnreachableToken = distinct('kubeunreach');
    const secrets: KnownSecret[] = [
      { name: 'Git HTTP reader password', value: http.reader.password, username: http.reader.username },
      { name: 'Git HTTP writer password', value: http.writer.password, username: http.writer.username },
      { name: 'Git HTTP bearer token', value: http.readerToken },
      { name: 'Git HTTP wrong password', value: wrongPassword, username: http.reader.username },
      { name: 'Git HTTP password for an unreachable host', value: unreachablePassword, username: 'reader' },
      { name: 'password in a repository URL', value: urlPassword, username: 'user' },
      { name: 'password in a repository URL that does not parse', value: unparsedUrlPassword, username: 'user' },
      { name: 'registry password', value: registry.password, username: registry.username },
      { name: 'registry wrong password', value: registryWrong, username: registry.username },
      { name: 'registry password for an unreachable registry', value: registryUnreachable, username: registry.username },
      { name: 'Git HTTP wrong writer password (image automation)', value: writerWrong, username: http.writer.username },
      { name: 'remote kubeconfig token', value: remoteToken },
      { name: 'remote kubeconfig token (refused)', value: remoteWrongToken },
      { name: 'remote kubeconfig token (unreachable server)', value: remoteUnreachableToken },
    ];
    if (ssh) {
      secrets.push({
        name: 'Git SSH private key',
        value: ssh.privateKey,
        // Another key of the same type and the public halves: their common parts are the format.
        sameShape: [ssh.unauthorizedPrivateKey, ssh.publicKey, ssh.knownHosts],
      });
    }

    // ---- Secrets -----------------------------------------------------------------------------
    const secret = (name: string, data: Record<string, string>, type?: string) =>
      admin.rest.request({
        method: 'POST',
        path: `/api/v1/namespaces/${ns}/secrets`,
        body: { apiVersion: 'v1', kind: 'Secret', metadata: { name }, ...(type ? { type } : {}), stringData: data },
      });
    await secret('git-basic', { username: http.reader.username, password: http.reader.password });
    await secret('git-writer', { username: http.writer.username, password: http.writer.password });
    await secret('git-bearer', { bearerToken: http.readerToken });
    await secret('git-wrong', { username: http.reader.username, password: wrongPassword });
    await secret('git-unreachable', { username: 'reader', password: unreachablePassword });
    if (ssh) await secret('git-ssh', { identity: ssh.privateKey, known_hosts: ssh.knownHosts });
    await secret('git-writer-wrong', { username: http.writer.username, password: writerWrong });
    const closedPort = await freePort();
    const dockerConfig = (password: string, host = registry.host) =>
      JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${registry.username}:${password}`).toString('base64') } } });
    await secret('registry-creds', { '.dockerconfigjson': dockerConfig(registry.password) }, 'kubernetes.io/dockerconfigjson');
    await secret('registry-wrong', { '.dockerconfigjson': dockerConfig(registryWrong) }, 'kubernetes.io/dockerconfigjson');
    await secret(
      'registry-unreachable',
      { '.dockerconfigjson': dockerConfig(registryUnreachable, `127.0.0.1:${closedPort}`) },
      'kubernetes.io/dockerconfigjson',
    );
    const remoteConfig = (server: string, token: string) =>
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'edge', cluster: { server, 'certificate-authority-data': Buffer.from(cluster.info.caPem).toString('base64') } }],
        users: [{ name: 'edge-user', user: { token } }],
        contexts: [{ name: 'edge', context: { cluster: 'edge', user: 'edge-user' } }],
        'current-context': 'edge',
      });
    await secret('edge', { config: remoteConfig(cluster.server, remoteToken) });
    await secret('edge-refused', { config: remoteConfig(cluster.server, remoteWrongToken) });
    await secret('edge-unreachable', { config: remoteConfig(`https://127.0.0.1:${closedPort}`, remoteUnreachableToken) });
    // The "remote" cluster is this one as another user, who may only manage the target namespace.
    await admin.rest.request({
      method: 'POST',
      path: `/apis/rbac.authorization.k8s.io/v1/namespaces/${target}/rolebindings`,
      body: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'alice-admin' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }],
      },
    });

    // ---- repositories --------------------------------------------------------------------------
    const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  v: "1"\n`;
    // A directory per deployment, so no two of them claim the same object.
    const dirs = ['basic', 'bearer', 'ssh', 'remote'];
    await git.repos.createRepo('app', Object.fromEntries(dirs.map((d) => [`${d}/cm.yaml`, cm(`${d}-settings`)])), { branch: 'main' });
    const image = `${registry.host}/${REPO}`;
    const marker = `# {"$imagepolicy": "${ns}:app"}`;
    const appManifest = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: image\ndata:\n  image: ${image}:1.0.0 ${marker}\n`;
    if (!options.short) await git.repos.createRepo('auto', { 'deploy/image.yaml': appManifest }, { branch: 'main' });

    // ---- the programs --------------------------------------------------------------------------
    const kubeconfig = join(work, 'kubeconfig');
    await writeFile(kubeconfig, kubeconfigYaml(cluster.info, 'admin', cluster.adminToken), { mode: 0o600 });
    // Debug logs: the most a program ever prints, so the most places a secret could slip into.
    const [agentStarted, updaterStarted] = await Promise.allSettled([
      startAgentProcess({ kubeconfig, namespace: ns, cacheDir: join(work, 'git'), args: ['--log-level', 'debug'] }),
      startProgram('image-updater', ['--kubeconfig', kubeconfig, '--namespace', ns, '--log-level', 'debug']),
    ]);
    if (agentStarted.status === 'fulfilled') agent = agentStarted.value;
    if (updaterStarted.status === 'fulfilled') updater = updaterStarted.value;
    if (agentStarted.status === 'rejected') throw agentStarted.reason;
    if (updaterStarted.status === 'rejected') throw updaterStarted.reason;
    const programs = { agent: agentStarted.value, updater: updaterStarted.value };

    // ---- deployments ---------------------------------------------------------------------------
    const expectations: Expectation[] = [];
    const deploy = async (name: string, spec: Record<string, unknown>, expect: Omit<Expectation, 'name'>) => {
      await applyCd(admin, { metadata: { name, namespace: ns }, spec: { path: name, pullInterval: '1h', timeout: '20s', ...spec } });
      expectations.push({ name, ...expect });
    };
    const appUrl = http.url('app');
    const ok = { ready: 'True' } as const;
    await deploy('basic', { url: appUrl, secretRef: 'git-basic', insecure: true, targetNamespace: ns }, ok);
    await deploy('bearer', { url: appUrl, secretRef: 'git-bearer', insecure: true, targetNamespace: ns }, ok);
    if (ssh) await deploy('ssh', { url: ssh.url('app'), secretRef: 'git-ssh', targetNamespace: ns }, ok);
    await deploy(
      'wrong-password',
      { url: appUrl, secretRef: 'git-wrong', insecure: true },
      { ready: 'False', reason: 'GitAuthenticationFailed' },
    );
    await deploy(
      'unreachable',
      { url: `http://127.0.0.1:${closedPort}/app.git`, secretRef: 'git-unreachable', insecure: true },
      { ready: 'False', reason: 'GitUnreachable' },
    );
    const port = new URL(http.baseUrl).port;
    await deploy(
      'url-userinfo',
      { url: `http://user:${urlPassword}@127.0.0.1:${port}/app.git`, insecure: true },
      { ready: 'False', reason: 'InvalidSpec' },
    );
    // A port out of range: the URL does not parse, and the message that says so must not repeat it.
    await deploy(
      'url-unparsed',
      { url: `https://user:${unparsedUrlPassword}@127.0.0.1:99999/app.git` },
      { ready: 'False', reason: 'InvalidSpec' },
    );
    const remote = (secretName: string) => ({
      url: appUrl,
      path: 'remote',
      secretRef: 'git-basic',
      insecure: true,
      targetNamespace: target,
      kubeConfig: { secretRef: { name: secretName, key: 'config' } },
    });
    await deploy('remote', remote('edge'), ok);
    if (!options.short) {
      await deploy('remote-refused', remote('edge-refused'), { ready: 'False', reason: 'Unauthorized' });
      await deploy('remote-unreachable', remote('edge-unreachable'), { ready: 'False', reason: 'APIServerUnreachable' });
    }

    // ---- images --------------------------------------------------------------------------------
    const applyImage = (plural: string, kind: string, name: string, spec: Record<string, unknown>) =>
      admin.rest.request({
        method: 'PATCH',
        path: `/apis/${API_VERSION}/namespaces/${ns}/${plural}/${name}`,
        query: { fieldManager: 'tidemark-faults', force: true },
        contentType: 'application/apply-patch+yaml',
        body: { apiVersion: API_VERSION, kind, metadata: { name, namespace: ns }, spec },
      });
    await applyImage('imagerepositories', 'ImageRepository', 'app', {
      image,
      interval: '1h',
      insecure: true,
      secretRef: { name: 'registry-creds' },
    });
    await applyImage('imagerepositories', 'ImageRepository', 'app-wrong', {
      image,
      interval: '1h',
      insecure: true,
      secretRef: { name: 'registry-wrong' },
    });
    await applyImage('imagepolicies', 'ImagePolicy', 'app', {
      imageRepositoryRef: { name: 'app' },
      policy: { semver: { range: '>=1.0.0' } },
    });
    if (!options.short) {
      await applyImage('imagerepositories', 'ImageRepository', 'app-unreachable', {
        image: `127.0.0.1:${closedPort}/${REPO}`,
        interval: '1h',
        insecure: true,
        secretRef: { name: 'registry-unreachable' },
      });
      // The bot with the writer's password, and with a wrong one (its clone is refused).
      for (const [name, secretRef] of [
        ['auto', 'git-writer'],
        ['auto-wrong', 'git-writer-wrong'],
      ] as const) {
        await applyCd(admin, {
          metadata: { name: `${name}-source`, namespace: ns },
          spec: { url: http.url('auto'), secretRef, insecure: true, path: 'deploy', pullInterval: '1h', suspend: true },
        });
        await applyImage('imageupdateautomations', 'ImageUpdateAutomation', name, {
          sourceRef: { kind: 'ContinuousDeployment', name: `${name}-source` },
          interval: '1h',
          git: {
            checkout: { ref: { branch: 'main' } },
            push: { branch: 'main' },
            commit: { author: { name: 'tidemark-bot', email: 'bot@example.test' } },
          },
          update: { path: './deploy', strategy: 'Setters' },
        });
      }
    }

    // ---- wait until everything happened ----------------------------------------------------------
    for (const e of expectations) {
      const cd = await waitForCd(
        admin,
        ns,
        e.name,
        (c: ContinuousDeployment) => {
          const ready = condition(c, 'Ready');
          return ready?.status === e.ready && (e.ready === 'False' || c.status?.sync?.status === 'Synced');
        },
        `${e.name}: Ready=${e.ready}`,
        120_000,
      );
      if (e.reason) assert.equal(condition(cd, 'Ready')?.reason, e.reason, `${e.name}: ${condition(cd, 'Ready')?.message}`);
    }
    const readyOf = async (plural: string, name: string, status: 'True' | 'False') => {
      let last: unknown;
      await waitFor(
        async () => {
          const obj = await admin.rest.request<KubeObject & { status?: { conditions?: Array<{ type: string; status: string }> } }>({
            method: 'GET',
            path: `/apis/${API_VERSION}/namespaces/${ns}/${plural}/${name}`,
          });
          last = obj.status;
          return obj.status?.conditions?.some((c) => c.type === 'Ready' && c.status === status) ?? false;
        },
        { timeoutMs: 120_000, what: `${plural}/${name} Ready=${status}` },
      ).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}; last status: ${JSON.stringify(last)}`, { cause: err });
      });
    };
    await readyOf('imagerepositories', 'app', 'True');
    await readyOf('imagerepositories', 'app-wrong', 'False');
    await readyOf('imagepolicies', 'app', 'True');
    if (!options.short) {
      // Ready may come first with nothing to do, before the policy has chosen: wait for the push.
      await waitFor(async () => (await git.repos.readLog('auto', 'main')).length === 2, { timeoutMs: 120_000, what: 'the bot commit' });
      await readyOf('imageupdateautomations', 'auto', 'True');
      await readyOf('imageupdateautomations', 'auto-wrong', 'False');
      await readyOf('imagerepositories', 'app-unreachable', 'False');
    }
    for (const [where, name] of [...(ssh ? ['ssh'] : []), 'basic', 'bearer'].map((d) => [ns, d]).concat([[target, 'remote']])) {
      // Throws when it is missing: each successful deployment applied its object (the remote one as alice).
      await admin.rest.request<KubeObject>({ method: 'GET', path: `/api/v1/namespaces/${where}/configmaps/${name}-settings` });
    }

    // ---- collect every output --------------------------------------------------------------------
    const outputs: Output[] = [];
    const add = (source: string, text: string) => outputs.push({ source, text });
    for (const d of expectations) {
      for (const cmd of [
        ['status', d.name],
        ['diff', d.name],
      ]) {
        const r = await cli([...cmd, '--kubeconfig', kubeconfig, '-n', ns]);
        add(`tidemark ${cmd.join(' ')}`, r);
      }
    }
    for (const cmd of [
      ['get', 'cd'],
      ['get', 'cd', '-o', 'json'],
      ['get', 'cd', '-o', 'yaml'],
      ['get', 'images'],
      ['get', 'images', '-o', 'json'],
    ]) {
      add(`tidemark ${cmd.join(' ')}`, await cli([...cmd, '--kubeconfig', kubeconfig, '-n', ns]));
    }
    add('agent /metrics', await (await fetch(`${programs.agent.healthUrl()}/metrics`)).text());
    add('image updater /metrics', await (await fetch(`${programs.updater.healthUrl}/metrics`)).text());
    for (const plural of ['continuousdeployments', 'imagerepositories', 'imagepolicies', 'imageupdateautomations']) {
      const list = await admin.rest.request<{ items: Array<KubeObject & { status?: unknown }> }>({
        method: 'GET',
        path: `/apis/${API_VERSION}/namespaces/${ns}/${plural}`,
      });
      for (const item of list.items) add(`${plural}/${item.metadata.name} status`, JSON.stringify(item.status ?? null));
    }
    for (const n of [ns, target]) {
      const events = await admin.rest.request<{ items: unknown[] }>({ method: 'GET', path: `/api/v1/namespaces/${n}/events` });
      // The deployments' Events are in their own namespace; the target's may hold none.
      if (n === ns) assert.ok(events.items.length > 0, `Events in ${n}`);
      add(`Events in ${n}`, JSON.stringify(events.items));
    }
    for (const repo of options.short ? ['app'] : ['app', 'auto']) {
      const log = await runGit(['--git-dir', git.repos.path(repo), 'log', '--all', '--format=fuller', '--notes']);
      add(`git log ${repo}`, log.stdout);
    }
    // Last, so they hold everything the CLI runs above made the programs do.
    add('agent log', programs.agent.output());
    add('image updater log', programs.updater.output());

    // The registry's bearer tokens: their signature is what makes one usable (the header and
    // claims are the same JSON shape in every token, and not secret).
    const issued = registry.issuer?.issued ?? [];
    assert.ok(issued.length > 0, 'the registry issued tokens to the image updater');
    issued.forEach((token, i) => secrets.push({ name: `registry bearer token ${i + 1}`, value: token.slice(token.lastIndexOf('.') + 1) }));

    // The scan can fail: the Secrets themselves hold every value (base64 in data).
    const own = await admin.rest.request<{ items: unknown[] }>({ method: 'GET', path: `/api/v1/namespaces/${ns}/secrets` });
    const selfCheck = scanForSecrets(secrets, [{ source: 'the Secrets', text: JSON.stringify(own.items) + JSON.stringify(secrets) }]);
    for (const s of secrets)
      assert.ok(
        selfCheck.some((h) => h.secret === s.name),
        `the scan finds ${s.name} where it is known to be`,
      );

    const hits = scanForSecrets(secrets, outputs);
    const sources = outputs.map((o) => ({ source: o.source, bytes: Buffer.byteLength(o.text) }));
    return {
      row: {
        fault: 'known secrets in every output (logs, status, Events, commits, metrics, CLI)',
        converged: true,
        lostObjects: 0,
        orphans: 0,
        secretHits: hits.length,
      },
      hits,
      sources,
      skipped,
      searchedFor: secrets.map((s) => s.name),
    };
  } finally {
    await agent?.stop();
    await updater?.stop();
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await admin.close();
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * `tidemark ...` through the CLI's own entry point (bin/tidemark.ts is one call to it), in this
 * process: stdout and stderr together, whatever the exit code. A process per command costs a
 * second or two of TypeScript loading each, which the short form cannot afford.
 */
async function cli(args: readonly string[]): Promise<string> {
  let text = '';
  const io = { out: (t: string) => void (text += t), err: (t: string) => void (text += t), env: { KUBECONFIG: '' } };
  await main([...args], io);
  return text;
}

interface ProgramProcess {
  healthUrl: string;
  output(): string;
  stop(): Promise<void>;
}

/** A `tidemark <program>` process with a health port, its output kept. */
async function startProgram(program: string, args: readonly string[]): Promise<ProgramProcess> {
  const port = await freePort();
  let output = '';
  const child: ChildProcess = spawn(process.execPath, [BIN, program, ...args, '--health-addr', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KUBECONFIG: '' },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (!alive()) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const unregister = onShutdown({ name: program, async: stop, sync: () => child.kill('SIGKILL') });
  try {
    await waitFor(
      async () => {
        if (!alive()) throw new Error(`${program} exited while starting: ${output.slice(-2000)}`);
        return (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200;
      },
      { timeoutMs: 60_000, what: `${program} ready` },
    );
  } catch (err) {
    await stop();
    unregister();
    throw err;
  }
  return {
    healthUrl: `http://127.0.0.1:${port}`,
    output: () => output,
    stop: async () => {
      await stop();
      unregister();
    },
  };
}
