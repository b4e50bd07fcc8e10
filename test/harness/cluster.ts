import { readFileSync, writeFileSync } from 'node:fs';
import { TidemarkError } from '../../shared/errors/index.ts';
import { createClusterAccess, startControlPlane } from './control-plane.ts';
import type { ClusterAccess, ClusterInfo, ControlPlane } from './control-plane.ts';

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

let shared: Promise<ClusterAccess> | undefined;

export function testCluster(): Promise<ClusterAccess> {
  shared ??= connectOrStart().catch((err: unknown) => {
    shared = undefined;
    throw err;
  });
  return shared;
}

async function connectOrStart(): Promise<ClusterAccess> {
  const infoFile = process.env[CLUSTER_INFO_ENV];
  if (infoFile) return createClusterAccess(readClusterInfo(infoFile));
  const cp = await startControlPlane();
  // Stop gracefully once the test file is done; the process registry kills the servers anyway
  // if the process exits some other way (process.exit, --test-force-exit, a signal).
  process.once('beforeExit', () => {
    void cp.stop();
  });
  return cp;
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
