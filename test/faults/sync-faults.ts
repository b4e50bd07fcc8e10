/**
 * A 500-object sync under faults, on the real API server: the agent killed with SIGKILL at an
 * exact request and started again, or the API server failing under it (errors, throttling, cut
 * connections, an outage). Each case must converge to the commit with nothing lost, nothing
 * orphaned, and no object deleted that Git still has. The faults come from the fault proxy in
 * front of the real API server, so the agent runs unmodified (no test hooks in the product).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentProcess } from '../harness/agent-process.ts';
import type { FaultRule, KubeCall, KubeFaultProxy } from '../harness/kube-fault-proxy.ts';
import { applyCd, requestSync, waitForCd } from '../harness/tidemark.ts';
import type { FaultRow } from './report.ts';
import { releaseDeployment, startProxiedAgent, type FaultEnv, liveConfigMaps } from './case-env.ts';

export interface CrashPoint {
  /** What the table says, e.g. "during apply (250th write)". */
  name: string;
  /** The sync the kill interrupts: the first one (500 creates) or the second (changes and prunes). */
  sync: 'first' | 'second';
  /** True for the request at which the agent dies. */
  at: (call: KubeCall, seen: Counters) => boolean;
  /** Kill after the server answered that request (it took effect) instead of before it arrives. */
  afterResponse?: boolean;
}

export interface Counters {
  dryRuns: number;
  writes: number;
  deletes: number;
  statusWrites: number;
}

const OBJECTS = 500;
export const isObjectWrite = (call: KubeCall) => call.method === 'PATCH' && !call.status && !call.path.includes('/continuousdeployments');
export const isObjectDelete = (call: KubeCall) => call.method === 'DELETE' && call.path.includes('/configmaps/');
const isCdStatus = (call: KubeCall) => call.status && call.path.includes('/continuousdeployments/');

export const CRASH_POINTS: readonly CrashPoint[] = [
  // A first sync of new objects sends no dry-run (ADR 0016): its first object request is a create.
  { name: 'before the first object request', sync: 'first', at: (c) => c.dryRun || isObjectWrite(c) },
  { name: 'during apply (1st write)', sync: 'first', at: (c, n) => isObjectWrite(c) && !c.dryRun && n.writes === 1 },
  { name: 'during apply (250th write)', sync: 'first', at: (c, n) => isObjectWrite(c) && !c.dryRun && n.writes === 250 },
  { name: 'during apply (last write)', sync: 'first', at: (c, n) => isObjectWrite(c) && !c.dryRun && n.writes === OBJECTS },
  { name: 'before the status write', sync: 'first', at: (c) => isCdStatus(c) && !c.dryRun },
  { name: 'after the status write', sync: 'first', at: (c) => isCdStatus(c) && !c.dryRun, afterResponse: true },
  { name: 'second sync, during apply (60th write)', sync: 'second', at: (c, n) => isObjectWrite(c) && !c.dryRun && n.writes === 60 },
  { name: 'during prune (1st delete)', sync: 'second', at: (c, n) => isObjectDelete(c) && n.deletes === 1 },
  { name: 'during prune (50th delete)', sync: 'second', at: (c, n) => isObjectDelete(c) && n.deletes === 50 },
  { name: 'after the last prune', sync: 'second', at: (c, n) => isObjectDelete(c) && n.deletes === 100, afterResponse: true },
];

/** Commit A: cm-000…cm-499. Commit B: cm-000…cm-099 changed, cm-400…cm-499 gone, cm-500…cm-549 new. */
function commitA(): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < OBJECTS; i++) files[`d/cm-${pad(i)}.yaml`] = configMap(i, 'a');
  return files;
}

function commitB(): Record<string, string | null> {
  const files: Record<string, string | null> = {};
  for (let i = 0; i < 100; i++) files[`d/cm-${pad(i)}.yaml`] = configMap(i, 'b');
  for (let i = 400; i < 500; i++) files[`d/cm-${pad(i)}.yaml`] = null;
  for (let i = 500; i < 550; i++) files[`d/cm-${pad(i)}.yaml`] = configMap(i, 'b');
  return files;
}

/** What commit B leaves: name → the `v` value. */
function expectedAfterB(): Map<string, string> {
  const want = new Map<string, string>();
  for (let i = 0; i < 400; i++) want.set(`cm-${pad(i)}`, i < 100 ? 'b' : 'a');
  for (let i = 500; i < 550; i++) want.set(`cm-${pad(i)}`, 'b');
  return want;
}

