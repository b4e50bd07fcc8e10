import type {
  ContinuousDeploymentStatus,
  HealthStatus,
  HookStatus,
  ResourceStatus,
  SyncStatus,
} from '../shared/api/continuous-deployment.ts';
import type { Reason, TidemarkError } from '../shared/errors/index.ts';
import type { ChangeEntry } from '../shared/kube/change-set.ts';
import type { KubeObject, ObjectRef } from '../shared/kube/object.ts';
import type { DiffResult } from '../shared/kube/resource-manager.ts';
import type { DeploymentConfig, HealthCheckExpr } from '../shared/spec/index.ts';
import type { CrdFacts } from './health/index.ts';
import type { ChartSettings, RenderNote } from './render/index.ts';

export type { GitCredentials as GitAuth, ResolvedRevision } from '../shared/git/types.ts';
import type { GitCredentials as GitAuth, ResolvedRevision } from '../shared/git/types.ts';

/** A checkout in use: nothing prunes or replaces it before release() (call it once the render is done). */
export interface Checkout {
  dir: string;
  release(): void;
}

/** The Git side of a reconcile: a cheap remote lookup, and a checkout only when the commit is new. */
export interface Source {
  resolve(config: DeploymentConfig, auth: GitAuth | undefined, signal?: AbortSignal): Promise<ResolvedRevision>;
  checkout(config: DeploymentConfig, auth: GitAuth | undefined, resolved: ResolvedRevision, signal?: AbortSignal): Promise<Checkout>;
}

/**
 * Turns a checked-out directory into desired objects; throws a terminal error for bad content.
 * `timeoutMs` is the deployment's spec.timeout: the render's deadline.
 */
export type Renderer = (
  checkoutDir: string,
  path: string,
  signal?: AbortSignal,
  timeoutMs?: number,
  request?: RenderRequest,
) => Promise<KubeObject[]>;

/** What a render needs from the deployment besides the path, and where it reports what it left out. */
export interface RenderRequest {
  chart?: ChartSettings | undefined;
  report?: ((note: RenderNote) => void) | undefined;
}

/** What a health rule may need besides the object: the deployment's CEL checks, and the object's CRD. */
export interface HealthFacts {
  exprs?: readonly HealthCheckExpr[] | undefined;
  crd?: CrdFacts | undefined;
}

export type HealthAssessor = (live: KubeObject | undefined, facts?: HealthFacts) => { status: HealthStatus; message?: string };

/** One `spec.healthChecks` object and its health, as reported in status.healthChecks. */
export type HealthCheckStatus = NonNullable<ContinuousDeploymentStatus['healthChecks']>[number];

export type Phase = 'fetch' | 'render' | 'plan' | 'apply' | 'prune' | 'assess';

export interface ReconcileOutcome {
  resolved?: ResolvedRevision;
  /** Where it stopped with an error, if it did. */
  failedPhase?: Phase;
  /**
   * A newer intent (a new commit, a spec change, a sync request) ended a wait: the run stopped
   * there, neither done nor failed, and the next one starts at once. `during` names the wait.
   */
  superseded?: { by: string; during: string };
  error?: TidemarkError;
  /** True when objects were written (a sync ran), false when only compared. */
  synced: boolean;
  changes: ChangeEntry[];
  resources: ResourceStatus[];
  /** The spec.healthChecks objects outside the rendered set; their health counts in `health`. */
  healthChecks?: HealthCheckStatus[];
  /** The Argo CD hooks this run ran; undefined when it ran none (the last sync's stay in status). */
  hooks?: HookStatus[];
  /** PostDelete hooks the applied revision declares; set when the run wrote. */
  postDeleteHooks?: number;
  sync: SyncStatus;
  health: { status: HealthStatus; message?: string };
  /** Every object's comparison with the cluster, for `tidemark diff`. */
  diffs: DiffResult[];
  /** Objects that left Git and are still ours: deleted by a sync's prune, or to be deleted in a plan. */
  pruneCandidates: ObjectRef[];
  /** Why a prune or a sync was held back, when one was. */
  notes: Array<{ reason: Reason; message: string }>;
  /** Decrypted values and Secret-sourced variables in the desired objects: never shown (diff masks them). */
  sensitive?: string[];
}
