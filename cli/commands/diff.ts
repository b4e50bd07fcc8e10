import { stringify } from 'yaml';
import { describeError } from '../../shared/errors/index.ts';
import { comparable } from '../../shared/kube/compare.ts';
import { describeRef } from '../../shared/kube/object.ts';
import { planDeployment } from '../../agent/index.ts';
import type { DeploymentPlan } from '../../agent/index.ts';
import type { ObjectChange } from '../../console/index.ts';
import type { CliContext } from '../context.ts';
import { Exit } from '../context.ts';
import { unifiedDiff } from '../text-diff.ts';
import { readCd, requireName } from './cd.ts';
import { maskSecrets, maskValues } from './secret-mask.ts';

/**
 * What a sync would change: the agent's own plan (fetch, render, server-side dry-run, prune
 * decision) against the deployment's target cluster, with nothing written. Exit 1 when there is a
 * difference, as `kubectl diff` does. Secret values are masked (secret-mask.ts), and so are decrypted
 * SOPS values and variables from Secrets, in any kind.
 */
export async function diff(ctx: CliContext): Promise<number> {
  const name = requireName(ctx);
  const cd = await readCd(ctx, name);
  if (!cd) return Exit.notFound;
  // The helm the agent runs (its --helm-binary): a chart renders here as it would there.
  const helm = ctx.flags['helm-binary'];
  const plan = await planDeployment({ kube: ctx.kube, cd, helmBinary: typeof helm === 'string' ? helm : undefined });
  if (plan.failure) {
    ctx.err(`diff failed in ${plan.failure.phase}: ${describeError(plan.failure.error)}\n`);
    return Exit.usage;
  }
  const sign = { create: '+', update: '~', prune: '-' } as const;
  for (const change of planChanges(plan)) ctx.out(`${sign[change.action]} ${change.action} ${change.object}\n${change.diff}`);
  for (const note of plan.notes) ctx.out(`! ${note.reason}: ${note.message}\n`);
  const changed = plan.create.length + plan.update.length + plan.prune.length;
  const against = `${plan.revision ?? 'Git'}${plan.cluster ? ` on ${plan.cluster}` : ''}`;
  ctx.out(changed === 0 ? `no differences with ${against}\n` : `${changed} objects differ from ${against}\n`);
  return changed === 0 ? Exit.ok : Exit.difference;
}

/**
 * What a plan would change, object by object, with masked unified diffs (live → Git): creates,
 * updates and prunes, each by name. `tidemark diff` prints it and the console shows it.
 */
export function planChanges(plan: DeploymentPlan): ObjectChange[] {
  const byName = <T extends { ref: Parameters<typeof describeRef>[0] }>(items: T[]) =>
    [...items].sort((a, b) => describeRef(a.ref).localeCompare(describeRef(b.ref)));
  const changes: ObjectChange[] = [];
  for (const c of byName(plan.create)) {
    const label = describeRef(c.ref);
    const { after } = maskSecrets(undefined, c.merged ? comparable(c.merged) : c.desired);
    const diff = unifiedDiff('', stringify(maskValues(after, plan.sensitive)), { from: `live/${label}`, to: `git/${label}` });
    changes.push({ action: 'create', object: label, diff });
  }
  for (const u of byName(plan.update)) {
    const label = describeRef(u.ref);
    const { before, after } = maskSecrets(comparable(u.live), u.merged ? comparable(u.merged) : u.desired);
    const diff = unifiedDiff(stringify(maskValues(before, plan.sensitive)), stringify(maskValues(after, plan.sensitive)), {
      from: `live/${label}`,
      to: `git/${label}`,
    });
    changes.push({ action: 'update', object: label, diff });
  }
  for (const ref of byName(plan.prune.map((r) => ({ ref: r })))) changes.push({ action: 'prune', object: describeRef(ref.ref), diff: '' });
  return changes;
}
