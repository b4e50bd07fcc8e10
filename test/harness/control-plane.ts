import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  accessSync,
  constants as fsConstants,
  existsSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  mkdirSync,
} from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { dump } from 'js-yaml';
import { TidemarkError } from '../../shared/errors/index.ts';
import { LOOPBACK, freePort } from './ports.ts';
import { onShutdown, startProcess, waitFor } from './process.ts';
import type { ManagedProcess } from './process.ts';

/**
 * A real Kubernetes control plane on loopback: etcd, kube-apiserver (RBAC, static tokens) and
 * kube-controller-manager (so Deployments get ReplicaSets, garbage collection and namespace
 * deletion work). No scheduler and no kubelet here: Pods stay Pending unless a test asks for a
 * node (node.ts, `testCluster({ node: true })`).
 */

export const KUBERNETES_VERSION = '1.20.2';
/** The build recipe revision; must match `recipe` in scripts/build-control-plane.sh. */
export const BUILD_RECIPE = 'r1';

/** Users that always exist with their own token and no RBAC grants, for tests that bind roles. */
export const SPARE_USERS = ['alice', 'bob', 'carol', 'dave'] as const;

export const ADMIN_USER = 'admin';

export interface UserSpec {
  name: string;
  groups?: readonly string[];
}

/** Everything a test process needs to reach a running cluster; serialisable to JSON. */
export interface ClusterInfo {
  server: string;
  /** PEM bundle the API server's serving certificate verifies against. */
  caPem: string;
  adminToken: string;
  /** Token per user name, spare users included (admin too). */
  userTokens: Record<string, string>;
  kubeconfigPath: string;
  /** Where kubeconfigs for other users are written. */
  workDir: string;
}

/** Access to a cluster, whoever started it. */
export interface ClusterAccess {
  readonly server: string;
  readonly adminToken: string;
  /** A kubeconfig file with the admin token and the CA. */
  readonly kubeconfigPath: string;
  readonly userNames: readonly string[];
  readonly info: ClusterInfo;
  /** The bearer token of a user from the token file. Throws for an unknown user. */
  userToken(name: string): string;
  /** A loaded KubeConfig for `user` (admin by default). */
  kubeConfig(user?: string): KubeConfig;
  /** Writes (once) a kubeconfig file for a token user and returns its path. */
  kubeconfigFor(user: string): string;
  /** Creates a namespace named `<prefix>-<random>` and returns the name. */
  createNamespace(prefix: string, labels?: Record<string, string>): Promise<string>;
  /** Deletes a namespace without waiting; a missing one is fine. */
  deleteNamespace(name: string): Promise<void>;
  /** The controller manager creates "default" in each new namespace; wait for it before using it. */
  waitForDefaultServiceAccount(namespace: string, timeoutMs?: number): Promise<void>;
}

export interface StartupTimings {
  etcdMs: number;
  apiserverMs: number;
  controllerManagerMs: number;
  totalMs: number;
}

export interface ControlPlane extends ClusterAccess {
  readonly tempDir: string;
  readonly ports: { etcdClient: number; etcdPeer: number; apiserver: number; controllerManager: number };
  readonly processes: readonly ManagedProcess[];
  readonly startup: StartupTimings;
  /** Stops the controller manager, API server and etcd, then removes the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** Fault injection: kube-apiserver dies (SIGKILL, or a clean SIGTERM); the rest keeps running. */
  stopApiserver(how?: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /** Starts kube-apiserver again on the same port with the same certificates and etcd; resolves when it is ready. */
  startApiserver(): Promise<void>;
  /** Fault injection: etcd stops answering (SIGSTOP) until resumed (SIGCONT). */
  pauseEtcd(): void;
  resumeEtcd(): void;
}

export interface ControlPlaneOptions {
  /** Extra token users; each gets a generated token. */
  users?: readonly UserSpec[];
  /** Deadline for each server to come up. Default 3 minutes: a busy 2-core machine is slow. */
  startTimeoutMs?: number;
  /** Also wait until the controller manager has created default/default (proves it works). Default true. */
  waitForControllers?: boolean;
  /** Keep the temp dir (logs, certs) after stop or a failed start, for debugging. Env TIDEMARK_KEEP_TMP=1 too. */
  keepTempDir?: boolean;
  /** Parent for the temp dir; default /dev/shm when usable (etcd fsyncs a lot), else the OS temp dir. */
  baseDir?: string;
  /** Progress lines ("etcd ready in 1.2s"); default silent. */
  log?: (line: string) => void;
}

// ---- binaries ---------------------------------------------------------------------------------

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export function cacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME || join(process.env.HOME || tmpdir(), '.cache');
  return process.env.TIDEMARK_CACHE || join(xdg, 'tidemark');
}

