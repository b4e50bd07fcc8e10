import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  constants as fsConstants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  rmdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api } from '@kubernetes/client-node';
import { dump } from 'js-yaml';
import { TidemarkError } from '../../shared/errors/index.ts';
import { KUBERNETES_VERSION, cacheDir, httpsGet } from './control-plane.ts';
import type { ClusterAccess } from './control-plane.ts';
import { APP_REPO, APP_TAG, PAUSE_REPO, PAUSE_TAG, buildAppImage, buildPauseImage } from './node-images.ts';
import { LOOPBACK, freePort } from './ports.ts';
import { onShutdown, startProcess, waitFor } from './process.ts';
import type { ManagedProcess } from './process.ts';
import { startRegistry } from './registry.ts';
import type { TestRegistry } from './registry.ts';
import { RegistryPusher } from './registry-push.ts';

/**
 * A real node next to the control plane: containerd (own root, state, socket and runc root under
 * the node's temp dir) running Pods through runc, a kubelet (cgroupfs driver, CRI, a static config
 * file) registered as a Node, and kube-scheduler. Pod networking is a CNI bridge with host-local
 * addresses on a private range; the bridge lives in a network namespace the harness creates (the
 * bridge plugin runs inside it through nsenter), so the host's own network gains no device, route
 * or iptables rule. Images come from a local registry only: the pause and application images are
 * built from local files (node-images.ts) and containerd's mirror for docker.io points at it too.
 *
 * stop() removes everything it made: the Node object, every container (by their cgroups), the
 * shims, every mount under the temp dir, the network namespace and the cgroups.
 */

/** The node build's recipe key; must match `recipe_node` in scripts/build-control-plane.sh. */
export const NODE_BUILD_RECIPE = 'node-r1';

export interface NodeBinaries {
  kubelet: string;
  scheduler: string;
  pause: string;
}

export interface NodeStartupTimings {
  imagesMs: number;
  containerdMs: number;
  kubeletMs: number;
  schedulerMs: number;
  totalMs: number;
}

export interface TestNode {
  /** The Node object's name. */
  readonly name: string;
  /** The anonymous registry containerd pulls from: `http://127.0.0.1:PORT`. */
  readonly registryUrl: string;
  /** `127.0.0.1:PORT`, as it appears in image references. */
  readonly registryHost: string;
  /** A runnable image: busybox httpd on APP_PORT (node-images.ts). */
  readonly appImage: string;
  readonly tempDir: string;
  readonly startup: NodeStartupTimings;
  /** Idempotent. */
  stop(): Promise<void>;
}

export interface StartNodeOptions {
  /** Pull from this registry (anonymous) instead of starting one; the images are pushed to it. */
  registry?: TestRegistry;
  /** Deadline for each component to come up. */
  startTimeoutMs?: number;
  keepTempDir?: boolean;
  log?: (line: string) => void;
}

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const CNI_PLUGINS = '/usr/lib/cni';
const CGROUP_V1 = '/sys/fs/cgroup';
/** Pods' addresses; only ever routed inside the node's own network namespace. */
const POD_SUBNET = '10.244.0.0/24';
/** The node needs CRI, overlayfs and runc; these others only log errors here (or write to /opt). */
const DISABLED_PLUGINS = [
  'io.containerd.snapshotter.v1.btrfs',
  'io.containerd.snapshotter.v1.zfs',
  'io.containerd.snapshotter.v1.aufs',
  'io.containerd.snapshotter.v1.devmapper',
  'io.containerd.internal.v1.opt',
  'io.containerd.tracing.processor.v1.otlp',
];

export function nodeBinaries(): NodeBinaries {
  const dir = join(cacheDir(), `kubernetes-v${KUBERNETES_VERSION}-${NODE_BUILD_RECIPE}`);
  return { kubelet: join(dir, 'kubelet'), scheduler: join(dir, 'kube-scheduler'), pause: join(dir, 'pause') };
}

function executable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && executable(join(dir, command)));
}

/** cgroup v1 hierarchies (the kubelet 1.20 needs them), by mount point. */
function cgroupV1Mounts(): string[] {
  let info: string;
  try {
    info = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const mounts: string[] = [];
  for (const line of info.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right || !right.startsWith('cgroup ')) continue;
    const point = left.split(' ')[4];
    if (point?.startsWith(`${CGROUP_V1}/`)) mounts.push(point);
  }
  return mounts;
}

