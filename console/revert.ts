import { userInfo } from 'node:os';
import type { ContinuousDeployment, SyncHistoryEntry } from '../shared/api/continuous-deployment.ts';
import { Annotations } from '../shared/api/constants.ts';
import { LruMap } from '../shared/cache/lru.ts';
import { isTidemarkError } from '../shared/errors/index.ts';
import { credentialsFromSecretData, KeyedMutex, probePushAccess, revertOntoBranch, validateRepositoryUrl } from '../shared/git/index.ts';
import type { GitCredentials, PushAccess, RevertOutcome, RevertRequest } from '../shared/git/index.ts';
import { KubeApiError } from '../shared/kube/errors.ts';
import type { Logger } from '../shared/log/index.ts';
import { DEFAULT_AUTHOR, DEPLOYMENT_DEFAULTS } from '../shared/spec/index.ts';
import type { Clock } from '../shared/time/clock.ts';
import { CD_RESOURCE } from './kube.ts';
import type { ConsoleKube } from './kube.ts';

/** One history entry's Revert button: enabled, or disabled with the reason the page shows beside it. */
export interface RevertChoice {
  revision: string;
  reason: string | undefined;
}

/** What the details page needs for its Revert buttons. */
export interface RevertView {
  /** Why no entry can be reverted (the source, the credential, the user's rights); undefined when some can. */
  reason: string | undefined;
  /** The branch a revert is pushed to. */
  branch: string | undefined;
  /** In the order of status.history (newest first). */
  entries: RevertChoice[];
  /** The push probe could not tell whether the credential may write: the push will say. */
  note: string | undefined;
}

/** A Git revision as the agent records it: `main@sha1:<sha>`, `sha1:<sha>`, perhaps `+<chart>` after it. */
export function commitOfRevision(revision: string): { ref: string; sha: string } | undefined {
  const match = /^(?:(.*?)@)?sha1:([0-9a-f]{40})(?:\+.*)?$/.exec(revision);
  return match ? { ref: match[1] ?? '', sha: match[2] ?? '' } : undefined;
}

/**
 * Why this deployment's history cannot be reverted from here, from its spec alone; undefined when
 * it can be. A revert is a commit on the branch the deployment follows: anything else would not
 * be deployed, or is no Git history at all.
 */
export function sourceProblem(cd: ContinuousDeployment): string | undefined {
  if (cd.metadata.deletionTimestamp !== undefined) return 'The deployment is being deleted.';
  const repoType = cd.spec.repoType ?? 'git';
  if (repoType === 'oci') return 'The source is an OCI artifact, not Git: there is no commit to revert.';
  if (repoType !== 'git') return 'The source is a Helm chart repository, not Git: there is no commit to revert.';
  const ref = cd.spec.git;
  if (ref?.commit) return 'The deployment is pinned to one commit (spec.git.commit): a revert on a branch would not be deployed.';
  if (ref?.tag) return `The deployment follows tag ${ref.tag}, not a branch: a revert commit would not be deployed.`;
  if (ref?.semver) return 'The deployment follows semver tags, not a branch: a revert commit would not be deployed.';
  let kind: string;
  try {
    kind = validateRepositoryUrl(cd.spec.url).kind;
  } catch {
    return 'The repository URL is not valid.';
  }
  if (kind === 'file') return 'The repository is a local path (file://): the console pushes only to Git servers.';
  if (!cd.spec.secretRef) return 'No credentials: spec.secretRef is not set, and a push needs them.';
  return undefined;
}

/**
 * The branch the deployment follows: with no ref, the spec reader's default, as the agent does. (The
 * whole reader is not run here: it compiles CEL expressions the console has no use for.)
 */
export function followedBranch(cd: ContinuousDeployment): string {
  return cd.spec.git?.branch ?? DEPLOYMENT_DEFAULTS.branch;
}

/**
 * Why one entry cannot be reverted; undefined when it can. The current tip's own revert of the
 * entry is recognised by its subject, as git writes it (`Revert "<subject>"`).
 */
export function entryProblem(cd: ContinuousDeployment, entry: SyncHistoryEntry): string | undefined {
  const commit = commitOfRevision(entry.revision);
  if (!commit) return 'This entry names no Git commit.';
  const branch = followedBranch(cd);
  if (commit.ref !== '' && commit.ref !== branch)
    return `This commit was deployed from ${commit.ref}; the deployment now follows ${branch}.`;
  const tip = commitOfRevision(cd.status?.sync?.revision ?? cd.status?.lastAppliedRevision ?? '');
  const tipEntry = tip ? cd.status?.history?.find((h) => commitOfRevision(h.revision)?.sha === tip.sha) : undefined;
  if (tip && tip.sha !== commit.sha && entry.subject && tipEntry?.subject === `Revert "${entry.subject}"`) {
    return 'Already reverted: the current revision is its revert.';
  }
  return undefined;
}