export interface ControlPlaneBinaries {
  etcd: string;
  apiserver: string;
  controllerManager: string;
}

export function controlPlaneBinaries(): ControlPlaneBinaries {
  const dir = join(cacheDir(), `kubernetes-v${KUBERNETES_VERSION}-${BUILD_RECIPE}`);
  return {
    etcd: existsSync('/usr/bin/etcd') ? '/usr/bin/etcd' : 'etcd',
    apiserver: join(dir, 'kube-apiserver'),
    controllerManager: join(dir, 'kube-controller-manager'),
  };
}

function executable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

let building: Promise<ControlPlaneBinaries> | undefined;

/**
 * Returns the binaries, building them first with scripts/build-control-plane.sh when they are not
 * cached (10-15 minutes; the script prints progress to stderr and locks against parallel builds).
 */
export function ensureControlPlaneBinaries(): Promise<ControlPlaneBinaries> {
  const bins = controlPlaneBinaries();
  if (executable(bins.apiserver) && executable(bins.controllerManager)) return Promise.resolve(bins);
  building ??= new Promise<ControlPlaneBinaries>((resolve, reject) => {
    const script = join(repoRoot, 'scripts', 'build-control-plane.sh');
    process.stderr.write(`control plane binaries missing: running ${script}\n`);
    const child = spawn('bash', [script], { stdio: ['ignore', process.stderr, process.stderr] });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0 && executable(bins.apiserver) && executable(bins.controllerManager)) resolve(bins);
      else
        reject(
          new TidemarkError('ControlPlaneBuildFailed', `${script} exited with code ${code}`, {
            kind: 'terminal',
            hint: 'run scripts/install-system-deps.sh first (it enables deb-src and installs Go)',
          }),
        );
    });
  }).finally(() => {
    building = undefined;
  });
  return building;
}

// ---- cluster access ---------------------------------------------------------------------------

const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9:._@-]*$/;

function checkUserName(name: string): void {
  // The token file is CSV: a comma or quote in a name would corrupt it.
  if (!USER_NAME.test(name)) {
    throw new TidemarkError('InvalidUserName', `invalid user name ${JSON.stringify(name)}`, {
      kind: 'terminal',
      hint: 'use letters, digits and : . _ @ -',
    });
  }
}

export function kubeconfigYaml(info: Pick<ClusterInfo, 'server' | 'caPem'>, user: string, token: string, namespace?: string): string {
  const cluster = 'tidemark-test';
  const context = `${user}@${cluster}`;
  return dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: cluster,
        cluster: { server: info.server, 'certificate-authority-data': Buffer.from(info.caPem).toString('base64') },
      },
    ],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: context, context: namespace ? { cluster, user, namespace } : { cluster, user } }],
    'current-context': context,
  });
}

/** Writes via a temp file and rename, so concurrent test files never see a half-written kubeconfig. */
function writeFileAtomic(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  renameSync(tmp, path);
}

function apiStatus(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'number') return err.code;
  return undefined;
}

const DNS_LABEL_CHARS = /[^a-z0-9-]/g;

