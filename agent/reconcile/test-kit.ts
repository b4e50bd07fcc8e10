import assert from 'node:assert/strict';
import type { ContinuousDeployment, ContinuousDeploymentSpec } from '../../shared/api/continuous-deployment.ts';
import { FakeKubePort } from '../../shared/kube/fake-port.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { silentLogger } from '../../shared/log/index.ts';
import { FakeClock } from '../../shared/time/fake-clock.ts';
import { createHealthAssessor } from '../health-assessor.ts';
import { validateContinuousDeploymentSpec, type DeploymentConfig } from '../../shared/spec/index.ts';
import type { Checkout, ReconcileOutcome, ResolvedRevision, Source } from '../types.ts';
import type { ReconcileDeps, ReconcileInput, ReconcileMode, SyncMemo } from './context.ts';
import { reconcile } from './index.ts';

/** For unit tests only: a Git repository in memory, one branch whose commits are object lists. */
export class FakeGit implements Source {
  private commits: KubeObject[][] = [];
  failResolve: Error | undefined;
  failRender: Error | undefined;
  /** Resolve answers only when its signal aborts (a Git server that never answers). */
  hang = false;

  commit(objects: KubeObject[]): string {
    this.commits.push(objects);
    return this.sha();
  }

  sha(): string {
    return String(this.commits.length).padStart(40, '0');
  }

  async resolve(_config?: unknown, _auth?: unknown, signal?: AbortSignal): Promise<ResolvedRevision> {
    await Promise.resolve();
    if (this.hang) {
      await new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
    }
    if (this.failResolve) throw this.failResolve;
    return { ref: 'main', revision: `main@sha1:${this.sha()}`, sha: this.sha(), verified: true };
  }

  async checkout(): Promise<Checkout> {
    await Promise.resolve();
    return { dir: `/checkouts/${this.sha()}`, release: () => undefined };
  }

  async render(): Promise<KubeObject[]> {
    await Promise.resolve();
    if (this.failRender) throw this.failRender;
    return structuredClone(this.commits.at(-1) ?? []);
  }
}

export function configMap(name: string, data: Record<string, string>, extra: Partial<KubeObject['metadata']> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...extra }, data };
}

export function continuousDeployment(spec: Partial<ContinuousDeploymentSpec> = {}, name = 'web'): ContinuousDeployment {
  return {
    apiVersion: 'tidemark.dev/v1alpha1',
    kind: 'ContinuousDeployment',
    metadata: { name, namespace: 'agent', generation: 1, uid: `uid-${name}` },
    spec: { url: 'https://git.example/config', path: 'deploy', targetNamespace: 'apps', ...spec },
  };
}

/** A ContinuousDeployment, its Git, the cluster and the dependencies a reconcile gets. */
export function world(spec: Partial<ContinuousDeploymentSpec> = {}) {
  const kube = new FakeKubePort();
  const git = new FakeGit();
  const clock = new FakeClock();
  const memo: SyncMemo = new Map();
  const cd = continuousDeployment(spec);
  const deps: ReconcileDeps = {
    kube,
    source: git,
    render: () => git.render(),
    health: createHealthAssessor({ clock }),
    clock,
    log: silentLogger,
    concurrency: 4,
    memo,
  };
  const input = (overrides: Partial<ReconcileInput> = {}, mode: ReconcileMode = 'sync'): ReconcileInput => ({
    cd,
    config: readConfig(cd.spec),
    auth: undefined,
    syncRequested: false,
    windowBlocked: false,
    mode,
    ...overrides,
  });
  /** Carries what the controller would write to status into the next run. */
  const record = (outcome: ReconcileOutcome) => {
    cd.status = {
      ...cd.status,
      resources: outcome.resources,
      ...(outcome.synced && outcome.resolved ? { lastAppliedRevision: outcome.resolved.revision } : {}),
    };
  };
  return { kube, git, clock, memo, cd, deps, input, record };
}

/** The first sync of a commit of two new ConfigMaps, `a` and `b`: both created, and in sync. */
export async function firstSync(w: ReturnType<typeof world>): Promise<ReconcileOutcome> {
  w.git.commit([configMap('a', { x: '1' }), configMap('b', { x: '2' })]);
  const outcome = await reconcile(w.input(), w.deps);
  assert.equal(outcome.error, undefined);
  assert.deepEqual(names(outcome.changes, 'created'), ['a', 'b']);
  assert.equal(outcome.sync, 'Synced');
  return outcome;
}

export function names(entries: ReadonlyArray<{ ref: { name: string } }>, action?: string): string[] {
  return entries
    .filter((e) => action === undefined || (e as { action?: string }).action === action)
    .map((e) => e.ref.name)
    .sort();
}

/** The checked spec; a fixture that does not read is a broken test. */
function readConfig(spec: unknown): DeploymentConfig {
  const read = validateContinuousDeploymentSpec(spec);
  if (!read.ok) throw new Error(`the test's spec does not read: ${read.errors.map((e) => e.message).join('; ')}`);
  return read.value;
}