export interface ReverterOptions {
  clock: Clock;
  log: Logger;
  /** Who asks, when the API server cannot say (local use: the account running the console). */
  localUser: string | undefined;
  /** How long a push probe's answer is kept per deployment and Secret version; default 60 s. */
  probeTtlMs?: number | undefined;
  /** Tests replace the Git side; default the real clone, revert and push. */
  probe?: ((url: string, creds: GitCredentials | undefined, insecure: boolean) => Promise<PushAccess>) | undefined;
  revert?: ((request: RevertRequest) => Promise<RevertOutcome>) | undefined;
}

/** An answer for the page: its HTTP status and JSON body. */
export interface RevertAnswer {
  status: number;
  body: Record<string, unknown>;
}

interface Readiness {
  cd: ContinuousDeployment;
  reason: string | undefined;
  /** The reason is the API server's refusal of the user's rights, not the deployment's state. */
  forbidden?: boolean;
  note: string | undefined;
  creds: GitCredentials | undefined;
}

/**
 * Revert on a history entry, the GitOps way: a `git revert` commit pushed with the deployment's own
 * credentials, read with the user's client (who cannot read the Secret cannot revert), by a user
 * the API server lets update the deployment; then a sync request. Nothing here ever puts a value
 * of the Secret into an answer or a log line: only reasons and the repository's URL.
 */
export class ConsoleReverter {
  private readonly options: ReverterOptions;
  private readonly probes = new LruMap<string, { at: number; access: PushAccess }>(256);
  private readonly running = new KeyedMutex();

  constructor(options: ReverterOptions) {
    this.options = options;
  }

  /** GET: the page's Revert buttons, each enabled or with its reason. */
  async choices(kube: ConsoleKube, namespace: string, name: string): Promise<RevertAnswer> {
    const ready = await this.readiness(kube, namespace, name);
    if ('status' in ready) return ready;
    const view: RevertView = {
      reason: ready.reason,
      branch: ready.reason === undefined ? followedBranch(ready.cd) : undefined,
      entries: (ready.cd.status?.history ?? []).map((entry) => ({
        revision: entry.revision,
        reason: ready.reason ?? entryProblem(ready.cd, entry),
      })),
      note: ready.note,
    };
    return { status: 200, body: { ...view } };
  }

  /** POST {revision}: revert that entry's commit onto the branch, push, and request a sync. */
  async revert(kube: ConsoleKube, namespace: string, name: string, body: unknown): Promise<RevertAnswer> {
    const revision = typeof body === 'object' && body !== null && 'revision' in body ? body.revision : undefined;
    if (typeof revision !== 'string') return refusal(400, 'BadRequest', 'expected {"revision": "..."}');
    const cdRef = `${namespace}/${name}`;
    return this.running.run(cdRef, async () => {
      const ready = await this.readiness(kube, namespace, name);
      if ('status' in ready) return ready;
      if (ready.reason !== undefined)
        return ready.forbidden ? refusal(403, 'Forbidden', ready.reason) : refusal(422, 'RevertNotPossible', ready.reason);
      const entry = ready.cd.status?.history?.find((h) => h.revision === revision);
      if (!entry) return refusal(422, 'RevertNotPossible', `${revision} is not in the deployment's sync history`);
      const problem = entryProblem(ready.cd, entry);
      const commit = commitOfRevision(entry.revision);
      if (problem !== undefined || !commit) return refusal(422, 'RevertNotPossible', problem ?? 'This entry names no Git commit.');
      const user = await this.userOf(kube);
      const branch = followedBranch(ready.cd);
      const revert = this.options.revert ?? revertOntoBranch;
      let outcome: RevertOutcome;
      try {
        outcome = await revert({
          url: ready.cd.spec.url,
          credentials: ready.creds,
          allowInsecureHttp: ready.cd.spec.insecure === true,
          branch,
          sha: commit.sha,
          requestedBy: user,
          committer: DEFAULT_AUTHOR,
          log: this.options.log,
        });
      } catch (err) {
        if (!isTidemarkError(err)) throw err;
        this.options.log.info({ cd: cdRef, revision, reason: err.code }, 'console: revert failed');
        // Git's output is scrubbed of the credential before it becomes a message (shared/git/run.ts).
        const status = err.code === 'GitRevertConflict' ? 409 : 502;
        const error = err.hint ? `${err.message} — ${err.hint}` : err.message;
        return { status, body: { error, reason: err.code, ...(err.hint ? { hint: err.hint } : {}) } };
      }
      this.options.log.info({ cd: cdRef, revision, commit: outcome.commit, branch, attempts: outcome.attempts }, 'console: reverted');
      const pushed = { commit: outcome.commit, base: outcome.base, branch, attempts: outcome.attempts };
      const requestedAt = new Date(this.options.clock.now()).toISOString();
      try {
        await kube.patchCd(namespace, name, {
          metadata: { annotations: { [Annotations.requestedAt]: requestedAt, [Annotations.requestedBy]: `console/${user}` } },
        });
      } catch (err) {
        // The revert is in Git either way: say so, and that the agent will find it at its next poll.
        const why = err instanceof Error ? err.message : String(err);
        return { status: 200, body: { ...pushed, syncProblem: `the sync request failed (${why}); the agent deploys it at its next poll` } };
      }
      return { status: 200, body: { ...pushed, requestedAt } };
    });
  }

