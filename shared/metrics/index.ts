/** Prometheus metrics for both programs: the names in definitions.ts, bounded labels in labels.ts. */
export { METRICS, BOUNDED_LABELS, PER_OBJECT_GAUGES, QUEUE_WAIT_BUCKETS, RECONCILE_BUCKETS, SCAN_BUCKETS } from './definitions.ts';
export type { MetricKey } from './definitions.ts';
export { codeLabel, gitOperationLabel, hostLabel, kindLabel, reasonLabel, verbLabel } from './labels.ts';
export type { ReconcileResultLabel, WebhookResultLabel } from './labels.ts';
export {
  registry,
  recordReconcile,
  recordResourceInfo,
  forgetResourceInfo,
  recordKubeRequest,
  recordGitOperation,
  recordRegistryRequest,
  recordWebhookRequest,
  forgetWebhookReceiver,
  watchQueueDepth,
  recordQueueWait,
  recordScan,
  recordBotPush,
  recordLeader,
  recordShardMembers,
  watchShardOwnedKeys,
  recordNotification,
} from './registry.ts';
