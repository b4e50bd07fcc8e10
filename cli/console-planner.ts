import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { planDeployment } from '../agent/index.ts';
import type { CdPlanner, CommitView, SessionPlanner } from '../console/index.ts';
import { isBotCommit } from '../console/index.ts';
import { describeError, toTidemarkError } from '../shared/errors/index.ts';
import { readCachedCommit } from '../shared/git/commit-summary.ts';
import type { KubeClient } from '../shared/kube/client.ts';
import type { Logger } from '../shared/log/index.ts';
import { planChanges } from './commands/diff.ts';

/**
 * The console's comparison with Git: the plan `tidemark diff` computes (the agent's own fetch,
 * render and server-side dry run, Secret values masked), with the user's credentials, plus the
 * subject and author of the commit it was computed from (read from the Git cache the plan filled).
 */
export function consolePlanner(kube: KubeClient, options: { cacheDir: string; log: Logger }): CdPlanner {
  return async (cd) => {
    const plan = await planDeployment({ kube, cd, cacheDir: options.cacheDir, log: options.log });
    const sha = /sha1:([0-9a-f]{40})$/.exec(plan.revision ?? '')?.[1];
    let commit: CommitView | undefined;
    if (sha) {
      try {
        const summary = await readCachedCommit(options.cacheDir, cd.spec.url, sha);
        commit = {
          sha,
          subject: summary.subject,
          author: summary.author.name,
          authoredAt: summary.authoredAt,
          bot: isBotCommit({ subject: summary.subject, authorEmail: summary.author.email }),
        };
      } catch (err) {
        // The comparison still stands without the commit's words; the log says why they are missing.
        options.log.warn(
          { err: describeError(toTidemarkError(err)), cd: `${cd.metadata.namespace}/${cd.metadata.name}` },
          'console: commit not readable',
        );
      }
    }
    return {
      revision: plan.revision ?? '',
      commit,
      changes: planChanges(plan),
      notes: plan.notes,
      problem: plan.failure ? `${plan.failure.phase} failed: ${describeError(plan.failure.error)}` : undefined,
    };
  };
}

/**
 * In-cluster, each session plans with its user's client and its own Git cache: a checkout fetched
 * with one user's credentials is never read by another session, and the cache goes with the session.
 */
export function sessionPlanner(kube: KubeClient, options: { cacheRoot: string; log: Logger }): SessionPlanner {
  // Made at the first comparison: a login that fails, or a session that never compares, leaves nothing.
  let planner: { cacheDir: string; plan: CdPlanner } | undefined;
  return {
    plan: (cd) => {
      if (!planner) {
        const cacheDir = mkdtempSync(join(options.cacheRoot, 'session-'));
        planner = { cacheDir, plan: consolePlanner(kube, { cacheDir, log: options.log }) };
      }
      return planner.plan(cd);
    },
    close: () => Promise.resolve(planner && rmSync(planner.cacheDir, { recursive: true, force: true, maxRetries: 3 })),
  };
}