  /** The deployment, and why it cannot be reverted (or the answer that ends the request: 404). */
  private async readiness(kube: ConsoleKube, namespace: string, name: string): Promise<Readiness | RevertAnswer> {
    const cd = await kube.getCd(namespace, name);
    if (!cd) return refusal(404, 'NotFound', `ContinuousDeployment ${namespace}/${name} not found`);
    const ready = (reason: string | undefined, creds?: GitCredentials, note?: string): Readiness => ({ cd, reason, creds, note });
    const source = sourceProblem(cd);
    if (source !== undefined) return ready(source);
    if (!kube.readSecret) return ready('This console cannot read credentials.');
    // Whoever pushes to Git through the console must be allowed to change the deployment itself.
    const rights = await Promise.all(
      (['update', 'patch'] as const).map((verb) => kube.port.canI({ verb, resource: CD_RESOURCE, namespace, name })),
    );
    if (rights.some((r) => !r.allowed)) {
      return { ...ready('You may not change this deployment (update and patch), so you may not revert it.'), forbidden: true };
    }
    const secretName = cd.spec.secretRef ?? '';
    const field = `Secret ${namespace}/${secretName} (spec.secretRef)`;
    let secret: { data: Record<string, string>; resourceVersion: string } | undefined;
    try {
      secret = await kube.readSecret(namespace, secretName);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 403) {
        return { ...ready(`You may not read the ${field} that holds the credentials.`), forbidden: true };
      }
      throw err;
    }
    if (!secret) return ready(`The ${field} does not exist.`);
    let creds: GitCredentials | undefined;
    try {
      creds = credentialsFromSecretData(secret.data);
    } catch (err) {
      return ready(`The ${field} cannot be used: ${isTidemarkError(err) ? err.message : 'its keys are not Git credentials'}.`);
    }
    if (!creds || !('username' in creds || 'bearerToken' in creds || 'identity' in creds)) {
      return ready(`The ${field} holds no username and password, token or SSH key to push with.`);
    }
    const key = `${namespace}/${name}|${secretName}@${secret.resourceVersion}|${cd.spec.url}|${cd.spec.insecure === true}`;
    const access = await this.probe(key, cd, creds);
    if (access.writable === false) return ready(`The credential in the ${field} cannot push: ${access.reason ?? 'refused'}.`);
    return ready(undefined, creds, access.writable === undefined ? access.reason : undefined);
  }

  /** The receive-pack probe, kept a short while per deployment and Secret version (a changed Secret asks again). */
  private async probe(key: string, cd: ContinuousDeployment, creds: GitCredentials): Promise<PushAccess> {
    const now = this.options.clock.now();
    const cached = this.probes.get(key);
    if (cached && now - cached.at < (this.options.probeTtlMs ?? 60_000)) return cached.access;
    const insecure = cd.spec.insecure === true;
    const access = this.options.probe
      ? await this.options.probe(cd.spec.url, creds, insecure)
      : await probePushAccess(cd.spec.url, creds, { allowInsecureHttp: insecure });
    this.probes.set(key, { at: now, access });
    return access;
  }

  /** The `Reverted-by` name: the API server's word on the user when it can say, else the local account. */
  private async userOf(kube: ConsoleKube): Promise<string> {
    const name = await kube.whoAmI?.().catch(() => undefined);
    return name ?? this.options.localUser ?? 'a console user';
  }
}

/** The account running this process, for local use; undefined where the system has no name for it. */
export function localAccount(): string | undefined {
  try {
    return userInfo().username || undefined;
  } catch {
    return undefined;
  }
}

function refusal(status: number, reason: string, error: string): RevertAnswer {
  return { status, body: { error, reason } };
}