function expectedAfterA(): Map<string, string> {
  return new Map(Array.from({ length: OBJECTS }, (_, i) => [`cm-${pad(i)}`, 'a']));
}

const pad = (i: number) => String(i).padStart(3, '0');
const configMap = (i: number, v: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${pad(i)}\ndata:\n  v: ${v}\n  i: "${i}"\n`;

/**
 * A fault during one sync. The case gets the proxy's rule for the faulted sync and a `fired`
 * callback (the kill, or the first injected failure). `restart` starts the killed agent again.
 */
export interface SyncFault {
  name: string;
  sync: 'first' | 'second';
  /** The rule while the fault is on; `fire()` marks that it happened (the case waits for it). */
  rule: (fire: () => void, counters: Counters, agent: AgentProcess) => FaultRule;
  /** The agent was killed: start it again once the fault fired. */
  restart?: boolean;
}

/** A crash point as a fault: SIGKILL at the request, then a restart. */
export function crashFault(point: CrashPoint): SyncFault {
  return {
    name: `agent SIGKILL ${point.name}`,
    sync: point.sync,
    restart: true,
    rule: (fire, counters, agent) => {
      let killed = false;
      const kill = () => {
        killed = true;
        agent.kill('SIGKILL');
        fire();
      };
      return {
        onRequest: (call) => {
          if (killed || !point.at(call, counters) || point.afterResponse) return 'forward';
          kill();
          return 'hold';
        },
        onResponse: (call) => {
          if (!killed && point.afterResponse && point.at(call, counters)) kill();
        },
      };
    },
  };
}

/** Runs one fault in a namespace of its own; returns the table row, asserting convergence. */
export async function runSyncFault(env: FaultEnv, fault: SyncFault): Promise<FaultRow> {
  const { cluster, admin, git } = env;
  const ns = await cluster.createNamespace('fault');
  const repo = `fault-${ns.slice(-6)}`;
  const cacheDir = await mkdtemp(join(tmpdir(), 'tidemark-fault-'));
  let proxy: KubeFaultProxy | undefined;
  let agent: AgentProcess | undefined;
  try {
    let target = await git.repos.createRepo(repo, commitA(), { branch: 'main' });
    ({ proxy, agent } = await startProxiedAgent(cluster, ns, cacheDir));
    const running = agent;

    const counters: Counters = { dryRuns: 0, writes: 0, deletes: 0, statusWrites: 0 };
    let fired = false;
    const count = (call: KubeCall) => {
      if (call.dryRun) counters.dryRuns++;
      if (isObjectWrite(call) && !call.dryRun) counters.writes++;
      if (isObjectDelete(call)) counters.deletes++;
      if (isCdStatus(call)) counters.statusWrites++;
    };
    const arm = () => {
      const rule = fault.rule(() => (fired = true), counters, running);
      proxy?.setRule({
        onRequest: (call) => {
          count(call);
          return rule.onRequest?.(call) ?? 'forward';
        },
        ...(rule.onResponse ? { onResponse: rule.onResponse } : {}),
      });
    };
    if (fault.sync === 'first') arm();

    await applyCd(admin, { metadata: { name: 'app', namespace: ns }, spec: { url: git.http!.url(repo), path: 'd', pullInterval: '1h' } });
    if (fault.sync === 'second') {
      await waitForCd(admin, ns, 'app', (cd) => cd.status?.lastAppliedRevision === `main@sha1:${target}`, 'first sync', 180_000);
      arm();
      target = await git.repos.commitFiles(repo, 'main', commitB(), 'change 100, drop 100, add 50');
      await requestSync(admin, ns, 'app');
    }
    await waitForFault(() => fired, running, fault.name);
    if (fault.restart) {
      await running.exited();
      proxy.setRule(undefined);
      await running.restart();
      if (fault.sync === 'second') await requestSync(admin, ns, 'app');
    }
    const recoveryStart = performance.now();

    const cd = await waitForCd(
      admin,
      ns,
      'app',
      (c) => c.status?.lastAppliedRevision === `main@sha1:${target}` && c.status?.sync?.status === 'Synced',
      `converged after ${fault.name}`,
      180_000,
    );
    const recoveredAt = performance.now() - recoveryStart;
    proxy.setRule(undefined);
    const want = fault.sync === 'first' ? expectedAfterA() : expectedAfterB();
    const live = await liveConfigMaps(admin, ns);
    const missing = [...want].filter(([name, v]) => live.get(name) !== v).map(([name]) => name);
    const orphans = [...live.keys()].filter((name) => !want.has(name));
    const inventory = new Set((cd.status?.resources ?? []).filter((r) => r.kind === 'ConfigMap').map((r) => r.name));
    const inventoryWrong = [...want.keys()].filter((n) => !inventory.has(n)).length + [...inventory].filter((n) => !want.has(n)).length;
    const prunedFromGit = [...deletedNames(proxy.calls)].filter((name) => want.has(name));

    assert.deepEqual(missing, [], 'every object of the commit is live with its content');
    assert.deepEqual(orphans, [], 'nothing is left that the commit no longer has');
    assert.equal(inventoryWrong, 0, 'the inventory is exactly the commit');
    assert.deepEqual(prunedFromGit, [], 'nothing Git still has was deleted');
    return {
      fault: fault.name,
      converged: true,
      recoverySeconds: recoveredAt / 1000,
      lostObjects: missing.length + prunedFromGit.length,
      orphans: orphans.length,
    };
  } catch (err) {
    throw new Error(`${fault.name}: ${(err as Error).message}\nagent output (tail): ${agent?.output().slice(-3000) ?? ''}`, { cause: err });
  } finally {
    // The agent removes its finalizer (keeping the objects) before it stops; the namespace takes the rest.
    proxy?.setRule(undefined);
    await releaseDeployment(admin, ns, 'app');
    await agent?.stop();
    await proxy?.close();
    // One collection delete instead of leaving 500 objects to the namespace controller, which
    // piles up work for the next case on a 2-core machine. A failing cleanup must not hide why the
    // case failed.
    await admin.rest.request({ method: 'DELETE', path: `/api/v1/namespaces/${ns}/configmaps` }).catch(() => undefined);
    await cluster.deleteNamespace(ns).catch(() => undefined);
    await rm(cacheDir, { recursive: true, force: true });
  }
}

async function waitForFault(fired: () => boolean, agent: AgentProcess, what: string): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (!fired()) {
    if (Date.now() > deadline) throw new Error(`the fault "${what}" never fired; agent output: ${agent.output().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function deletedNames(calls: readonly KubeCall[]): Set<string> {
  return new Set(calls.filter((c) => isObjectDelete(c) && !c.dryRun).map((c) => c.path.split('/').at(-1) ?? ''));
}

const status = (code: number, reason: string, message: string) => ({
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message,
  reason,
  code,
});

/**
 * The API server failing under the agent during a sync: errors, throttling, cut connections, an
 * outage, expired watches. No restart: the agent must ride it out (retries, backoff, relists).
 */
export const API_FAULTS: readonly SyncFault[] = [
  {
    name: 'API server: 500 on every 7th request (40 times)',
    sync: 'first',
    rule: (fire) => {
      let seen = 0;
      let injected = 0;
      return {
        onRequest: (call) => {
          if (call.watch || ++seen % 7 !== 0 || injected >= 40) return 'forward';
          injected++;
          fire();
          return { status: 500, body: status(500, 'InternalError', 'Internal error occurred: injected by the fault suite') };
        },
      };
    },
  },
  {
    name: 'API server: 429 with Retry-After: 1 on 30 writes',
    sync: 'second',
    rule: (fire) => {
      let injected = 0;
      return {
        onRequest: (call) => {
          if (call.method === 'GET' || injected >= 30) return 'forward';
          injected++;
          fire();
          return { status: 429, headers: { 'retry-after': '1' }, body: status(429, 'TooManyRequests', 'injected throttling') };
        },
      };
    },
  },
  {
    name: 'API server: connection reset on every 25th request (20 times)',
    sync: 'second',
    rule: (fire) => {
      let seen = 0;
      let injected = 0;
      return {
        onRequest: (call) => {
          if (++seen % 25 !== 0 || injected >= 20 || call.watch) return 'forward';
          injected++;
          fire();
          return 'reset';
        },
      };
    },
  },
  {
    name: 'API server unreachable for 5 s from the 100th write',
    sync: 'first',
    rule: (fire, counters) => {
      let until = 0;
      return {
        onRequest: (call) => {
          if (until === 0 && isObjectWrite(call) && !call.dryRun && counters.writes >= 100) {
            until = Date.now() + 5000;
            fire();
          }
          return Date.now() < until ? 'reset' : 'forward';
        },
      };
    },
  },
];
