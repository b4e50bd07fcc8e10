import { lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { planDeployment } from '../agent/index.ts';
import type { CdPlanner, CommitView, SessionPlanner } from '../console/index.ts';
import { isBotCommit } from '../console/index.ts';
import { describeError, toTidemarkError } from '../shared/errors/index.ts';
import { readCachedCommit } from '../shared/git/commit-summary.ts';
import { processAlive } from '../shared/git/temp-dirs.ts';
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
export function sessionPlanner(
  kube: KubeClient,
  options: { cacheRoot: string; log: Logger; plannerIn?: (cacheDir: string) => CdPlanner },
): SessionPlanner {
  const plannerIn = options.plannerIn ?? ((cacheDir: string) => consolePlanner(kube, { cacheDir, log: options.log }));
  // Made at the first comparison: a login that fails, or a session that never compares, leaves nothing.
  let planner: { cacheDir: string; plan: CdPlanner } | undefined;
  const remove = () => planner && rmSync(planner.cacheDir, { recursive: true, force: true, maxRetries: 3 });
  let closed = false;
  return {
    plan: (cd) => {
      if (!planner) {
        const cacheDir = mkdtempSync(join(options.cacheRoot, sessionPrefix(ownerOf(process.pid))));
        planner = { cacheDir, plan: plannerIn(cacheDir) };
      }
      const running = planner.plan(cd);
      // A fetch still writing when the session closed could put files back after the removal.
      const again = () => {
        if (!closed) return;
        try {
          remove();
        } catch (err) {
          // Left for the next start's sweep; a failed removal must not take the console down.
          options.log.warn({ err: describeError(toTidemarkError(err)) }, 'console: session cache not removed');
        }
      };
      running.then(again, again);
      return running;
    },
    close: () => {
      closed = true;
      return Promise.resolve(void remove());
    },
  };
}

/** Who made a session cache: this host (a Pod's name) and process, so a sweep never takes a live console's. */
interface CacheOwner {
  host: string;
  pid: number;
}

function ownerOf(pid: number): CacheOwner {
  // Only characters a directory name and the pattern below can carry.
  return {
    host:
      hostname()
        .replace(/[^A-Za-z0-9.]/g, '_')
        .slice(0, 63) || 'host',
    pid,
  };
}

function sessionPrefix(owner: CacheOwner): string {
  return `session-${owner.host}-${owner.pid}-`;
}

/** mkdtemp's six-character suffix after `session-HOST-PID-`. */
const SESSION_DIR = /^session-([A-Za-z0-9._]+)-(\d+)-[A-Za-z0-9]{6}$/;

/**
 * At console start: removes the session caches a console on this host left behind — one that
 * crashed, or a session closed while a fetch was still writing. Only directories directly under
 * `cacheRoot` whose names this module makes, owned by this user, made on this host by a process
 * that is gone or by an earlier life of this pid (a restarted container is pid 1 again). A
 * console running beside this one on the same cache root keeps its caches.
 *
 * Assumes one PID namespace per hostname on a cache root: a pid is only checked for life in this
 * namespace, and this pid's own number stands for an earlier life of this console. A Pod's
 * hostname is its name, unique in its namespace, and the chart gives each console Pod its own
 * emptyDir, so this holds unless two consoles that share a hostname (hostNetwork, or a fixed
 * `hostname:`) are given one cache volume. A random id per process in the name would not help:
 * an earlier life of this container and a live console in another PID namespace look the same
 * from here, so the sweep would have to keep both (and a crash-looping console's caches would
 * pile up) or take both.
 *
 * An entry that cannot be examined or removed is logged and left; the sweep goes on and never
 * throws for it, so a stuck directory cannot keep the console from starting.
 */
export function sweepSessionCaches(
  cacheRoot: string,
  options: { log: Logger; pid?: number; alive?: (pid: number) => boolean; remove?: (path: string) => void },
): string[] {
  const me = ownerOf(options.pid ?? process.pid);
  const alive = options.alive ?? processAlive;
  const remove = options.remove ?? ((path: string) => rmSync(path, { recursive: true, force: true, maxRetries: 3 }));
  const uid = process.getuid?.();
  const removed: string[] = [];
  for (const name of readdirSync(cacheRoot)) {
    const match = SESSION_DIR.exec(name);
    if (!match || match[1] !== me.host) continue;
    const pid = Number(match[2]);
    if (pid !== me.pid && alive(pid)) continue;
    const path = join(cacheRoot, name);
    try {
      const stat = lstatSync(path, { throwIfNoEntry: false });
      // Never through a link, never another user's.
      if (!stat?.isDirectory() || (uid !== undefined && stat.uid !== uid)) continue;
      remove(path);
      removed.push(name);
    } catch (err) {
      // EACCES, EPERM, EBUSY: the next start tries again; the console starts all the same.
      options.log.warn({ err: describeError(toTidemarkError(err)), cacheRoot, dir: name }, 'console: stale session cache not removed');
    }
  }
  if (removed.length > 0) options.log.info({ cacheRoot, removed: removed.length }, 'console: stale session caches removed');
  return removed;
}
