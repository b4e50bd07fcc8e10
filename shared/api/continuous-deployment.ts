import type { KubeObject } from '../kube/object.ts';
import type { Condition } from '../conditions/index.ts';

export type HealthStatus = 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended' | 'Missing' | 'Unknown';
export type SyncStatus = 'Synced' | 'OutOfSync' | 'Unknown';
export type PropagationPolicy = 'foreground' | 'background' | 'orphan';

export interface GitRef {
  branch?: string;
  tag?: string;
  semver?: string;
  commit?: string;
}

export interface SyncWindow {
  kind: 'allow' | 'deny';
  schedule: string;
  duration: string;
  manualSync?: boolean;
  timeZone?: string;
}

export interface SyncPolicy {
  manual?: boolean;
  selfHeal?: boolean;
  skipSchemaValidation?: boolean;
  createNamespace?: boolean;
  pruneLast?: boolean;
  applyOutOfSyncOnly?: boolean;
  replace?: boolean;
  prunePropagationPolicy?: PropagationPolicy;
  allowEmpty?: boolean;
  windows?: SyncWindow[];
}

/** The seed's inline image automation block (KubeVela `imageRepository`). */
export interface InlineImageRepository {
  image: string;
  secretRef?: string;
  filterTags?: { pattern?: string; extract?: string };
  policy?: Record<string, unknown>;
  commitMessage?: string;
  [field: string]: unknown;
}

export interface ContinuousDeploymentSpec {
  /** git (default) or oci: `url` is then `oci://registry/repository`, and `ref` says what to follow. */
  repoType?: 'git' | 'oci';
  url: string;
  secretRef?: string;
  /** Allow the Git Secret's password or token over plain http:// (not loopback, not https://). */
  insecure?: boolean;
  pullInterval?: string;
  git?: GitRef;
  /** repoType oci: one of tag (default `latest`), semver or digest. */
  ref?: { tag?: string; semver?: string; digest?: string };
  path?: string;
  prune?: boolean;
  suspend?: boolean;
  force?: boolean;
  targetNamespace?: string;
  /** Act as this ServiceAccount of the deployment's namespace: its RBAC decides what is applied. */
  serviceAccountName?: string;
  syncPolicy?: SyncPolicy;
  kubeConfig?: { secretRef: { name: string; key?: string } };
  imageRepository?: InlineImageRepository;
  timeout?: string;
  /** CEL health checks per group (and kind), as Flux's Kustomization has them. */
  healthCheckExprs?: Array<{ apiVersion: string; kind?: string; current: string; inProgress?: string; failed?: string }>;
  /** Objects outside the rendered set whose health also counts (apiVersion defaults to apps/v1). */
  healthChecks?: Array<{ apiVersion?: string; kind: string; name: string; namespace?: string }>;
  /** What must be ready first: other ContinuousDeployments ({name, namespace}) or any object (with apiVersion and kind). */
  dependsOn?: Array<{ apiVersion?: string; kind?: string; name: string; namespace?: string; readyExpr?: string }>;
  /** Fields neither compared nor sent on apply. */
  ignore?: Array<{
    paths?: string[];
    managedFieldsManagers?: string[];
    target?: Partial<Record<'group' | 'version' | 'kind' | 'name' | 'namespace' | 'labelSelector' | 'annotationSelector', string>>;
  }>;
  /** Variables substituted into every rendered object (Flux's postBuild). */
  postBuild?: {
    substitute?: Record<string, string>;
    substituteFrom?: Array<{ kind: 'ConfigMap' | 'Secret'; name: string; optional?: boolean }>;
  };
  /** SOPS-encrypted manifests decrypted with the age and PGP keys of a Secret of this namespace. */
  decryption?: { provider: 'sops'; secretRef: { name: string } };
}

export interface ResourceStatus {
  /** Omitted for the core group: the API server rejects an empty string here in a merge patch. */
  group?: string;
  version: string;
  kind: string;
  namespace?: string;
  name: string;
  status: SyncStatus;
  health?: { status: HealthStatus; message?: string };
  message?: string;
}

export interface ContinuousDeploymentStatus {
  observedGeneration?: number;
  sync?: { status: SyncStatus; revision?: string };
  health?: { status: HealthStatus; message?: string };
  lastAttemptedRevision?: string;
  lastAppliedRevision?: string;
  lastSyncTime?: string;
  lastHandledRequestedAt?: string;
  syncWindow?: { blocked: boolean; until?: string; message?: string };
  location?: { cluster: string; namespace?: string };
  resources?: ResourceStatus[];
  /** spec.healthChecks: objects outside the rendered set whose health the deployment also reports. */
  healthChecks?: Array<{
    apiVersion: string;
    kind: string;
    namespace?: string;
    name: string;
    health: { status: HealthStatus; message?: string };
  }>;
  /** Argo CD hooks (argocd.argoproj.io/hook) of the last sync that ran them, in the order they ran. */
  hooks?: HookStatus[];
  /** How many PostDelete hooks the last applied revision declares: deleting the deployment runs them. */
  postDeleteHooks?: number;
  /** The last syncs that applied or failed a revision, newest first, at most 10 (as Argo CD keeps them). */
  history?: SyncHistoryEntry[];
  conditions?: Condition[];
}

/** Why a sync ran: the agent's best knowledge of what started it. */
export type SyncTrigger = 'Interval' | 'SyncRequest' | 'Webhook' | 'ImagePush' | 'SpecChange';

/** One sync that applied or failed a revision. */
export interface SyncHistoryEntry {
  revision: string;
  /** First line of the commit message, when the commit was in the agent's Git cache. */
  subject?: string;
  startedAt: string;
  finishedAt: string;
  result: 'Succeeded' | 'Failed' | 'Superseded';
  /** The error reason of a failed run, or what superseded it. */
  reason?: string;
  message?: string;
  trigger: SyncTrigger;
  /** Who asked, for a sync request that named its requester (`tidemark.dev/requestedBy`). */
  requestedBy?: string;
}

/** One hook object of a sync: its phase and how it ended (`Running` when the sync stopped before it did). */
export interface HookStatus {
  kind: string;
  namespace?: string;
  name: string;
  phase: 'PreSync' | 'Sync' | 'PostSync' | 'SyncFail' | 'PostDelete';
  status: 'Running' | 'Succeeded' | 'Failed';
  message?: string;
}

/** Object metadata as every Kubernetes object carries it; one definition, in shared/kube. */
export type ObjectMeta = KubeObject['metadata'];

export interface ContinuousDeployment {
  apiVersion: string;
  kind: 'ContinuousDeployment';
  metadata: ObjectMeta;
  spec: ContinuousDeploymentSpec;
  status?: ContinuousDeploymentStatus;
}
