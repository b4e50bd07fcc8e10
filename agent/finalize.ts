import type { ContinuousDeployment, PropagationPolicy } from '../shared/api/continuous-deployment.ts';
import { describeFailures, failures } from '../shared/kube/change-set.ts';
import type { ChangeEntry } from '../shared/kube/change-set.ts';
import type { KubeClient } from '../shared/kube/client.ts';
import { sortForPrune } from '../shared/kube/order.ts';
import { toTidemarkError } from '../shared/errors/index.ts';
import { apiVersionOf, inventoryRef, isOwnedBy } from './plan.ts';

/**
 * Deletes every object in the inventory that is still ours, in reverse apply order. Used when a
 * ContinuousDeployment is deleted (KubeSphere semantics: deleting it deletes what it deployed).
 */
export async function deleteInventory(
  cd: ContinuousDeployment,
  target: KubeClient,
  propagation: PropagationPolicy,
): Promise<{ deleted: number; remaining: ChangeEntry[]; message: string }> {
  const owner = { namespace: cd.metadata.namespace ?? 'default', name: cd.metadata.name };
  const entries: ChangeEntry[] = [];
  const inventory = (cd.status?.resources ?? []).map((entry) => ({
    entry,
    apiVersion: apiVersionOf(entry),
    kind: entry.kind,
    metadata: { name: entry.name, ...(entry.namespace === undefined ? {} : { namespace: entry.namespace }) },
  }));
  for (const item of sortForPrune(inventory)) {
    const ref = inventoryRef(item.entry);
    try {
      const mapping = await target.mapper.find(item.apiVersion, item.kind);
      if (!mapping) continue;
      const live = await target.resources.get(mapping, ref.namespace, ref.name);
      if (!live || !isOwnedBy(live, owner)) continue;
      entries.push(await target.resources.delete(mapping, ref, propagation));
    } catch (err) {
      const error = toTidemarkError(err);
      entries.push({ ref, action: 'failed', message: error.message, error });
    }
  }
  const failed = failures(entries);
  return { deleted: entries.length - failed.length, remaining: failed, message: describeFailures(failed) };
}
