import { terminal } from '../../shared/errors/index.ts';
import type { TidemarkError } from '../../shared/errors/index.ts';
import type { ChangeEntry } from '../../shared/kube/change-set.ts';
import { describeFailures } from '../../shared/kube/change-set.ts';
import { describeIdentity } from '../../shared/kube/impersonation.ts';
import type { KubeObject } from '../../shared/kube/object.ts';
import { objectKey, refOf } from '../../shared/kube/object.ts';
import { mapLimit } from '../../shared/kube/pool.ts';
import { STAGES } from '../../shared/kube/order.ts';
import type { StepContext } from './context.ts';
import type { DesiredSet } from './plan.ts';
import { fingerprint } from './plan.ts';

/**
 * Before a deployment that acts as a ServiceAccount writes anything: may it patch (server-side
 * apply) every object of the set? Each stage is dry-run before it is written, but a later stage
 * only after the earlier ones were applied — so without this a forbidden Secret in the last stage
 * would be found after a Namespace or a Role of the first was already created. The server's own
 * answer (a SelfSubjectAccessReview as the ServiceAccount) decides; no rule is evaluated here.
 * Only objects whose kind the server already serves can be asked about: a custom resource of a
 * CRD created in this same sync is checked by its dry-run, after the CRD exists. An object this
 * deployment last saw in sync, unchanged in Git, is not asked about again: a steady sync costs no
 * reviews, and a right revoked since is still found by its dry run before it is written.
 */
export async function forbiddenObjects(ctx: StepContext, desired: DesiredSet, hooks: readonly KubeObject[] = []): Promise<ChangeEntry[]> {
  const identity = ctx.deps.identity;
  if (!identity) return [];
  const firstStage = STAGES.find((stage) => desired.stages[stage].length > 0);
  // The first stage's dry run precedes every write, unless a Namespace is created before it.
  const memo = ctx.deps.memo;
  const known = (object: KubeObject) => memo?.get(objectKey(refOf(object)))?.fingerprint === fingerprint(object);
  const toCheck: Array<{ object: KubeObject; verb: 'patch' | 'create' }> = STAGES.filter(
    (stage) => stage !== firstStage || ctx.input.config.policy.createNamespace,
  )
    .flatMap((stage) => desired.stages[stage])
    .filter((object) => !known(object))
    .map((object) => ({ object, verb: 'patch' as const }));
  // Argo CD hooks of this sync are created (PreSync ones before any dry run): asked about up front too.
  toCheck.push(...hooks.map((object) => ({ object, verb: 'create' as const })));
  const answers = await mapLimit(toCheck, ctx.deps.concurrency, async ({ object, verb }) => {
    const mapping = await ctx.deps.kube.mapping(object.apiVersion, object.kind);
    if (!mapping) return undefined;
    const namespace = mapping.namespaced ? object.metadata.namespace : undefined;
    const name = verb === 'patch' ? object.metadata.name : undefined;
    const answer = await ctx.deps.kube.canI({ verb, resource: mapping, namespace, ...(name ? { name } : {}) });
    if (answer.allowed) return undefined;
    const where = namespace ? ` in namespace ${namespace}` : '';
    const resource = `${mapping.plural}.${mapping.group || 'core'}`;
    const message = `${describeIdentity(identity)} may not ${verb} ${resource} ${object.metadata.name}${where}`;
    const error = terminal(
      'Forbidden',
      message,
      `grant ServiceAccount ${identity.namespace}/${identity.name} this right (a RoleBinding), or remove the object from Git`,
    );
    const entry: ChangeEntry = { ref: refOf(object), action: 'failed', message, error };
    return entry;
  });
  return answers.filter((a): a is ChangeEntry => a !== undefined);
}

export function forbiddenError(ctx: StepContext, forbidden: ChangeEntry[]): TidemarkError {
  const first = forbidden[0]?.error;
  return terminal(
    'Forbidden',
    `acting as ${describeIdentity(ctx.deps.identity)}, nothing was applied: ${describeFailures(forbidden)}`,
    first?.hint,
    first,
  );
}
