import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContinuousDeployment } from '../shared/api/continuous-deployment.ts';
import { isTidemarkError, terminal, toTidemarkError } from '../shared/errors/index.ts';
import type { Reason, TidemarkError } from '../shared/errors/index.ts';
import type { KubeClient } from '../shared/kube/client.ts';
import { isForbidden } from '../shared/kube/errors.ts';
import type { KubeObject, ObjectRef } from '../shared/kube/object.ts';
import type { Logger } from '../shared/log/index.ts';
import { silentLogger } from '../shared/log/index.ts';
import type { Clock } from '../shared/time/clock.ts';
import { systemClock } from '../shared/time/clock.ts';
import { readSecretData } from '../shared/kube/secrets.ts';
import { readConfigMapData } from '../shared/kube/config-maps.ts';
import { CrdFactsReader } from './crd-facts.ts';
import { createHealthAssessor } from './health-assessor.ts';
import { reconcile } from './reconcile/index.ts';
import { createRenderer } from './renderer.ts';
import { lazyRegistry } from './lazy-registry.ts';
import { createAgentSource, sourceCredentials } from './source.ts';
import { combineErrors, validateContinuousDeploymentSpec } from '../shared/spec/index.ts';
import { createTargetResolver } from './targets.ts';
import type { Phase } from './types.ts';

export interface PlanOptions {
  /** The cluster the ContinuousDeployment lives in; its `spec.kubeConfig` may name another one to deploy to. */
  kube: KubeClient;
  cd: ContinuousDeployment;
  /** Where Git checkouts are kept; a temporary directory when omitted. */
  cacheDir?: string | undefined;
  kustomizeCommand?: string[] | undefined;
  /** The helm executable for charts; default `helm` on PATH. */
  helmBinary?: string | undefined;
  /** The home cluster's name, as status.location shows it. */
  clusterName?: string | undefined;
  concurrency?: number | undefined;
  clock?: Clock | undefined;
  log?: Logger | undefined;
}

export interface PlannedCreate {
  ref: ObjectRef;
  /** What Git says. */
  desired: KubeObject;
  /** What the server would store (server-side dry-run), when it answered. */
  merged: KubeObject | undefined;
}

export interface PlannedUpdate extends PlannedCreate {
  live: KubeObject;
}

/** What a sync of one ContinuousDeployment would do now. Computing it writes nothing. */
export interface DeploymentPlan {
  revision: string | undefined;
  /** The cluster the plan was computed against. */
  cluster: string | undefined;
  create: PlannedCreate[];
  update: PlannedUpdate[];
  unchanged: ObjectRef[];
  /** Objects a sync would delete: they left Git and are still owned by this ContinuousDeployment. */
  prune: ObjectRef[];
  /** Why something would be held back (an empty render, drift left alone). */
  notes: Array<{ reason: Reason; message: string }>;
  /** Decrypted values and Secret-sourced variables in the desired objects: whoever shows the plan masks them. */
  sensitive: string[];
  /** Set when the plan could not be computed; the lists are then incomplete. */
  failure?: { phase: Phase | 'spec'; error: TidemarkError };
}

/**
 * A dry run of the reconcile: fetch, render, server-side dry-run against the deployment's own
 * target cluster (spec.kubeConfig honoured), and the prune decision, with every write left out.
 */
export async function planDeployment(options: PlanOptions): Promise<DeploymentPlan> {
  const clock = options.clock ?? systemClock;
  const log = options.log ?? silentLogger;
  const { cd, kube } = options;
  const plan: DeploymentPlan = {
    revision: undefined,
    cluster: undefined,
    create: [],
    update: [],
    unchanged: [],
    prune: [],
    notes: [],
    sensitive: [],
  };
  const read = validateContinuousDeploymentSpec(cd.spec);
  if (!read.ok) {
    plan.failure = { phase: 'spec', error: combineErrors(read.errors) };
    return plan;
  }
  const config = read.value;
  const namespace = cd.metadata.namespace ?? 'default';
  const targets = createTargetResolver(kube, { clock, log, homeName: options.clusterName, onObjectChange: () => undefined });
  const registry = lazyRegistry({ clock, logger: log, userAgent: 'tidemark' });
  try {
    const auth = config.secretRef ? sourceCredentials(config, await readCredentials(kube, namespace, config.secretRef)) : undefined;
    const target = await targets.resolve(cd, config);
    plan.cluster = target.name;
    const outcome = await reconcile(
      { cd, config, auth, syncRequested: false, windowBlocked: false, mode: 'plan' },
      {
        // No watch cache: a one-off plan reads what it needs.
        kube: target.kube,
        source: createAgentSource({ cacheDir: options.cacheDir ?? join(tmpdir(), 'tidemark-cli-cache'), log, registry }),
        render: createRenderer({ kustomizeCommand: options.kustomizeCommand, helmBinary: options.helmBinary, registry }),
        health: createHealthAssessor({ clock }),
        crds: new CrdFactsReader(clock),
        clock,
        log,
        concurrency: options.concurrency ?? 8,
        // As whoever runs the plan: their own rights decide which sources they may read.
        namespaceObjects: {
          configMap: (name) => readConfigMapData(kube.rest, namespace, name),
          secret: (name) =>
            readSecretData(kube.rest, namespace, name).catch((err: unknown) => {
              if (isTidemarkError(err) && err.code === 'SecretNotFound') return undefined;
              throw err;
            }),
        },
      },
    );
    plan.sensitive = outcome.sensitive ?? [];
    plan.revision = outcome.resolved?.revision;
    plan.notes = outcome.notes;
    for (const d of outcome.diffs) {
      const planned = { ref: d.planned.ref, desired: d.planned.object, merged: d.merged };
      if (d.state === 'missing') plan.create.push(planned);
      else if (d.state === 'drifted' && d.live) plan.update.push({ ...planned, live: d.live });
      else plan.unchanged.push(d.planned.ref);
    }
    plan.prune = outcome.pruneCandidates;
    if (outcome.error) plan.failure = { phase: outcome.failedPhase ?? 'plan', error: outcome.error };
  } catch (err) {
    plan.failure = { phase: plan.revision === undefined ? 'fetch' : 'plan', error: toTidemarkError(err) };
  } finally {
    await registry.close();
    await targets.close();
  }
  return plan;
}

/**
 * The deployment's Git credentials, read as whoever plans (a console user plans with their own
 * token): a refusal says plainly that the credentials are out of reach, not that Git failed.
 */
async function readCredentials(kube: KubeClient, namespace: string, name: string): Promise<Record<string, string>> {
  try {
    return await readSecretData(kube.rest, namespace, name, { field: 'spec.secretRef' });
  } catch (err) {
    if (!isForbidden(err)) throw err;
    throw terminal(
      'Forbidden',
      `cannot read the credentials: forbidden (Secret ${namespace}/${name}, spec.secretRef): ${(err as Error).message}`,
      `comparing with Git needs the right to get this Secret; ask for it, or compare as someone who has it`,
      err,
    );
  }
}
