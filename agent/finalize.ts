import type { ContinuousDeployment, PropagationPolicy } from '../shared/api/continuous-deployment.ts';
import { Annotations } from '../shared/api/constants.ts';
import { describeFailures, failures } from '../shared/kube/change-set.ts';
import type { ChangeEntry } from '../shared/kube/change-set.ts';
import { isNotFound } from '../shared/kube/errors.ts';
import type { KubePort } from '../shared/kube/port.ts';
import { sortForPrune } from '../shared/kube/order.ts';
import { terminal, toTidemarkError } from '../shared/errors/index.ts';
import type { TidemarkError } from '../shared/errors/index.ts';
import { apiVersionOf, inventoryRef, isOwnedBy } from './plan.ts';
import { combineErrors, validateContinuousDeploymentSpec } from '../shared/spec/index.ts';
import type { Target, TargetResolver } from './targets.ts';
import { deploymentIdentity, type TenancyOptions } from './tenancy.ts';

/**
 * Where the objects of a ContinuousDeployment being deleted live. With a readable spec, its
 * target. Without one, the last deployed location tells: the home cluster is safe to use; any
 * other cluster cannot be reached, and guessing the home cluster would find nothing there and
 * release the finalizer with the remote objects left behind. On the home cluster the deletion acts
 * as the deployment's ServiceAccount, so it deletes only what that identity may delete.
 */
export async function deletionTarget(
  cd: ContinuousDeployment,
  targets: TargetResolver,
  tenancy: TenancyOptions,
): Promise<{ target: Target; propagation: PropagationPolicy } | { error: TidemarkError }> {
  // Throws for a malformed serviceAccountName: the caller reports it and keeps the finalizer.
  const identity = deploymentIdentity(cd, tenancy);
  const read = validateContinuousDeploymentSpec(cd.spec);
  if (!read.ok) {
    const cluster = cd.status?.location?.cluster;
    if (cluster === undefined || cluster === targets.home.name) {
      return { target: await targets.resolve(cd, { kubeConfig: undefined }, identity), propagation: 'background' };
    }
    const problems = combineErrors(read.errors);
    return {
      error: terminal(
        'DeletionFailed',
        `cannot delete the objects on cluster ${cluster}: the spec does not parse (${problems.message})`,
        `fix the spec, or annotate ${Annotations.deletionPolicy}: orphan to keep the objects`,
        problems,
      ),
    };
  }
  const config = read.value;
  return { target: await targets.resolve(cd, config, identity), propagation: config.policy.propagation };
}

/** True when deleting the ContinuousDeployment leaves what it deployed in place. */
export function keepsObjects(cd: ContinuousDeployment): boolean {
  return cd.metadata.annotations?.[Annotations.deletionPolicy] === 'orphan' || (cd.spec?.suspend ?? false);
}

/**
 * Deletes every object in the inventory that is still ours, in reverse apply order. Used when a
 * ContinuousDeployment is deleted (KubeSphere semantics: deleting it deletes what it deployed).
 */
export async function deleteInventory(
  cd: ContinuousDeployment,
  kube: KubePort,
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
      const mapping = await kube.mapping(item.apiVersion, item.kind);
      if (!mapping) continue;
      const live = await kube.get(mapping, ref.namespace, ref.name);
      if (!live || !isOwnedBy(live, owner)) continue;
      await kube.delete(mapping, ref.namespace, ref.name, propagation).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
      entries.push({ ref, action: 'deleted' });
    } catch (err) {
      const error = toTidemarkError(err);
      entries.push({ ref, action: 'failed', message: error.message, error });
    }
  }
  const failed = failures(entries);
  return { deleted: entries.length - failed.length, remaining: failed, message: describeFailures(failed) };
}