/**
 * Why a node cannot run on this machine, or undefined when it can. Checked before anything is
 * started, so tests that need a node skip with this reason instead of failing or passing.
 */
export function nodeUnavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root: containerd, runc and network namespaces need root';
  const v1 = cgroupV1Mounts().map((m) => m.slice(CGROUP_V1.length + 1));
  const needed = ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids'];
  const missing = needed.filter((c) => !v1.some((m) => m.split(',').includes(c)));
  if (missing.length > 0) return `no cgroup v1 hierarchy for ${missing.join(', ')} under ${CGROUP_V1} (kubelet 1.20 needs cgroup v1)`;
  if (!readFileSync('/proc/filesystems', 'utf8').includes('overlay')) return 'no overlay filesystem (containerd snapshotter)';
  if (!existsSync('/proc/self/ns/net')) return 'no network namespaces';
  for (const command of ['containerd', 'containerd-shim-runc-v2', 'runc', 'ctr', 'ip', 'nsenter', 'tar']) {
    if (!onPath(command)) return `${command} not found (scripts/install-system-deps.sh installs it)`;
  }
  for (const plugin of ['bridge', 'host-local', 'loopback']) {
    if (!executable(join(CNI_PLUGINS, plugin))) return `CNI plugin ${join(CNI_PLUGINS, plugin)} missing (containernetworking-plugins)`;
  }
  if (!existsSync('/bin/busybox')) return '/bin/busybox missing (busybox-static)';
  return undefined;
}

let building: Promise<NodeBinaries> | undefined;

/** The node binaries, built by scripts/build-control-plane.sh when not cached. */
export function ensureNodeBinaries(): Promise<NodeBinaries> {
  const bins = nodeBinaries();
  const have = (): boolean => executable(bins.kubelet) && executable(bins.scheduler) && executable(bins.pause);
  if (have()) return Promise.resolve(bins);
  building ??= new Promise<NodeBinaries>((resolve, reject) => {
    const script = join(repoRoot, 'scripts', 'build-control-plane.sh');
    process.stderr.write(`node binaries missing: running ${script} node\n`);
    const child = spawn('bash', [script, 'node'], { stdio: ['ignore', process.stderr, process.stderr] });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0 && have()) resolve(bins);
      else
        reject(
          new TidemarkError('ControlPlaneBuildFailed', `${script} node exited with code ${code}`, {
            kind: 'terminal',
            hint: 'run scripts/install-system-deps.sh first (it enables deb-src and installs Go and gcc)',
          }),
        );
    });
  }).finally(() => {
    building = undefined;
  });
  return building;
}

function run(command: string, args: readonly string[]): string {
  const res = spawnSync(command, args, { encoding: 'utf8' });
  if (res.status !== 0) {
    throw new TidemarkError('NodeStartFailed', `${command} ${args.join(' ')} failed: ${(res.stderr || res.error?.message || '').trim()}`, {
      kind: 'terminal',
    });
  }
  return res.stdout;
}

function elapsed(since: number): number {
  return Math.round(performance.now() - since);
}

function apiStatus(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'number') return err.code;
  return undefined;
}

// ---- cleanup helpers (synchronous, so the exit hook can use them too) --------------------------

/** Every mount point at or below `dir`, deepest first. */
function mountsUnder(dir: string): string[] {
  let info: string;
  try {
    info = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const points = info
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    // mountinfo escapes spaces and such as octal; our paths have none.
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

function unmountAll(dir: string): void {
  for (let round = 0; round < 5; round++) {
    const points = mountsUnder(dir);
    if (points.length === 0) return;
    for (const p of points) spawnSync('umount', ['-l', p]);
  }
}

/** Pids in a cgroup subtree (v1 pids hierarchy). */
function cgroupPids(dir: string): number[] {
  const pids: number[] = [];
  const walk = (d: string): void => {
    try {
      for (const line of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) {
        const pid = Number(line);
        if (Number.isInteger(pid) && pid > 0) pids.push(pid);
      }
      for (const entry of readdirSync(d, { withFileTypes: true })) if (entry.isDirectory()) walk(join(d, entry.name));
    } catch {
      // Gone already.
    }
  };
  walk(dir);
  return pids;
}

function removeCgroupTree(dir: string): void {
  const walk = (d: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(d, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
    } catch {
      return;
    }
    for (const e of entries) walk(join(d, e));
    try {
      rmdirSync(d);
    } catch {
      // Still busy: a process that has not died yet; the next pass gets it.
    }
  };
  walk(dir);
}

/** Shims of our containerd: their command line names our socket. */
function shimPids(socket: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if ((argv[0] ?? '').includes('containerd-shim') && argv.includes(socket)) pids.push(Number(entry));
    } catch {
      // Exited meanwhile.
    }
  }
  return pids;
}

