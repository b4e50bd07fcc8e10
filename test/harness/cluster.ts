import { readFileSync, writeFileSync } from 'node:fs';
import { TidemarkError } from '../../shared/errors/index.ts';
import { createClusterAccess, startControlPlane } from './control-plane.ts';
import type { ClusterAccess, ClusterInfo, ControlPlane } from './control-plane.ts';
import { startNode } from './node.ts';
import type { TestNode } from './node.ts';

/**
 * The cluster integration tests use. Under `npm test` the runner starts one control plane and
 * names it in TIDEMARK_TEST_CLUSTER_INFO (and TIDEMARK_TEST_KUBECONFIG); every test file connects
 * to that one. A test file run alone (`node --test test/integration/x.test.ts`) starts its own,
 * once per process, and stops it when the process exits.
 *
 * Tests share the cluster: isolate by namespace (`createNamespace`), and bind RBAC only inside
 * your own namespaces.
 */

export const CLUSTER_INFO_ENV = 'TIDEMARK_TEST_CLUSTER_INFO';
export const KUBECONFIG_ENV = 'TIDEMARK_TEST_KUBECONFIG';
/** The runner's node: a JSON file holding a NodeAccess. */
export const NODE_INFO_ENV = 'TIDEMARK_TEST_NODE_INFO';

/** What a test file needs to run Pods on the cluster's node. */
export interface NodeInfo {
  name: string;
  /** Anonymous registry the node pulls from (`http://127.0.0.1:PORT`); push test images here. */
  registryUrl: string;
  registryHost: string;
  /** A runnable image already in that registry (busybox httpd). */
  appImage: string;
}

/** A node, or why there is none: tests that need one skip with `reason`. */
export type NodeAccess = { ok: true; node: NodeInfo } | { ok: false; reason: string };

/**
 * Marks a test file as needing a node; the runner looks for this call — or a `useAgentWorld`
 * whose options begin with `node: true` — in the files it runs and starts a node for them (see
 * test/run.ts), so files without Pods never pay for one.
 */
