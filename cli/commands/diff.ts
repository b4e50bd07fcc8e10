import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { credentialsFromSecretData } from '../../shared/git/credentials.ts';
import { comparable } from '../../shared/kube/compare.ts';
import { describeRef } from '../../shared/kube/object.ts';
import { silentLogger } from '../../shared/log/index.ts';
import { systemClock } from '../../shared/time/clock.ts';
import { describeError } from '../../shared/errors/index.ts';
import { readSecretData } from '../../agent/credentials.ts';
import { createHealthAssessor } from '../../agent/health-assessor.ts';
import { reconcile } from '../../agent/reconcile/index.ts';
import { createRenderer } from '../../agent/renderer.ts';
import { createGitSource } from '../../agent/source.ts';
import { readSpec } from '../../agent/spec.ts';
import type { CliContext } from '../context.ts';
import { Exit } from '../context.ts';
import { unifiedDiff } from '../text-diff.ts';
import { readCd, requireName } from './cd.ts';

/**
 * What a sync would change, computed the way the agent computes it (fetch, render, server-side
 * dry-run) but with writes forbidden. Exit 1 when there is a difference, as `kubectl diff` does.
 */
export async function diff(ctx: CliContext): Promise<number> {
  const name = requireName(ctx);
  const cd = await readCd(ctx, name);
  if (!cd) return Exit.notFound;
  const config = readSpec(cd);
  const auth = config.secretRef
    ? credentialsFromSecretData(await readSecretData(ctx.kube.rest, ctx.namespace, config.secretRef))
    : undefined;
  const outcome = await reconcile(
    { cd, config, auth, syncRequested: false, windowBlocked: true, mode: 'plan' },
    {
      kube: ctx.kube.port,
      source: createGitSource({ cacheDir: join(tmpdir(), 'tidemark-cli-cache'), log: silentLogger }),
      render: createRenderer({}),
      health: createHealthAssessor({ clock: systemClock }),
      clock: systemClock,
      log: silentLogger,
      concurrency: 8,
    },
  );
  if (outcome.error) {
    ctx.err(`diff failed in ${outcome.failedPhase ?? 'reconcile'}: ${describeError(outcome.error)}\n`);
    return Exit.usage;
  }
  let changed = 0;
  for (const d of outcome.diffs.sort((a, b) => describeRef(a.planned.ref).localeCompare(describeRef(b.planned.ref)))) {
    if (d.state === 'inSync') continue;
    changed++;
    const label = describeRef(d.planned.ref);
    const before = d.live ? stringify(comparable(d.live)) : '';
    const after = d.merged ? stringify(comparable(d.merged)) : stringify(d.planned.object);
    ctx.out(`${d.state === 'missing' ? '+ create' : '~ update'} ${label}\n`);
    ctx.out(unifiedDiff(before, after, { from: `live/${label}`, to: `git/${label}` }));
  }
  for (const r of outcome.resources.filter((x) => x.message?.startsWith('no longer in Git'))) {
    changed++;
    ctx.out(`- prune ${describeRef(r)}\n`);
  }
  ctx.out(
    changed === 0
      ? `no differences with ${outcome.resolved?.revision ?? 'Git'}\n`
      : `${changed} objects differ from ${outcome.resolved?.revision ?? 'Git'}\n`,
  );
  return changed === 0 ? Exit.ok : Exit.difference;
}
