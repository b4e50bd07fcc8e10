import type { Condition } from '../conditions/index.ts';
import { METRICS, QUEUE_WAIT_BUCKETS, RECONCILE_BUCKETS, SCAN_BUCKETS } from './definitions.ts';
import { Counter, Gauge, Histogram, MetricsRegistry } from './exposition.ts';
import { registerProcessMetrics } from './process-metrics.ts';
import {
  codeLabel,
  gitOperationLabel,
  hostLabel,
  kindLabel,
  reasonLabel,
  verbLabel,
  type ReconcileResultLabel,
  WEBHOOK_RESULTS,
  type WebhookResultLabel,
} from './labels.ts';

/**
 * The process's metrics: one registry per process, written by our own small exposition writer
 * (exposition.ts, ADR 0015). Recording goes through the functions below, which pass every label
 * value through labels.ts.
 */
export const registry = new MetricsRegistry();
registerProcessMetrics(registry, 'tidemark_');

/** A family from its definition: its name, help and label names. */
function config<L extends string>(definition: { name: string; help: string; labels: readonly L[] }) {
  return { name: definition.name, help: definition.help, labelNames: definition.labels };
}

const reconcileDuration = registry.register(new Histogram({ ...config(METRICS.reconcileDuration), buckets: RECONCILE_BUCKETS }));
const reconcileTotal = registry.register(new Counter(config(METRICS.reconcileTotal)));
const resourceInfo = registry.register(new Gauge(config(METRICS.resourceInfo)));
const managedObjects = registry.register(new Gauge(config(METRICS.managedObjects)));
const imageTags = registry.register(new Gauge(config(METRICS.imageTags)));
const queueWait = registry.register(new Histogram({ ...config(METRICS.queueWait), buckets: QUEUE_WAIT_BUCKETS }));
const scanDuration = registry.register(new Histogram({ ...config(METRICS.scanDuration), buckets: SCAN_BUCKETS }));
const botPushes = registry.register(new Counter(config(METRICS.botPushes)));
const pushRetries = registry.register(new Counter(config(METRICS.pushRetries)));
const notifications = registry.register(new Counter(config(METRICS.notifications)));
const leader = registry.register(new Gauge(config(METRICS.leader)));
const shardMembers = registry.register(new Gauge(config(METRICS.shardMembers)));
const shardOwners = new Set<{ kind: string; owned: () => number }>();
const shardOwnedKeys: Gauge<'kind'> = registry.register(
  new Gauge({
    ...config(METRICS.shardOwnedKeys),
    collect: () => {
      shardOwnedKeys.reset();
      for (const owner of shardOwners) shardOwnedKeys.inc({ kind: kindLabel(owner.kind) }, owner.owned());
    },
  }),
);
const kubeRequests = registry.register(new Counter(config(METRICS.kubeRequests)));
const gitOperations = registry.register(new Counter(config(METRICS.gitOperations)));
const registryRequests = registry.register(new Counter(config(METRICS.registryRequests)));
const webhookRequests = registry.register(new Counter(config(METRICS.webhookRequests)));

/** Queue lengths by kind, read at scrape time: several controllers of one kind (tests) add up. */
const queues = new Set<{ kind: string; depth: () => number }>();
const queueDepth: Gauge<'kind'> = registry.register(
  new Gauge({
    ...config(METRICS.queueDepth),
    collect: () => {
      queueDepth.reset();
      for (const queue of queues) queueDepth.inc({ kind: kindLabel(queue.kind) }, queue.depth());
    },
  }),
);

export function recordReconcile(kind: string, result: ReconcileResultLabel, reason: string | undefined, seconds: number): void {
  const k = kindLabel(kind);
  reconcileDuration.observe({ kind: k, result }, seconds);
  reconcileTotal.inc({ kind: k, result, reason: reasonLabel(reason) });
}

/** Registers a queue for the depth gauge; the returned function unregisters it. */
export function watchQueueDepth(kind: string, depth: () => number): () => void {
  const entry = { kind, depth };
  queues.add(entry);
  return () => void queues.delete(entry);
}

interface InfoKey {
  kind: string;
  namespace: string | undefined;
  name: string;
}

/** The info labels an object had last, so a change replaces its series instead of adding one. */
const infoLabels = new Map<string, Record<string, string>>();

function infoKey(object: InfoKey): string {
  return `${object.kind}/${object.namespace ?? ''}/${object.name}`;
}

/**
 * Sets an object's series from the status about to be written: its info series, and the size of a
 * deployment's inventory or a repository's tag list.
 */
export function recordResourceInfo(object: InfoKey, status: object): void {
  const ready = readyCondition(status);
  const labels = {
    kind: kindLabel(object.kind),
    name: object.name,
    namespace: object.namespace ?? '',
    ready: ready?.status ?? 'Unknown',
    suspended: String(ready?.reason === 'Suspended'),
    revision: revisionOf(object.kind, status),
  };
  const key = infoKey(object);
  const previous = infoLabels.get(key);
  if (previous && JSON.stringify(previous) !== JSON.stringify(labels)) resourceInfo.remove(previous);
  infoLabels.set(key, labels);
  resourceInfo.set(labels, 1);
  const objectLabels = { name: object.name, namespace: object.namespace ?? '' };
  const fields = status as Record<string, unknown>;
  if (object.kind === 'ContinuousDeployment' && Array.isArray(fields.resources)) {
    managedObjects.set(objectLabels, fields.resources.length);
  }
  const tagCount = (fields.lastScanResult as { tagCount?: unknown } | undefined)?.tagCount;
  if (object.kind === 'ImageRepository' && typeof tagCount === 'number') imageTags.set(objectLabels, tagCount);
}

