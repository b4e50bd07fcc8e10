import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { promisify } from 'node:util';
import { AppsV1Api, CoreV1Api, KubernetesObjectApi, PatchStrategy, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import type { KubernetesObject, V1ConfigMap } from '@kubernetes/client-node';
import { testCluster } from '../harness/cluster.ts';
import { startControlPlane } from '../harness/control-plane.ts';
import type { ClusterAccess } from '../harness/control-plane.ts';
import { isPortFree } from '../harness/ports.ts';
import { liveProcesses, waitFor } from '../harness/process.ts';
import { kubectlTools } from '../harness/tools.ts';

const run = promisify(execFile);

/** Deadline for what controllers do asynchronously; generous because the machine is shared. */
const EVENTUALLY_MS = 60_000;

function statusOf(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'number' ? err.code : undefined;
}

async function expectStatus(promise: Promise<unknown>, status: number): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.equal(statusOf(err), status, `expected HTTP ${status}, got ${String(err)}`);
    return true;
  });
}

describe('shared control plane', () => {
  let cluster: ClusterAccess;
  let ns: string;

  before(async () => {
    cluster = await testCluster();
    ns = await cluster.createNamespace('harness');
  });

  after(async () => {
    if (cluster && ns) await cluster.deleteNamespace(ns);
  });

  test('stores a ConfigMap through the API server', async () => {
    const core = cluster.kubeConfig().makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'plain' }, data: { greeting: 'hello' } },
    });
    const read = await core.readNamespacedConfigMap({ name: 'plain', namespace: ns });
    assert.deepEqual(read.data, { greeting: 'hello' });
    assert.ok(read.metadata?.uid, 'the API server assigns a uid');
    // Validation is real: an invalid name is refused.
    await expectStatus(core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'Not_Valid' } } }), 422);
  });

  test('the controller manager makes a ReplicaSet for a Deployment and garbage-collects it', async () => {
    const kc = cluster.kubeConfig();
    const apps = kc.makeApiClient(AppsV1Api);
    const labels = { app: 'web' };
    const deployment = await apps.createNamespacedDeployment({
      namespace: ns,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: { containers: [{ name: 'web', image: 'registry.invalid/web:1.0.0' }] },
          },
        },
      },
    });
    const uid = deployment.metadata?.uid;
    assert.ok(uid);
    const owned = async (): Promise<string[]> => {
      const list = await apps.listNamespacedReplicaSet({ namespace: ns });
      return list.items
        .filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.uid === uid && o.controller === true))
        .map((rs) => rs.metadata?.name ?? '');
    };
    await waitFor(async () => (await owned()).length === 1, {
      what: 'a ReplicaSet owned by deployment web',
      timeoutMs: EVENTUALLY_MS,
    });
    const [rsName] = await owned();
    const rs = await apps.readNamespacedReplicaSet({ name: rsName ?? '', namespace: ns });
    assert.equal(rs.spec?.replicas, 2);
    assert.equal(rs.spec?.template?.spec?.containers[0]?.image, 'registry.invalid/web:1.0.0');

    await apps.deleteNamespacedDeployment({ name: 'web', namespace: ns, propagationPolicy: 'Background' });
    await waitFor(async () => (await apps.listNamespacedReplicaSet({ namespace: ns })).items.length === 0, {
      what: 'the garbage collector to delete the ReplicaSet',
      timeoutMs: EVENTUALLY_MS,
    });
  });

  test('server-side apply records the field manager; dry-run All does not write', async () => {
    const objects = KubernetesObjectApi.makeApiClient(cluster.kubeConfig());
    const manager = 'tidemark-harness-test';
    const desired: V1ConfigMap & KubernetesObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'applied', namespace: ns },
      data: { mode: 'first' },
    };
    const applied = await objects.patch(desired, undefined, undefined, manager, true, PatchStrategy.ServerSideApply);
    const managers = applied.metadata?.managedFields?.map((f) => `${f.manager}/${f.operation}`) ?? [];
    assert.ok(managers.includes(`${manager}/Apply`), `managedFields: ${managers.join(', ')}`);

    const dry = await objects.patch(
      { ...desired, data: { mode: 'second' } },
      undefined,
      'All',
      manager,
      true,
      PatchStrategy.ServerSideApply,
    );
    assert.equal((dry as V1ConfigMap).data?.mode, 'second', 'the dry run returns the would-be object');
    const live = await objects.read<V1ConfigMap & KubernetesObject>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'applied', namespace: ns },
    });
    assert.equal(live.data?.mode, 'first', 'the dry run wrote nothing');

    // Another manager changing an owned field without force is a real conflict.
    await expectStatus(
      objects.patch({ ...desired, data: { mode: 'theirs' } }, undefined, undefined, 'someone-else', false, PatchStrategy.ServerSideApply),
      409,
    );
  });

  test('a token user without RBAC gets 403, and access after a RoleBinding', async () => {
    const user = 'alice';
    const asUser = cluster.kubeConfig(user).makeApiClient(CoreV1Api);
    await expectStatus(asUser.listNamespacedConfigMap({ namespace: ns }), 403);

    const rbac = cluster.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: ns,
      body: {
        metadata: { name: 'read-configmaps' },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'alice-reads-configmaps' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-configmaps' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
      },
    });
    // The authorizer reads RBAC through an informer: the grant shows up shortly, not instantly.
    await waitFor(
      async () => {
        try {
          await asUser.listNamespacedConfigMap({ namespace: ns });
          return true;
        } catch (err) {
          if (statusOf(err) === 403) return false;
          throw err;
        }
      },
      { what: `${user} to be allowed to list configmaps`, timeoutMs: EVENTUALLY_MS },
    );
    // The grant is exactly what was bound: secrets stay forbidden.
    await expectStatus(asUser.listNamespacedSecret({ namespace: ns }), 403);
  });

  test('kubectl v1.35 from the npm layer lists namespaces with the kubeconfig', async () => {
    const { kubectl } = await kubectlTools();
    const { stdout } = await run(kubectl, ['--kubeconfig', cluster.kubeconfigPath, '--request-timeout=60s', 'get', 'ns', '-o', 'name']);
    const names = stdout.trim().split('\n');
    assert.ok(names.includes('namespace/default'), stdout);
    assert.ok(names.includes(`namespace/${ns}`), stdout);

    // A token user's kubeconfig reaches the same server with that user's (lack of) rights.
    const denied = run(kubectl, ['--kubeconfig', cluster.kubeconfigFor('bob'), '--request-timeout=60s', 'get', 'ns']);
    await assert.rejects(denied, (err: unknown) => {
      assert.match(String((err as { stderr?: unknown }).stderr), /forbidden/i);
      return true;
    });
  });
});