function killAll(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** An API call during cleanup: the control plane may already be gone, and stop() must end. */
function bounded<T>(call: Promise<T>, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
}

/** What a node leaves on the machine, written into its temp dir so a later run can clear it. */
interface NodeFootprint {
  pid: number;
  dir: string;
  socket: string;
  netns: string;
  cgroupRoot: string;
}

const NODE_DIR_PREFIX = 'tidemark-node-';
const FOOTPRINT_FILE = 'node.json';

/** The node's cgroup dirs: one per v1 hierarchy, and on a hybrid host the cgroup2 twin runc makes. */
function cgroupDirsOf(root: string): string[] {
  const dirs = cgroupV1Mounts().map((m) => join(m, root));
  const unified = join(CGROUP_V1, 'unified');
  if (existsSync(join(unified, 'cgroup.controllers'))) dirs.push(join(unified, root));
  return dirs;
}

/**
 * Removes everything a node made, whether or not its processes still run: containers (found by
 * their cgroups, whatever pid namespace they are in), the shims of its containerd, mounts under
 * its dir, its network namespace and its cgroups. Synchronous, so an exit hook can use it.
 */
function sweepNode(fp: NodeFootprint, killDaemons: () => void = () => {}): void {
  const cgroupDirs = cgroupDirsOf(fp.cgroupRoot);
  for (let round = 0; round < 3; round++) {
    const pids = cgroupDirs.flatMap((d) => (d.includes('/pids/') ? cgroupPids(d) : []));
    const shims = shimPids(fp.socket);
    if (pids.length === 0 && shims.length === 0) break;
    killAll(pids);
    killAll(shims);
    spawnSync('sleep', ['0.2']);
  }
  killDaemons();
  removePodLogs(fp.dir);
  unmountAll(fp.dir);
  if (existsSync(join('/run/netns', fp.netns))) spawnSync('ip', ['netns', 'delete', fp.netns]);
  for (let round = 0; round < 5 && cgroupDirs.some((d) => existsSync(d)); round++) {
    for (const d of cgroupDirs) removeCgroupTree(d);
    if (cgroupDirs.some((d) => existsSync(d))) spawnSync('sleep', ['0.2']);
  }
}

/**
 * The kubelet writes container logs under the fixed /var/log/pods (`<ns>_<pod>_<uid>`, with
 * symlinks in /var/log/containers) and removes them only a minute after a Pod goes. The Pods this
 * node ran are those its containerd logged a sandbox for, plus any still under the kubelet's dir.
 */
function removePodLogs(dir: string): void {
  const uids = new Set<string>();
  try {
    for (const m of readFileSync(join(dir, 'containerd.log'), 'utf8').matchAll(/PodSandboxMetadata\{[^}]*?Uid:([0-9a-f-]{36})/g)) {
      if (m[1]) uids.add(m[1]);
    }
  } catch {
    // No log: containerd never ran.
  }
  try {
    for (const uid of readdirSync(join(dir, 'kubelet', 'pods'))) uids.add(uid);
  } catch {
    // The kubelet never ran.
  }
  if (uids.size === 0) return;
  const ours = (path: string): boolean => [...uids].some((uid) => path.endsWith(`_${uid}`) || path.includes(`_${uid}/`));
  try {
    for (const link of readdirSync('/var/log/containers')) {
      const path = join('/var/log/containers', link);
      try {
        if (ours(readlinkSync(path))) rmSync(path, { force: true });
      } catch {
        // Not a symlink, or gone meanwhile.
      }
    }
  } catch {
    // No such directory: nothing was logged there.
  }
  try {
    for (const entry of readdirSync('/var/log/pods'))
      if (ours(entry)) rmSync(join('/var/log/pods', entry), { recursive: true, force: true });
  } catch {
    // No such directory.
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Clears the nodes of processes that died without stopping them (SIGKILL, a crash): no exit hook
 * ran, so their containers, mounts, network namespace and cgroups would stay forever.
 */
function sweepStaleNodes(): void {
  let entries: string[];
  try {
    entries = readdirSync(tmpdir()).filter((e) => e.startsWith(NODE_DIR_PREFIX));
  } catch {
    return;
  }
  for (const entry of entries) {
    const dir = join(tmpdir(), entry);
    let fp: NodeFootprint;
    try {
      fp = JSON.parse(readFileSync(join(dir, FOOTPRINT_FILE), 'utf8')) as NodeFootprint;
    } catch {
      continue;
    }
    if (fp.dir !== dir || !Number.isInteger(fp.pid) || alive(fp.pid)) continue;
    sweepNode(fp);
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

// ---- start ------------------------------------------------------------------------------------

/** Starts a node for `cluster`. Throws NodeUnavailable (with the reason) where a node cannot run. */
export async function startNode(cluster: ClusterAccess, options: StartNodeOptions = {}): Promise<TestNode> {
  const t0 = performance.now();
  const log = options.log ?? (() => {});
  const timeoutMs = options.startTimeoutMs ?? 180_000;
  const keep = options.keepTempDir ?? process.env.TIDEMARK_KEEP_TMP === '1';
  const unavailable = nodeUnavailableReason();
  if (unavailable) throw new TidemarkError('NodeUnavailable', unavailable, { kind: 'terminal' });
  const bins = await ensureNodeBinaries();

  const id = randomBytes(3).toString('hex');
  const name = `tidemark-node-${id}`;
  const netns = `tidemark-${id}`;
  const cgroupRoot = `tidemark-${id}`;
  sweepStaleNodes();
  // Not /dev/shm: container layers and logs can be large, and unix socket paths must stay short.
  const dir = mkdtempSync(join(tmpdir(), NODE_DIR_PREFIX));
  const footprint: NodeFootprint = { pid: process.pid, dir, socket: join(dir, 'containerd.sock'), netns, cgroupRoot };
  writeFileSync(join(dir, FOOTPRINT_FILE), JSON.stringify(footprint));
  const socket = footprint.socket;
  const processes: ManagedProcess[] = [];
  let registry = options.registry;
  const ownRegistry = registry === undefined;
  let stopped: Promise<void> | undefined;

  // Swept: the dir goes, or with keep only the footprint, so no later run sweeps the kept logs.
  const forget = (): void => rmSync(keep ? join(dir, FOOTPRINT_FILE) : dir, { recursive: true, force: true, maxRetries: 3 });
  const sweep = (): void => {
    sweepNode(footprint, () => {
      for (const p of processes) p.killNow();
    });
  };

  const stopAll = async (): Promise<void> => {
    // Scheduler, kubelet, then containerd; its shims keep the containers alive, and the sweep
    // ends them by their cgroups.
    for (const p of [...processes].reverse()) await p.stop();
    sweep();
    try {
      // A stopped node would stay in the cluster, Ready until the lifecycle controller's grace
      // period ends, and Pods could still be scheduled to it: delete it.
      await bounded(cluster.kubeConfig().makeApiClient(CoreV1Api).deleteNode({ name }));
    } catch (err) {
      if (apiStatus(err) !== 404) log(`could not delete Node ${name}: ${(err as Error).message}`);
    }
    if (ownRegistry) await registry?.stop();
    forget();
  };
  const unregister = onShutdown({
    name: `node ${dir}`,
    async: () => stopAll(),
    sync: () => {
      sweep();
      forget();
    },
  });
  const stop = (): Promise<void> => {
    stopped ??= stopAll().finally(unregister);
    return stopped;
  };

  try {
    // Images into the local registry.
    let t = performance.now();
    registry ??= await startRegistry({ auth: 'none' });
    if (registry.mode !== 'none')
      throw new TidemarkError('NodeStartFailed', 'the node pulls anonymously: pass a registry with auth none', { kind: 'terminal' });
    const pusher = new RegistryPusher(registry.url, () => undefined, 4);
    try {
      await pusher.pushBuiltImage(PAUSE_REPO, [PAUSE_TAG], await buildPauseImage(bins.pause));
      await pusher.pushBuiltImage(APP_REPO, [APP_TAG], await buildAppImage());
    } finally {
      await pusher.close();
    }
    const imagesMs = elapsed(t);
    log(`pause and app images pushed to ${registry.url} in ${imagesMs} ms`);

    // Network namespace for the pod bridge.
    run('ip', ['netns', 'add', netns]);
    run('ip', ['netns', 'exec', netns, 'ip', 'link', 'set', 'lo', 'up']);

    // CNI: bridge runs inside the node's netns; host-local and loopback need no network.
    const cniBin = join(dir, 'cni-bin');
    const cniConf = join(dir, 'cni-conf');
    mkdirSync(cniBin);
    mkdirSync(cniConf);
    writeFileSync(join(cniBin, 'bridge'), `#!/bin/sh\nexec nsenter --net=/run/netns/${netns} ${CNI_PLUGINS}/bridge "$@"\n`, {
      mode: 0o755,
    });
    for (const plugin of ['host-local', 'loopback']) symlinkSync(join(CNI_PLUGINS, plugin), join(cniBin, plugin));
    writeFileSync(
      join(cniConf, '10-tidemark.conflist'),
      JSON.stringify({
        cniVersion: '0.4.0',
        name: 'tidemark',
        plugins: [
          {
            type: 'bridge',
            bridge: 'tidemark0',
            isGateway: true,
            ipMasq: false,
            hairpinMode: false,
            ipam: { type: 'host-local', ranges: [[{ subnet: POD_SUBNET }]], dataDir: join(dir, 'cni-ipam') },
          },
        ],
      }),
    );

    // Registry hosts: the local registry over plain HTTP, and docker.io's short names there too, so
    // nothing is ever fetched from the internet.
    const hostsDir = join(dir, 'certs.d');
    for (const host of [registry.host, 'docker.io']) {
      mkdirSync(join(hostsDir, host), { recursive: true });
      writeFileSync(
        join(hostsDir, host, 'hosts.toml'),
        `server = "${registry.url}"\n\n[host."${registry.url}"]\n  capabilities = ["pull", "resolve"]\n`,
      );
    }

    // containerd
    t = performance.now();
    const containerdConfig = join(dir, 'containerd.toml');
    writeFileSync(
      containerdConfig,
      [
        'version = 2',
        `root = "${join(dir, 'containerd-root')}"`,
        `state = "${join(dir, 'containerd-state')}"`,
        `disabled_plugins = ${JSON.stringify(DISABLED_PLUGINS)}`,
        '[grpc]',
        `  address = "${socket}"`,
        '[ttrpc]',
        `  address = "${socket}.ttrpc"`,
        '[debug]',
        '  level = "info"',
        '[metrics]',
        '  address = ""',
        '[plugins."io.containerd.grpc.v1.cri"]',
        `  sandbox_image = "${registry.host}/${PAUSE_REPO}:${PAUSE_TAG}"`,
        '  netns_mounts_under_state_dir = true',
        '  disable_apparmor = true',
        // Lowering oom_score_adj needs CAP_SYS_RESOURCE, which root may lack (sandboxed CI): the
        // kubelet asks -998 for sandboxes; this clamps it to containerd's own score instead.
        '  restrict_oom_score_adj = true',
        '  stream_server_address = "127.0.0.1"',
        '  stream_server_port = "0"',
        '[plugins."io.containerd.grpc.v1.cri".cni]',
        `  bin_dir = "${cniBin}"`,
        `  conf_dir = "${cniConf}"`,
        '[plugins."io.containerd.grpc.v1.cri".containerd]',
        '  snapshotter = "overlayfs"',
        '  default_runtime_name = "runc"',
        '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]',
        '  runtime_type = "io.containerd.runc.v2"',
        '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
        '  SystemdCgroup = false',
        `  Root = "${join(dir, 'runc')}"`,
        '[plugins."io.containerd.grpc.v1.cri".registry]',
        `  config_path = "${hostsDir}"`,
        '',
      ].join('\n'),
    );
    const containerd = await startProcess({
      name: 'containerd',
      command: 'containerd',
      args: ['--config', containerdConfig],
      cwd: dir,
      logFile: join(dir, 'containerd.log'),
    });
    processes.push(containerd);
    await waitFor(() => Promise.resolve(existsSync(socket) && spawnSync('ctr', ['--address', socket, 'version']).status === 0), {
      what: 'containerd socket',
      timeoutMs,
      watch: [containerd],
    });
    const containerdMs = elapsed(t);
    log(`containerd ready on ${socket} in ${containerdMs} ms`);

    // cgroups: the kubelet puts every pod under its own root, which must exist in each hierarchy.
    for (const mount of cgroupV1Mounts()) {
      const d = join(mount, cgroupRoot);
      mkdirSync(d, { recursive: true });
      if (mount.endsWith('/cpuset')) {
        // A new cpuset starts empty and takes no tasks until it has cpus and mems.
        for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(d, f), readFileSync(join(mount, f)));
      }
    }

    // kubelet
    t = performance.now();
    const kubeletDir = join(dir, 'kubelet');
    mkdirSync(kubeletDir);
    const [kubeletPort, healthzPort] = [await freePort(), await freePort()];
    const kubeletConfig = join(dir, 'kubelet-config.yaml');
    writeFileSync(
      kubeletConfig,
      dump({
        apiVersion: 'kubelet.config.k8s.io/v1beta1',
        kind: 'KubeletConfiguration',
        address: LOOPBACK,
        port: kubeletPort,
        readOnlyPort: 0,
        healthzBindAddress: LOOPBACK,
        healthzPort,
        authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
        authorization: { mode: 'AlwaysAllow' },
        cgroupDriver: 'cgroupfs',
        cgroupRoot: `/${cgroupRoot}`,
        cgroupsPerQOS: true,
        failSwapOn: false,
        // Neither the host's iptables nor its kernel settings are the test's to change.
        makeIPTablesUtilChains: false,
        hairpinMode: 'none',
        resolvConf: '/etc/resolv.conf',
        // A shared CI disk must not put the node under disk pressure (and taint it).
        evictionHard: { 'memory.available': '50Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
        imageGCHighThresholdPercent: 100,
        imageGCLowThresholdPercent: 99,
        serializeImagePulls: false,
        containerLogMaxSize: '1Mi',
        containerLogMaxFiles: 2,
        nodeStatusUpdateFrequency: '5s',
        syncFrequency: '10s',
      }),
    );
    const kubelet = await startProcess({
      name: 'kubelet',
      command: bins.kubelet,
      args: [
        `--config=${kubeletConfig}`,
        `--kubeconfig=${cluster.kubeconfigPath}`,
        '--container-runtime=remote',
        `--container-runtime-endpoint=unix://${socket}`,
        `--root-dir=${kubeletDir}`,
        `--cert-dir=${join(kubeletDir, 'pki')}`,
        `--hostname-override=${name}`,
        `--pod-infra-container-image=${registry.host}/${PAUSE_REPO}:${PAUSE_TAG}`,
      ],
      cwd: dir,
      logFile: join(dir, 'kubelet.log'),
    });
    processes.push(kubelet);
    const core = cluster.kubeConfig().makeApiClient(CoreV1Api);
    await waitFor(
      async () => {
        try {
          const node = await core.readNode({ name });
          return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
        } catch (err) {
          if (apiStatus(err) === 404) return false;
          throw err;
        }
      },
      { what: `Node ${name} Ready`, timeoutMs, watch: [kubelet, containerd], intervalMs: 250 },
    );
    const kubeletMs = elapsed(t);
    log(`kubelet registered Node ${name} (Ready) in ${kubeletMs} ms`);

    // kube-scheduler
    t = performance.now();
    const schedulerPort = await freePort();
    const scheduler = await startProcess({
      name: 'kube-scheduler',
      command: bins.scheduler,
      args: [
        `--kubeconfig=${cluster.kubeconfigPath}`,
        '--leader-elect=false',
        `--bind-address=${LOOPBACK}`,
        `--secure-port=${schedulerPort}`,
        '--port=0',
        `--cert-dir=${join(dir, 'scheduler-certs')}`,
        '--profiling=false',
      ],
      cwd: dir,
      logFile: join(dir, 'kube-scheduler.log'),
    });
    processes.push(scheduler);
    await waitFor(
      async () => {
        const res = await httpsGet(`https://${LOOPBACK}:${schedulerPort}/healthz`, { insecure: true });
        return res.status === 200;
      },
      { what: 'kube-scheduler /healthz', timeoutMs, watch: [scheduler, kubelet, containerd], intervalMs: 250 },
    );
    const schedulerMs = elapsed(t);
    log(`kube-scheduler ready in ${schedulerMs} ms`);

    return {
      name,
      registryUrl: registry.url,
      registryHost: registry.host,
      appImage: `${registry.host}/${APP_REPO}:${APP_TAG}`,
      tempDir: dir,
      startup: { imagesMs, containerdMs, kubeletMs, schedulerMs, totalMs: elapsed(t0) },
      stop,
    };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}
