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
    help: 'One series per object Tidemark reconciles (like gotk_resource_info): its Ready status and whether it is suspended.',
    type: 'gauge',
    labels: ['kind', 'name', 'namespace', 'ready', 'suspended'],
  },
  queueDepth: {
    name: 'tidemark_queue_depth',
    help: 'Objects waiting for a worker, by the kind the controller reconciles.',
    type: 'gauge',
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
} as const;

export type MetricKey = keyof typeof METRICS;

/**
 * Labels a counter or histogram may carry: each has a bounded set of values. Object names are
 * allowed only on the info gauge, whose series are removed with their object.
 */
export const BOUNDED_LABELS: ReadonlySet<string> = new Set(['kind', 'result', 'reason', 'verb', 'code', 'operation', 'host']);

/** Reconcile durations from 5 ms (a no-op resync) to 10 min (a long health wait). */
export const RECONCILE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