export function createClusterAccess(info: ClusterInfo): ClusterAccess {
  const written = new Map<string, string>();
  const userToken = (name: string): string => {
    const token = info.userTokens[name];
    if (token === undefined) {
      throw new TidemarkError('UnknownUser', `no token user ${JSON.stringify(name)} in this cluster`, {
        kind: 'terminal',
        hint: `known users: ${Object.keys(info.userTokens).join(', ')}`,
      });
    }
    return token;
  };
  const kubeConfig = (user: string = ADMIN_USER): KubeConfig => {
    const kc = new KubeConfig();
    kc.loadFromString(kubeconfigYaml(info, user, userToken(user)));
    return kc;
  };
  const core = (): CoreV1Api => kubeConfig().makeApiClient(CoreV1Api);
  return {
    server: info.server,
    adminToken: info.adminToken,
    kubeconfigPath: info.kubeconfigPath,
    userNames: Object.keys(info.userTokens),
    info,
    userToken,
    kubeConfig,
    kubeconfigFor(user: string): string {
      if (user === ADMIN_USER) return info.kubeconfigPath;
      const known = written.get(user);
      if (known) return known;
      checkUserName(user);
      const path = join(info.workDir, `kubeconfig-${user.replace(/[^A-Za-z0-9._-]/g, '_')}.yaml`);
      writeFileAtomic(path, kubeconfigYaml(info, user, userToken(user)));
      written.set(user, path);
      return path;
    },
    async createNamespace(prefix: string, labels?: Record<string, string>): Promise<string> {
      const clean =
        prefix
          .toLowerCase()
          .replace(DNS_LABEL_CHARS, '-')
          .replace(/^-+|-+$/g, '')
          .slice(0, 50) || 'test';
      const name = `${clean}-${randomBytes(4).toString('hex').slice(0, 6)}`;
      await core().createNamespace({ body: { metadata: labels ? { name, labels } : { name } } });
      return name;
    },
    async deleteNamespace(name: string): Promise<void> {
      try {
        await core().deleteNamespace({ name });
      } catch (err) {
        if (apiStatus(err) !== 404) throw err;
      }
    },
    async waitForDefaultServiceAccount(namespace: string, timeoutMs = 60_000): Promise<void> {
      const api = core();
      await waitFor(
        async () => {
          try {
            await api.readNamespacedServiceAccount({ name: 'default', namespace });
            return true;
          } catch (err) {
            if (apiStatus(err) === 404) return false;
            throw err;
          }
        },
        { what: `service account default in namespace ${namespace}`, timeoutMs, intervalMs: 200 },
      );
    },
  };
}

// ---- starting the servers ---------------------------------------------------------------------

export interface HttpReply {
  status: number;
  body: string;
}

