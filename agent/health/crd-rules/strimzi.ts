import type { KubeObject } from '../../../shared/kube/object.ts';
import { conditions, rec, result } from '../fields.ts';
import type { HealthResult } from '../types.ts';

const WAITING: Record<string, string> = {
  Kafka: 'Waiting for Kafka Cluster',
  KafkaBridge: 'Waiting for KafkaBridge',
  KafkaConnect: 'Waiting for Kafka Connect',
  KafkaConnector: 'Waiting for KafkaConnector',
  KafkaTopic: 'Waiting for Kafka Topic',
  KafkaUser: 'Waiting for Kafka User',
};

/**
 * Strimzi's kafka.strimzi.io kinds, after Argo CD's resource_customizations/kafka.strimzi.io/<Kind>/health.lua:
 * the first decisive condition wins — `NotReady=True` → Degraded with its message (for a Kafka
 * cluster, not while its reason is Creating), `Ready=True` → Healthy; otherwise Progressing.
 */
export function strimziHealth(obj: KubeObject): HealthResult {
  for (const c of conditions(rec(obj.status))) {
    if (c.type === 'NotReady' && c.status === 'True' && !(obj.kind === 'Kafka' && c.reason === 'Creating')) {
      return result('Degraded', c.message);
    }
    if (c.type === 'Ready' && c.status === 'True') return result('Healthy');
  }
  return result('Progressing', WAITING[obj.kind] ?? `Waiting for ${obj.kind}`);
}