// ---- a private control plane ------------------------------------------------------------------

interface Listener {
  address: string;
  port: number;
}

/** Listening TCP sockets of the given pids, read from /proc (no ss/netstat needed). */
function listenersOf(pids: readonly number[]): Listener[] {
  const inodes = new Set<string>();
  for (const pid of pids) {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m?.[1]) inodes.add(m[1]);
    }
  }
  const found: Listener[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const [local, state, inode] = [cols[1], cols[3], cols[9]];
      if (!local || state !== '0A' || !inode || !inodes.has(inode)) continue;
      const [hexAddr = '', hexPort = '0'] = local.split(':');
      found.push({ address: decodeAddress(hexAddr), port: parseInt(hexPort, 16) });
    }
  }
  return found;
}

function decodeAddress(hex: string): string {
  if (hex.length === 8) {
    // IPv4 in /proc is little-endian.
    return [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join('.');
  }
  return `ipv6:${hex}`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids of the direct children of this process, from /proc. */
function childPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const ppid = /^PPid:\s+(\d+)$/m.exec(status)?.[1];
      if (ppid !== undefined && Number(ppid) === process.pid) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

describe('private control plane', () => {
  test('serves only on 127.0.0.1, knows extra users, and stop() leaves nothing behind', async () => {
    const cp = await startControlPlane({ users: [{ name: 'ci-bot', groups: ['tidemark:ci'] }] });
    const pids = cp.processes.map((p) => p.pid);
    const ports = Object.values(cp.ports);
    try {
      assert.equal(cp.processes.length, 3);
      assert.ok(cp.startup.totalMs > 0);

      const listeners = listenersOf(pids);
      assert.deepEqual(
        listeners.filter((l) => l.address !== '127.0.0.1'),
        [],
        'nothing listens beyond loopback',
      );
      assert.deepEqual([...new Set(listeners.map((l) => l.port))].sort(), [...ports].sort(), 'exactly the allocated ports listen');

      // An extra user gets a token and its groups: a binding to the group grants access.
      const asBot = cp.kubeConfig('ci-bot').makeApiClient(CoreV1Api);
      await expectStatus(asBot.listNamespace(), 403);
      const rbac = cp.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
      await rbac.createClusterRoleBinding({
        body: {
          metadata: { name: 'ci-view' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'tidemark:ci' }],
        },
      });
      await waitFor(
        async () => {
          try {
            await asBot.listNamespace();
            return true;
          } catch (err) {
            if (statusOf(err) === 403) return false;
            throw err;
          }
        },
        { what: 'group tidemark:ci to be allowed to list namespaces', timeoutMs: EVENTUALLY_MS },
      );
      assert.throws(() => cp.userToken('nobody'), /no token user/);
    } finally {
      await cp.stop();
    }

    for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} is gone`);
    const stillTracked = liveProcesses().map((p) => p.pid);
    assert.deepEqual(
      stillTracked.filter((pid) => pids.includes(pid)),
      [],
    );
    // Any child left must belong to another, still running harness server (e.g. the lazily
    // started shared cluster when this file runs alone).
    assert.deepEqual(
      childPids().filter((pid) => !stillTracked.includes(pid)),
      [],
      'no untracked child process',
    );
    for (const port of ports) assert.equal(await isPortFree(port), true, `port ${port} is free`);
    assert.equal(existsSync(cp.tempDir), false, 'temp dir removed');
    await cp.stop(); // idempotent
  });
});