export function httpsGet(
  url: string,
  options: { ca?: string | undefined; token?: string | undefined; insecure?: boolean | undefined },
): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'GET',
        ca: options.ca,
        // Only for the controller manager's throwaway self-signed cert on loopback.
        rejectUnauthorized: !options.insecure,
        headers: options.token ? { Authorization: `Bearer ${options.token}` } : {},
        timeout: 5_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within 5s`)));
    req.on('error', reject);
    req.end();
  });
}

async function httpGetOk(url: string): Promise<HttpReply> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: await res.text() };
}

function token(): string {
  return randomBytes(24).toString('base64url');
}

function defaultBaseDir(): string {
  try {
    accessSync('/dev/shm', fsConstants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

function elapsed(since: number): number {
  return Math.round(performance.now() - since);
}

/** Starts etcd, kube-apiserver and kube-controller-manager on free loopback ports. */
function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const t0 = performance.now();
  const log = options.log ?? (() => {});
  const timeoutMs = options.startTimeoutMs ?? 180_000;
  const keep = options.keepTempDir ?? process.env.TIDEMARK_KEEP_TMP === '1';
  const bins = await ensureControlPlaneBinaries();

  for (const u of options.users ?? []) checkUserName(u.name);
  const userTokens: Record<string, string> = { [ADMIN_USER]: token() };
  const groups: Record<string, readonly string[]> = { [ADMIN_USER]: ['system:masters'] };
  for (const name of SPARE_USERS) userTokens[name] = token();
  for (const u of options.users ?? []) {
    if (u.name in userTokens) throw new TidemarkError('InvalidUserName', `user ${u.name} defined twice`, { kind: 'terminal' });
    userTokens[u.name] = token();
    groups[u.name] = u.groups ?? [];
  }
  const kcmUser = 'system:kube-controller-manager';
  const kcmToken = token();

  const dir = mkdtempSync(join(options.baseDir ?? defaultBaseDir(), 'tidemark-cp-'));
  const processes: ManagedProcess[] = [];
  let stopped: Promise<void> | undefined;

  const stopAll = async (): Promise<void> => {
    // A paused etcd (a fault case) would sit out SIGTERM's grace period.
    for (const p of processes) if (p.name === 'etcd') signalQuietly(p.pid, 'SIGCONT');
    // Reverse start order: the controller manager and API server first, etcd last.
    for (const p of [...processes].reverse()) await p.stop();
    if (!keep) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  };
  const unregister = onShutdown({
    name: `control plane ${dir}`,
    async: () => stopAll(),
    sync: () => {
      for (const p of processes) p.killNow();
      if (!keep) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  });
  const stop = (): Promise<void> => {
    stopped ??= stopAll().finally(unregister);
    return stopped;
  };

  try {
    const [etcdClient, etcdPeer, apiserverPort, kcmPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const certDir = join(dir, 'certs');
    mkdirSync(certDir, { mode: 0o700 });

    // Tokens and keys go into files: secrets never appear on a command line.
    const tokenLines = Object.entries(userTokens).map(([name, tok]) => {
      const g = groups[name] ?? [];
      return g.length > 0 ? `${tok},${name},${name},"${g.join(',')}"` : `${tok},${name},${name}`;
    });
    tokenLines.push(`${kcmToken},${kcmUser},${kcmUser},"system:masters"`);
    const tokenFile = join(dir, 'tokens.csv');
    writeFileSync(tokenFile, tokenLines.join('\n') + '\n', { mode: 0o600 });
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const saKey = join(dir, 'sa.key');
    const saPub = join(dir, 'sa.pub');
    writeFileSync(saKey, privateKey, { mode: 0o600 });
    writeFileSync(saPub, publicKey, { mode: 0o600 });

    // etcd
    let t = performance.now();
    const etcd = await startProcess({
      name: 'etcd',
      command: bins.etcd,
      args: [
        '--name=tidemark',
        `--data-dir=${join(dir, 'etcd')}`,
        `--listen-client-urls=http://${LOOPBACK}:${etcdClient}`,
        `--advertise-client-urls=http://${LOOPBACK}:${etcdClient}`,
        `--listen-peer-urls=http://${LOOPBACK}:${etcdPeer}`,
        `--initial-advertise-peer-urls=http://${LOOPBACK}:${etcdPeer}`,
        `--initial-cluster=tidemark=http://${LOOPBACK}:${etcdPeer}`,
        '--logger=zap',
        '--log-outputs=stderr',
      ],
      cwd: dir,
      logFile: join(dir, 'etcd.log'),
    });
    processes.push(etcd);
    await waitFor(
      async () => {
        const res = await httpGetOk(`http://${LOOPBACK}:${etcdClient}/health`);
        return res.status === 200 && /"health":\s*"true"/.test(res.body);
      },
      { what: 'etcd /health', timeoutMs, watch: [etcd] },
    );
    const etcdMs = elapsed(t);
    log(`etcd ready on ${LOOPBACK}:${etcdClient} in ${etcdMs} ms`);

    // kube-apiserver; started again by the fault cases (same port, certs and etcd).
    t = performance.now();
    const server = `https://${LOOPBACK}:${apiserverPort}`;
    const certFile = join(certDir, 'apiserver.crt');
    let caPem = '';
    const startApiserver = async (): Promise<ManagedProcess> => {
      const apiserver = await startProcess({
        name: 'kube-apiserver',
        command: bins.apiserver,
        args: [
          `--etcd-servers=http://${LOOPBACK}:${etcdClient}`,
          `--secure-port=${apiserverPort}`,
          `--bind-address=${LOOPBACK}`,
          `--advertise-address=${LOOPBACK}`,
          '--insecure-port=0',
          `--cert-dir=${certDir}`,
          `--service-account-key-file=${saPub}`,
          `--service-account-signing-key-file=${saKey}`,
          '--service-account-issuer=https://kubernetes.default.svc',
          '--authorization-mode=RBAC',
          `--token-auth-file=${tokenFile}`,
          '--service-cluster-ip-range=10.0.0.0/24',
          '--allow-privileged=true',
          '--profiling=false',
        ],
        cwd: dir,
        logFile: join(dir, 'kube-apiserver.log'),
      });
      processes.push(apiserver);
      await waitFor(
        async () => {
          // The API server writes its self-signed serving cert (leaf + its CA) at start.
          if (!caPem) {
            if (!existsSync(certFile)) return false;
            caPem = readFileSync(certFile, 'utf8');
            if (!caPem.includes('END CERTIFICATE')) {
              caPem = '';
              return false;
            }
          }
          const res = await httpsGet(`${server}/readyz`, { ca: caPem, token: userTokens[ADMIN_USER] });
          if (res.status === 200 && res.body.trim() === 'ok') return true;
          throw new Error(`/readyz answered ${res.status}: ${res.body.slice(0, 300)}`);
        },
        { what: 'kube-apiserver /readyz', timeoutMs, watch: [apiserver, etcd], intervalMs: 500 },
      );
      return apiserver;
    };
    let apiserver = await startApiserver();
    const apiserverMs = elapsed(t);
    log(`kube-apiserver ready on ${server} in ${apiserverMs} ms`);

    const info: ClusterInfo = {
      server,
      caPem,
      adminToken: userTokens[ADMIN_USER] ?? '',
      userTokens,
      kubeconfigPath: join(dir, 'kubeconfig-admin.yaml'),
      workDir: dir,
    };
    writeFileAtomic(info.kubeconfigPath, kubeconfigYaml(info, ADMIN_USER, info.adminToken));
    const kcmKubeconfig = join(dir, 'kubeconfig-controller-manager.yaml');
    writeFileAtomic(kcmKubeconfig, kubeconfigYaml(info, kcmUser, kcmToken));

    // kube-controller-manager
    t = performance.now();
    const kcm = await startProcess({
      name: 'kube-controller-manager',
      command: bins.controllerManager,
      args: [
        `--kubeconfig=${kcmKubeconfig}`,
        `--service-account-private-key-file=${saKey}`,
        `--root-ca-file=${certFile}`,
        `--bind-address=${LOOPBACK}`,
        `--secure-port=${kcmPort}`,
        '--port=0',
        `--cert-dir=${join(dir, 'kcm-certs')}`,
        '--leader-elect=false',
        '--use-service-account-credentials=false',
        // The node lifecycle controller lifts the not-ready taint a kubelet registers with; without
        // it no Pod is ever scheduled on the harness's node (node.ts).
        '--controllers=*,-nodeipam,-cloud-node-lifecycle',
        // Tests create and delete many namespaces; the default 20 QPS makes cleanup crawl.
        '--kube-api-qps=100',
        '--kube-api-burst=200',
        '--profiling=false',
      ],
      cwd: dir,
      logFile: join(dir, 'kube-controller-manager.log'),
    });
    processes.push(kcm);
    await waitFor(
      async () => {
        const res = await httpsGet(`https://${LOOPBACK}:${kcmPort}/healthz`, { insecure: true });
        if (res.status === 200) return true;
        throw new Error(`/healthz answered ${res.status}: ${res.body.slice(0, 300)}`);
      },
      { what: 'kube-controller-manager /healthz', timeoutMs, watch: [kcm, apiserver, etcd], intervalMs: 500 },
    );

    const access = createClusterAccess(info);
    if (options.waitForControllers ?? true) {
      // healthz only says the process serves; a service account in "default" proves the
      // controllers are talking to the API server.
      await waitFor(
        async () => {
          try {
            await access.kubeConfig().makeApiClient(CoreV1Api).readNamespacedServiceAccount({ name: 'default', namespace: 'default' });
            return true;
          } catch (err) {
            if (apiStatus(err) === 404) return false;
            throw err;
          }
        },
        {
          what: 'the controller manager to create default/default service account',
          timeoutMs,
          watch: [kcm, apiserver, etcd],
          intervalMs: 250,
        },
      );
    }
    const controllerManagerMs = elapsed(t);
    log(`kube-controller-manager ready on ${LOOPBACK}:${kcmPort} in ${controllerManagerMs} ms`);

    return {
      ...access,
      tempDir: dir,
      ports: { etcdClient, etcdPeer, apiserver: apiserverPort, controllerManager: kcmPort },
      processes,
      startup: { etcdMs, apiserverMs, controllerManagerMs, totalMs: elapsed(t0) },
      stop,
      async stopApiserver(how = 'SIGKILL') {
        if (how === 'SIGKILL') apiserver.killNow();
        else await apiserver.stop();
        await apiserver.exited;
        processes.splice(processes.indexOf(apiserver), 1);
      },
      async startApiserver() {
        if (processes.includes(apiserver)) throw new Error('startApiserver: kube-apiserver is running');
        apiserver = await startApiserver();
        // The controller manager stays ahead of it in stop order.
        processes.splice(processes.indexOf(apiserver), 1);
        processes.splice(processes.indexOf(etcd) + 1, 0, apiserver);
      },
      pauseEtcd: () => process.kill(etcd.pid, 'SIGSTOP'),
      resumeEtcd: () => process.kill(etcd.pid, 'SIGCONT'),
    };
  } catch (err) {
    await stop().catch(() => {});
    if (err instanceof TidemarkError && !keep) {
      // The logs went with the temp dir; the message keeps their tail.
      throw new TidemarkError(err.code, err.message, {
        kind: err.kind,
        cause: err,
        hint: 'TIDEMARK_KEEP_TMP=1 keeps the full server logs',
      });
    }
    throw err;
  }
}
