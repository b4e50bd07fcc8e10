import type { ContinuousDeployment } from '../../shared/api/continuous-deployment.ts';
import type { Logger } from '../../shared/log/index.ts';
import type { Clock } from '../../shared/time/clock.ts';
import type { Park } from '../../shared/controller/work-queue.ts';
import type { ServiceAccountIdentity } from '../../shared/kube/impersonation.ts';
import type { ObjectCache } from '../../shared/kube/object-cache.ts';
import type { KubePort } from '../../shared/kube/port.ts';
import { ResourceManager } from '../../shared/kube/resource-manager.ts';
import type { DeploymentConfig } from '../../shared/spec/index.ts';
import type { CrdFactsReader } from '../crd-facts.ts';
import type { RenderCache } from '../render-cache.ts';
import type { GitAuth, HealthAssessor, Renderer, Source } from '../types.ts';

/** `sync` converges the cluster; `plan` computes what a sync would do and writes nothing. */
export type ReconcileMode = 'sync' | 'plan';

export interface ReconcileInput {
  cd: ContinuousDeployment;
  config: DeploymentConfig;
  auth: GitAuth | undefined;
  /** True when a person asked for this sync (annotation or CLI): manual mode applies then. */
  syncRequested: boolean;
  /** True when a sync window forbids writing now. */
  windowBlocked: boolean;
  mode: ReconcileMode;
}

/** Objects last seen in sync: desired fingerprint and the live resourceVersion then. */
export type SyncMemo = Map<string, { fingerprint: string; resourceVersion: string }>;

export interface ReconcileDeps {
  /** The cluster the deployment targets. */
  kube: KubePort;
  source: Source;
  render: Renderer;
  health: HealthAssessor;
  /** CRD lookups for the health of custom resources without status; without it they are not read. */
  crds?: CrdFactsReader | undefined;
  clock: Clock;
  log: Logger;
  concurrency: number;
  signal?: AbortSignal | undefined;
  /** When the run's waits end (its budget: spec.timeout from the start); `spec.timeout` from the wait's start without. */
  deadline?: number | undefined;
  /**
   * Aborted, with a description of it as reason (`revision main@sha1:…`), once a newer intent
   * exists — a new commit, a spec change, a sync request: the waits end then and the run stops.
   */
  newer?: AbortSignal | undefined;
  /** Runs a wait without holding a controller worker; without it, waits hold theirs. */
  park?: Park | undefined;
  /** Watch-fed live objects; without it every read is a GET. */
  cache?: LiveObjects | undefined;
  /** The ServiceAccount `kube` acts as; undefined: the agent's own identity. */
  identity?: ServiceAccountIdentity | undefined;
  memo?: SyncMemo | undefined;
  /** Plain-YAML renders by commit and path, shared by every reconcile of the agent. */
  renderCache?: RenderCache | undefined;
  /** The ConfigMaps and Secrets the spec names (substituteFrom, decryption keys), read as the deployment's identity. */
  namespaceObjects?: NamespaceObjects | undefined;
}

/**
 * Reads objects of the deployment's own namespace by name: the `data` of each as text, undefined
 * when it does not exist. The controller reads them as the deployment's ServiceAccount.
 */
export interface NamespaceObjects {
  configMap(name: string): Promise<Record<string, string> | undefined>;
  secret(name: string): Promise<Record<string, string> | undefined>;
}

/** What a reconcile uses of the object cache: a copy (undefined: not known) and starting a watch. */
export type LiveObjects = Pick<ObjectCache, 'get' | 'watch'>;

/** What every step gets: the run's input, its dependencies, and the apply/diff library over the port. */
export interface StepContext {
  input: ReconcileInput;
  deps: ReconcileDeps;
  resources: ResourceManager;
  owner: { namespace: string; name: string };
}

export function stepContext(input: ReconcileInput, deps: ReconcileDeps): StepContext {
  return {
    input,
    deps,
    resources: new ResourceManager(deps.kube, { clock: deps.clock }),
    owner: { namespace: input.cd.metadata.namespace ?? 'default', name: input.cd.metadata.name },
  };
}

/** Writes are allowed in a sync outside a blocking window, and in manual mode only when asked for. */
export function writeAllowed(input: ReconcileInput): boolean {
  return input.mode === 'sync' && !input.windowBlocked && (!input.config.policy.manual || input.syncRequested);
}
