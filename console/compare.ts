import type { ContinuousDeployment } from '../shared/api/continuous-deployment.ts';
import { BOT_COMMIT_PREFIX } from '../shared/api/constants.ts';
import { DEFAULT_AUTHOR } from '../shared/spec/index.ts';

/** One object a sync would change, with its diff (Secret values already masked by the planner). */
export interface ObjectChange {
  action: 'create' | 'update' | 'prune';
  /** `Deployment/shop/web`. */
  object: string;
  /** A unified diff, live → Git; empty for a prune. */
  diff: string;
}

/** A commit as the details page shows it. */
export interface CommitView {
  sha: string;
  subject: string;
  author: string;
  authoredAt: string;
  /** Written by the image updater, not a person. */
  bot: boolean;
}

/** The details page's comparison of the cluster with Git now. */
export interface CdComparison {
  /** What Git has now (`main@sha1:…`); empty when the plan failed before reading it. */
  revision: string;
  commit: CommitView | undefined;
  changes: ObjectChange[];
  notes: Array<{ reason: string; message: string }>;
  /** Why the comparison is incomplete, when it is. */
  problem: string | undefined;
}

/**
 * Computes what a sync would change now, with the user's credentials and nothing written. The
 * agent's planner does it; `tidemark dashboard` injects it (console/ imports only shared/).
 */
export type CdPlanner = (cd: ContinuousDeployment) => Promise<CdComparison>;

/**
 * The image updater's commits: its message starts with the fixed first line, or its default
 * author wrote it. A custom message template may drop the line, so the author counts too.
 */
export function isBotCommit(commit: { subject: string; authorEmail: string }): boolean {
  return commit.subject.startsWith(BOT_COMMIT_PREFIX) || commit.authorEmail === DEFAULT_AUTHOR.email;
}
