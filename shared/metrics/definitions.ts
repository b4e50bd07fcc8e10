/**
 * Every metric Tidemark exports, with its label set: the one place a name or a label is chosen,
 * so the README, the dashboards and the code cannot drift apart. Label values come only through
 * the normalizers in labels.ts, which hold each label to a bounded set: a revision, a tag or an
 * error message never becomes a label value, or every new commit would start a new series.
 */
export const METRICS = {
  reconcileDuration: {
    name: 'tidemark_reconcile_duration_seconds',
    help: 'Time one reconcile took, by kind and result (success, retry, failure).',
    type: 'histogram',
    labels: ['kind', 'result'],
  },
  reconcileTotal: {
    name: 'tidemark_reconcile_total',
    help: 'Reconciles run, by kind, result and reason (the Reason of a failure, "none" otherwise).',
    type: 'counter',
    labels: ['kind', 'result', 'reason'],
  },
  resourceInfo: {
    name: 'tidemark_resource_info',
    help: 'One series per object Tidemark reconciles (like gotk_resource_info): its Ready status, whether it is suspended, its revision.',
    type: 'gauge',
    labels: ['kind', 'name', 'namespace', 'ready', 'suspended', 'revision'],
  },
  managedObjects: {
    name: 'tidemark_managed_objects',
    help: 'Objects a ContinuousDeployment manages (its inventory), one series per deployment.',
    type: 'gauge',
    labels: ['name', 'namespace'],
  },
  imageTags: {
    name: 'tidemark_image_tags',
    help: 'Tags the last scan of an ImageRepository listed, after its exclusion list; one series per repository.',
    type: 'gauge',
    labels: ['name', 'namespace'],
  },
  queueDepth: {
    name: 'tidemark_queue_depth',
    help: 'Objects waiting for a worker, by the kind the controller reconciles.',
    type: 'gauge',
    labels: ['kind'],
  },
  queueWait: {
    name: 'tidemark_queue_wait_seconds',
    help: 'Time an object waited in the queue for a worker, by the kind the controller reconciles.',
    type: 'histogram',
    labels: ['kind'],
  },
  kubeRequests: {
    name: 'tidemark_kube_requests_total',
    help: 'Kubernetes API requests, by HTTP verb (WATCH for a watch) and status code ("error": no answer).',
    type: 'counter',
    labels: ['verb', 'code'],
  },
  gitOperations: {
    name: 'tidemark_git_operations_total',
    help: 'Git operations, by operation and result ("success" or the failure\'s Reason).',
    type: 'counter',
    labels: ['operation', 'result'],
  },
  registryRequests: {
    name: 'tidemark_registry_requests_total',
    help: 'Container registry requests, by host and status code ("error": no answer); 429s show throttling.',
    type: 'counter',
    labels: ['host', 'code'],
  },
  scanDuration: {
    name: 'tidemark_scan_duration_seconds',
    help: 'Time one registry scan (listing every tag) took, by registry host and result ("success" or the failure\'s Reason).',
    type: 'histogram',
    labels: ['host', 'result'],
  },
  botPushes: {
    name: 'tidemark_bot_pushes_total',
    help: 'Image update runs, by result: "pushed", "unchanged" (nothing to commit) or the failure\'s Reason.',
    type: 'counter',
    labels: ['result'],
  },
  pushRetries: {
    name: 'tidemark_push_retries_total',
    help: 'Bot pushes rejected because the branch moved, and made again on its new head.',
    type: 'counter',
    labels: [],
  },
  notifications: {
    name: 'tidemark_notifications_total',
    help: 'Alert messages, by provider type and result: sent, failed, dropped (queue full), duplicate, rate-limited.',
    type: 'counter',
    labels: ['type', 'result'],
  },
  leader: {
    name: 'tidemark_leader',
    help: 'Whether this replica leads (1) or stands by (0), by the Lease it elects on.',
    type: 'gauge',
    labels: ['lease'],
  },
  shardMembers: {
    name: 'tidemark_shard_members',
    help: 'Live replicas this replica sees in its automatic-sharding group (its member Lease included).',
    type: 'gauge',
    labels: ['group'],
  },
  shardOwnedKeys: {
    name: 'tidemark_shard_owned_keys',
    help: 'Objects this replica may reconcile now under automatic sharding, by kind (0 while the group changes).',
    type: 'gauge',
    labels: ['kind'],
  },
  webhookRequests: {
    name: 'tidemark_webhook_requests_total',
    help: 'Webhook calls to receivers, by Receiver (namespace/name, "unknown" for a path no Receiver serves) and result.',
    type: 'counter',
    labels: ['receiver', 'result'],
  },
} as const;

export type MetricKey = keyof typeof METRICS;

/**
 * Labels a counter or histogram may carry: each has a bounded set of values. Object names are
 * allowed only on the info gauge, whose series are removed with their object, and as `receiver`:
 * a path no Receiver serves counts as "unknown", and a Receiver's series go with it.
 */
export const BOUNDED_LABELS: ReadonlySet<string> = new Set([
  'kind',
  'result',
  'reason',
  'verb',
  'code',
  'operation',
  'host',
  'receiver',
  'type',
]);

/**
 * Gauges with one series per object (name and namespace labels): each is removed with its object,
 * so they hold as many series as the cluster has objects, never more.
 */
export const PER_OBJECT_GAUGES: ReadonlySet<string> = new Set(['resourceInfo', 'managedObjects', 'imageTags']);

/** Queue waits from 1 ms (an idle queue) to 5 min (a storm on two workers). */
export const QUEUE_WAIT_BUCKETS = [0.001, 0.01, 0.1, 0.5, 1, 5, 15, 60, 300];

/** Scans from 50 ms (a small repository on a near registry) to 5 min (100,000 tags, throttled). */
export const SCAN_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** Reconcile durations from 5 ms (a no-op resync) to 10 min (a long health wait). */
export const RECONCILE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
