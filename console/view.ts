import type { ContinuousDeployment, HealthStatus, SyncHistoryEntry, SyncStatus } from '../shared/api/continuous-deployment.ts';
import { Annotations } from '../shared/api/constants.ts';

/** KubeSphere's annotations for a deployment's display name and description (Edit Information). */
export const DisplayAnnotations = {
  alias: 'kubesphere.io/alias-name',
  description: 'kubesphere.io/description',
} as const;

/** One row of the list: what the browser needs and nothing more. */
export interface CdRow {
  namespace: string;
  name: string;
  alias: string;
  description: string;
  health: HealthStatus;
  sync: SyncStatus;
  suspended: boolean;
  /** Deleting the deployment keeps what it deployed (the deletion-policy annotation says orphan, or it is suspended). */
  keepsObjectsOnDelete: boolean;
  cluster: string;
  targetNamespace: string;
  revision: string;
  /** RFC 3339: the last sync, else the last change of Ready, else the creation. */
  updated: string;
  ready: { status: string; reason: string; message: string } | undefined;
  deleting: boolean;
}

export function cdRow(cd: ContinuousDeployment): CdRow {
  const meta = cd.metadata;
  const status = cd.status ?? {};
  const ready = status.conditions?.find((c) => c.type === 'Ready');
  const suspended = cd.spec?.suspend === true;
  const annotations = meta.annotations ?? {};
  return {
    namespace: meta.namespace ?? '',
    name: meta.name,
    alias: annotations[DisplayAnnotations.alias] ?? '',
    description: annotations[DisplayAnnotations.description] ?? '',
    health: suspended ? 'Suspended' : (status.health?.status ?? 'Unknown'),
    sync: status.sync?.status ?? 'Unknown',
    suspended,
    keepsObjectsOnDelete: annotations[Annotations.deletionPolicy] === 'orphan' || suspended,
    cluster: status.location?.cluster ?? 'in-cluster',
    targetNamespace: status.location?.namespace ?? cd.spec?.targetNamespace ?? meta.namespace ?? '',
    revision: status.sync?.revision ?? status.lastAttemptedRevision ?? '',
    updated: status.lastSyncTime ?? ready?.lastTransitionTime ?? meta.creationTimestamp ?? '',
    ready: ready ? { status: ready.status, reason: ready.reason, message: ready.message } : undefined,
    deleting: meta.deletionTimestamp !== undefined,
  };
}

export function rowKey(row: Pick<CdRow, 'namespace' | 'name'>): string {
  return `${row.namespace}/${row.name}`;
}

export interface CdEvent {
  type: string;
  reason: string;
  message: string;
  time: string;
  count: number;
}

/** The details page: source, conditions, managed resources, recent Events. */
export interface CdDetails {
  row: CdRow;
  source: { url: string; ref: string; path: string; revision: string; lastAppliedRevision: string; pullInterval: string };
  syncMode: string;
  conditions: Array<{ type: string; status: string; reason: string; message: string; since: string }>;
  resources: Array<{ kind: string; namespace: string; name: string; sync: string; health: string; message: string }>;
  /** status.history as the agent wrote it, newest first. */
  history: HistoryRow[];
  events: CdEvent[];
}

/** One sync of status.history, in words. */
export interface HistoryRow {
  revision: string;
  subject: string;
  startedAt: string;
  finishedAt: string;
  result: string;
  /** The reason and message of a failed or superseded run; empty when it succeeded. */
  detail: string;
  trigger: string;
}

export function historyRow(entry: SyncHistoryEntry): HistoryRow {
  return {
    revision: entry.revision,
    subject: entry.subject ?? '',
    startedAt: entry.startedAt,
    finishedAt: entry.finishedAt,
    result: entry.result,
    detail: [entry.reason === entry.result ? undefined : entry.reason, entry.message].filter(Boolean).join(': '),
    trigger: triggerText(entry),
  };
}

function triggerText(entry: SyncHistoryEntry): string {
  const by = entry.requestedBy ? ` (${entry.requestedBy})` : '';
  switch (entry.trigger) {
    case 'Interval':
      return 'interval';
    case 'SpecChange':
      return 'spec change';
    case 'ImagePush':
      return 'bot commit (image update)';
    case 'Webhook':
      return `webhook${by}`;
    case 'SyncRequest':
      return `sync request${by}`;
  }
}

export function refText(ref: ContinuousDeployment['spec']['git']): string {
  if (ref?.commit) return `commit ${ref.commit}`;
  if (ref?.tag) return `tag ${ref.tag}`;
  if (ref?.semver) return `semver ${ref.semver}`;
  return `branch ${ref?.branch ?? 'main'}`;
}

export function cdDetails(cd: ContinuousDeployment, events: readonly CdEvent[]): CdDetails {
  const status = cd.status ?? {};
  const policy = cd.spec.syncPolicy ?? {};
  return {
    row: cdRow(cd),
    source: {
      url: cd.spec.url,
      ref: refText(cd.spec.git),
      path: cd.spec.path ?? './',
      revision: status.sync?.revision ?? '',
      lastAppliedRevision: status.lastAppliedRevision ?? '',
      pullInterval: cd.spec.pullInterval ?? '5m',
    },
    syncMode: [
      policy.manual ? 'manual' : 'automatic',
      cd.spec.prune === false ? 'no prune' : 'prune',
      ...(policy.selfHeal === false ? ['no self-heal'] : []),
    ].join(', '),
    conditions: (status.conditions ?? []).map((c) => ({
      type: c.type,
      status: c.status,
      reason: c.reason,
      message: c.message,
      since: c.lastTransitionTime,
    })),
    resources: (status.resources ?? []).map((r) => ({
      kind: r.kind,
      namespace: r.namespace ?? '',
      name: r.name,
      sync: r.status,
      health: r.health?.status ?? '',
      message: r.message ?? r.health?.message ?? '',
    })),
    history: (status.history ?? []).map(historyRow),
    events: [...events].sort((a, b) => b.time.localeCompare(a.time)).slice(0, 20),
  };
}

/** An Event as the API server returns it, reduced to what the page shows. */
export function eventOf(raw: {
  type?: string;
  reason?: string;
  message?: string;
  lastTimestamp?: string | null;
  eventTime?: string | null;
  firstTimestamp?: string | null;
  count?: number;
  metadata?: { creationTimestamp?: string };
}): CdEvent {
  return {
    type: raw.type ?? 'Normal',
    reason: raw.reason ?? '',
    message: raw.message ?? '',
    time: raw.lastTimestamp ?? raw.eventTime ?? raw.firstTimestamp ?? raw.metadata?.creationTimestamp ?? '',
    count: raw.count ?? 1,
  };
}