/** Longer values are cut: a label is for reading on a dashboard, and Git revisions stay far below this. */
const MAX_REVISION_LABEL = 128;

/**
 * What an object is at, as Flux's info metric shows it: a deployment's synced commit, a policy's
 * chosen image, an automation's last pushed commit; empty for kinds without one.
 */
function revisionOf(kind: string, status: object): string {
  const fields = status as Record<string, unknown>;
  let revision: unknown;
  if (kind === 'ContinuousDeployment') {
    revision = (fields.sync as { revision?: unknown } | undefined)?.revision ?? fields.lastAppliedRevision;
  } else if (kind === 'ImagePolicy') {
    const ref = fields.latestRef as { name?: unknown; tag?: unknown } | undefined;
    if (typeof ref?.name === 'string' && typeof ref.tag === 'string') revision = `${ref.name}:${ref.tag}`;
  } else if (kind === 'ImageUpdateAutomation') {
    revision = fields.lastPushCommit;
  }
  return typeof revision === 'string' ? revision.slice(0, MAX_REVISION_LABEL) : '';
}

/** The Ready condition of any Tidemark status, read without trusting its shape. */
function readyCondition(status: object): Partial<Pick<Condition, 'status' | 'reason'>> | undefined {
  const conditions: unknown = (status as { conditions?: unknown }).conditions;
  if (!Array.isArray(conditions)) return undefined;
  const ready: unknown = conditions.find((c: unknown) => typeof c === 'object' && c !== null && (c as Condition).type === 'Ready');
  if (typeof ready !== 'object' || ready === null) return undefined;
  const { status: value, reason } = ready as Record<string, unknown>;
  return {
    ...(value === 'True' || value === 'False' || value === 'Unknown' ? { status: value } : {}),
    ...(typeof reason === 'string' ? { reason: reason as Condition['reason'] } : {}),
  };
}

/** The object is gone: its info series goes with it. */
export function forgetResourceInfo(object: InfoKey): void {
  const key = infoKey(object);
  const previous = infoLabels.get(key);
  const objectLabels = { name: object.name, namespace: object.namespace ?? '' };
  if (object.kind === 'ContinuousDeployment') managedObjects.remove(objectLabels);
  if (object.kind === 'ImageRepository') imageTags.remove(objectLabels);
  if (!previous) return;
  resourceInfo.remove(previous);
  infoLabels.delete(key);
}

/** How long a key waited between being queued and a worker taking it. */
export function recordQueueWait(kind: string, seconds: number): void {
  queueWait.observe({ kind: kindLabel(kind) }, seconds);
}

export function recordScan(host: string, failureReason: string | undefined, seconds: number): void {
  scanDuration.observe({ host: hostLabel(host), result: failureReason === undefined ? 'success' : reasonLabel(failureReason) }, seconds);
}

/** An update run's outcome: pushed, unchanged, or the Reason it failed with; with the rejected pushes it retried. */
export function recordBotPush(result: 'pushed' | 'unchanged' | { failure: string }, retries: number): void {
  botPushes.inc({ result: typeof result === 'string' ? result : reasonLabel(result.failure) });
  if (retries > 0) pushRetries.inc(undefined, retries);
}

export function recordKubeRequest(method: string, status: number | undefined): void {
  kubeRequests.inc({ verb: verbLabel(method), code: codeLabel(status) });
}

export function recordGitOperation(operation: string, failureReason: string | undefined): void {
  gitOperations.inc({
    operation: gitOperationLabel(operation),
    result: failureReason === undefined ? 'success' : reasonLabel(failureReason),
  });
}

export function recordRegistryRequest(host: string, status: number | undefined): void {
  registryRequests.inc({ host: hostLabel(host), code: codeLabel(status) });
}

/** Leading or standing by, on the Lease named (one per program and release: a bounded set). */
export function recordLeader(lease: string, leading: boolean): void {
  leader.set({ lease }, leading ? 1 : 0);
}

/** The live members of an automatic-sharding group (one per release: a bounded set); undefined: this replica left it. */
export function recordShardMembers(group: string, members: number | undefined): void {
  if (members === undefined) shardMembers.remove({ group });
  else shardMembers.set({ group }, members);
}

/** Counts, at each scrape, the objects of `kind` this replica owns; returns the function that stops it. */
export function watchShardOwnedKeys(kind: string, owned: () => number): () => void {
  const entry = { kind, owned };
  shardOwners.add(entry);
  return () => void shardOwners.delete(entry);
}

/** One webhook call; `receiver` is the `namespace/name` of a served Receiver, or undefined (counted as "unknown"). */
export function recordWebhookRequest(receiver: string | undefined, result: WebhookResultLabel): void {
  webhookRequests.inc({ receiver: receiver ?? 'unknown', result });
}

/** The Receiver is gone: its series go with it, so deleted Receivers leave no series behind. */
export function forgetWebhookReceiver(receiver: string): void {
  for (const result of WEBHOOK_RESULTS) webhookRequests.remove({ receiver, result });
}

const PROVIDER_TYPE = /^[a-z][a-z-]{0,31}$/;
const NOTIFICATION_RESULTS = new Set(['sent', 'failed', 'dropped', 'duplicate', 'rate-limited']);

export function recordNotification(type: string, result: 'sent' | 'failed' | 'dropped' | 'duplicate' | 'rate-limited'): void {
  notifications.inc({ type: PROVIDER_TYPE.test(type) ? type : 'other', result: NOTIFICATION_RESULTS.has(result) ? result : 'other' });
}
