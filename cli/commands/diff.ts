import { stringify } from 'yaml';
import { describeError } from '../../shared/errors/index.ts';
import { comparable } from '../../shared/kube/compare.ts';
import { describeRef } from '../../shared/kube/object.ts';
import { planDeployment } from '../../agent/index.ts';
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
  const plan = await planDeployment({ kube: ctx.kube, cd });
  if (plan.failure) {
    ctx.err(`diff failed in ${plan.failure.phase}: ${describeError(plan.failure.error)}\n`);
    return Exit.usage;
  }
  const byName = <T extends { ref: Parameters<typeof describeRef>[0] }>(items: T[]) =>
    [...items].sort((a, b) => describeRef(a.ref).localeCompare(describeRef(b.ref)));
  for (const c of byName(plan.create)) {
    const label = describeRef(c.ref);
    ctx.out(`+ create ${label}\n`);
    const { after } = maskSecrets(undefined, c.merged ? comparable(c.merged) : c.desired);
    ctx.out(unifiedDiff('', stringify(maskValues(after, plan.sensitive)), { from: `live/${label}`, to: `git/${label}` }));
  }
  for (const u of byName(plan.update)) {
    const label = describeRef(u.ref);
    ctx.out(`~ update ${label}\n`);
    const { before, after } = maskSecrets(comparable(u.live), u.merged ? comparable(u.merged) : u.desired);
    ctx.out(
      unifiedDiff(stringify(maskValues(before, plan.sensitive)), stringify(maskValues(after, plan.sensitive)), {
        from: `live/${label}`,
        to: `git/${label}`,
      }),
    );
  }
  for (const ref of byName(plan.prune.map((r) => ({ ref: r })))) ctx.out(`- prune ${describeRef(ref.ref)}\n`);
  for (const note of plan.notes) ctx.out(`! ${note.reason}: ${note.message}\n`);
  const changed = plan.create.length + plan.update.length + plan.prune.length;
  const against = `${plan.revision ?? 'Git'}${plan.cluster ? ` on ${plan.cluster}` : ''}`;
  ctx.out(changed === 0 ? `no differences with ${against}\n` : `${changed} objects differ from ${against}\n`);
  return changed === 0 ? Exit.ok : Exit.difference;
}