export const NODE_OPT_IN = /testCluster\(\s*\{\s*node:\s*true\s*\}\s*\)|useAgentWorld\(\s*(['"`])[^'"`]*\1\s*,\s*\{\s*node:\s*true\b/;

let shared: Promise<ClusterAccess> | undefined;
let sharedNode: Promise<NodeAccess> | undefined;
let ownControlPlane: ControlPlane | undefined;
let ownNode: TestNode | undefined;

export function testCluster(): Promise<ClusterAccess>;
export function testCluster(options: { node: true }): Promise<ClusterAccess & { node: NodeAccess }>;
export async function testCluster(options: { node?: boolean } = {}): Promise<ClusterAccess | (ClusterAccess & { node: NodeAccess })> {
  shared ??= connectOrStart().catch((err: unknown) => {
    shared = undefined;
    throw err;
  });
  const cluster = await shared;
  if (!options.node) return cluster;
  sharedNode ??= nodeFor(cluster);
  return { ...cluster, node: await sharedNode };
}

async function connectOrStart(): Promise<ClusterAccess> {
  const infoFile = process.env[CLUSTER_INFO_ENV];
  if (infoFile) return createClusterAccess(readClusterInfo(infoFile));
  const cp = await startControlPlane();
  ownControlPlane = cp;
  // Stop gracefully once the test file is done (the node before the control plane); the process
  // registry kills the servers anyway if the process exits some other way (a signal, process.exit).
  process.once('beforeExit', () => {
    void (async () => {
      await ownNode?.stop();
      await cp.stop();
    })();
  });
  return cp;
}

async function nodeFor(cluster: ClusterAccess): Promise<NodeAccess> {
  if (!ownControlPlane) {
    const nodeFile = process.env[NODE_INFO_ENV];
    if (!nodeFile) return { ok: false, reason: 'the test runner started no node for this file (call testCluster({ node: true }))' };
    return parseNodeAccess(JSON.parse(readFileSync(nodeFile, 'utf8')) as unknown, nodeFile);
  }
  return startNodeAccess(cluster);
}

/** Starts a node for `cluster`; a machine that cannot run one gives the reason instead. */
export async function startNodeAccess(cluster: ClusterAccess, log?: (line: string) => void): Promise<NodeAccess & { started?: TestNode }> {
  try {
    const node = await startNode(cluster, log ? { log } : {});
    ownNode = node;
    const info: NodeInfo = { name: node.name, registryUrl: node.registryUrl, registryHost: node.registryHost, appImage: node.appImage };
    return { ok: true, node: info, started: node };
  } catch (err) {
    if (err instanceof TidemarkError && err.code === 'NodeUnavailable') return { ok: false, reason: err.message };
    throw err;
  }
}

export function writeNodeAccess(path: string, access: NodeAccess): void {
  const plain: NodeAccess = access.ok ? { ok: true, node: access.node } : { ok: false, reason: access.reason };
  writeFileSync(path, JSON.stringify(plain, null, 2), { mode: 0o600 });
}

function parseNodeAccess(value: unknown, source: string): NodeAccess {
  const bad = (what: string): TidemarkError => new TidemarkError('ClusterInfoInvalid', `${source}: ${what}`, { kind: 'terminal' });
  if (typeof value !== 'object' || value === null) throw bad('not an object');
  const record = value as Record<string, unknown>;
  if (record.ok === false && typeof record.reason === 'string') return { ok: false, reason: record.reason };
  const node = record.node;
  if (record.ok !== true || typeof node !== 'object' || node === null) throw bad('neither a node nor a reason');
  const n = node as Record<string, unknown>;
  const str = (key: string): string => {
    const v = n[key];
    if (typeof v !== 'string' || v === '') throw bad(`node.${key} missing`);
    return v;
  };
  return {
    ok: true,
    node: { name: str('name'), registryUrl: str('registryUrl'), registryHost: str('registryHost'), appImage: str('appImage') },
  };
}

export function writeClusterInfo(path: string, cp: ControlPlane): void {
  writeFileSync(path, JSON.stringify(cp.info, null, 2), { mode: 0o600 });
}

export function readClusterInfo(path: string): ClusterInfo {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new TidemarkError('ClusterInfoInvalid', `cannot read cluster info ${path}`, { kind: 'terminal', cause: err });
  }
  return parseClusterInfo(parsed, path);
}

export function parseClusterInfo(value: unknown, source = 'cluster info'): ClusterInfo {
  const bad = (what: string): TidemarkError =>
    new TidemarkError('ClusterInfoInvalid', `${source}: ${what}`, {
      kind: 'terminal',
      hint: `unset ${CLUSTER_INFO_ENV} to start a private control plane`,
    });
  if (typeof value !== 'object' || value === null) throw bad('not an object');
  const record = value as Record<string, unknown>;
  const str = (key: string): string => {
    const v = record[key];
    if (typeof v !== 'string' || v === '') throw bad(`${key} missing or not a string`);
    return v;
  };
  const tokens = record.userTokens;
  if (typeof tokens !== 'object' || tokens === null) throw bad('userTokens missing');
  const userTokens: Record<string, string> = {};
  for (const [name, tok] of Object.entries(tokens)) {
    if (typeof tok !== 'string' || tok === '') throw bad(`token of ${name} is not a string`);
    userTokens[name] = tok;
  }
  const server = str('server');
  if (!/^https:\/\/127\.0\.0\.1:\d+$/.test(server)) throw bad(`server ${server} is not a loopback https URL`);
  return {
    server,
    caPem: str('caPem'),
    adminToken: str('adminToken'),
    userTokens,
    kubeconfigPath: str('kubeconfigPath'),
    workDir: str('workDir'),
  };
}
