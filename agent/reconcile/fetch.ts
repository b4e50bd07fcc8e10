import type { KubeObject } from '../../shared/kube/object.ts';
import { isPlainDirectory, type RenderKey } from '../render-cache.ts';
import type { Checkout, ResolvedRevision } from '../types.ts';
import type { ReconcileInput, StepContext } from './context.ts';
import type { Reason } from '../../shared/errors/index.ts';
import type { ChartSettings } from '../render/index.ts';
import type { RepositoryAuth } from '../render/chart-repository.ts';
import { terminal } from '../../shared/errors/index.ts';

/** Asks Git for the revision; a commit already rendered needs neither its checkout nor a parse. */
export async function fetchRevision(
  ctx: StepContext,
  /** Told the revision before the checkout, so a checkout that fails still reports what it attempted. */
  onResolved?: (resolved: ResolvedRevision) => void,
): Promise<{ resolved: ResolvedRevision; rendered: KubeObject[] | undefined; checkout: Checkout | undefined }> {
  const { input, deps } = ctx;
  const resolved = await resolveWithChart(ctx);
  onResolved?.(resolved);
  // spec.helm is not in the key (and a chart from a repository changes without a commit): never from the cache.
  const rendered = input.config.helm ? undefined : deps.renderCache?.get(renderKey(ctx, resolved));
  if (rendered) return { resolved, rendered, checkout: undefined };
  const checkout = await deps.source.checkout(input.config, input.auth, resolved, deps.signal);
  return { resolved, rendered: undefined, checkout };
}

/**
 * A Git source whose spec.helm.chart comes from a Helm repository: the chart is resolved with the
 * commit (by the repoType helm source) and the revision names both —
 * `main@sha1:<sha>+<chart>-<version>@sha256:<digest>` — so a new chart version is a new revision
 * (hooks run; status, Events and history show it) though Git did not move. The render then takes
 * exactly that version, not whatever the range admits a moment later.
 */
async function resolveWithChart(ctx: StepContext): Promise<ResolvedRevision> {
  const { input, deps } = ctx;
  const { config } = input;
  const chart = config.helm?.chart;
  if (config.repoType !== 'git' || !chart) return deps.source.resolve(config, input.auth, deps.signal);
  // The chart first, the commit last: the run's revision for a newer commit's check is the commit's.
  const auth = chart.secretRef === undefined ? undefined : await readRepositoryAuth(ctx, chart.secretRef);
  const chartConfig = { ...config, repoType: 'helm' as const, url: chart.repository };
  const pinned = await deps.source.resolve(chartConfig, auth, deps.signal);
  const resolved = await deps.source.resolve(config, input.auth, deps.signal);
  // A run that repairs drift reuses the last revision (controller.ts sourceFor): already combined.
  if (pinned.chart !== undefined || resolved.chart !== undefined) return resolved;
  return {
    ...resolved,
    revision: `${resolved.revision}+${chart.name}-${pinned.revision}`,
    chart: { version: pinned.ref, digest: pinned.sha },
  };
}

/** Turns the checkout into desired objects; plain directories are remembered by repository, credentials, commit and path. */
/**
 * The checkout is held until the render is over (pruning leaves it alone meanwhile) and released
 * whatever happens. Only a render that ran to its end is cached: not one that threw, nor one
 * whose run was aborted meanwhile.
 */
export async function renderRevision(
  ctx: StepContext,
  resolved: ResolvedRevision,
  checkout: Checkout,
  /** Runs on the checkout after the render, before it is released (SOPS source verification). */
  inspect?: (dir: string) => Promise<void>,
  /** Where the render's notes go (Helm hooks it skipped): Warning Events. */
  notes?: Array<{ reason: Reason; message: string }>,
): Promise<KubeObject[]> {
  const { input, deps } = ctx;
  try {
    const chart = chartSettings(input);
    const chartSecret = input.config.helm?.chart?.secretRef;
    if (chartSecret !== undefined) chart.auth = await readRepositoryAuth(ctx, chartSecret);
    const pinned = chart.spec?.chart && resolved.chart ? resolved.chart.version : undefined;
    if (pinned !== undefined && chart.spec?.chart) chart.spec = { ...chart.spec, chart: { ...chart.spec.chart, version: pinned } };
    const rendered = await deps.render(checkout.dir, input.config.path, deps.signal, input.config.timeoutMs, {
      chart,
      report: (note) => notes?.push(note),
    });
    deps.signal?.throwIfAborted();
    if (inspect) await inspect(checkout.dir);
    if (deps.renderCache && !input.config.helm && (await isPlainDirectory(checkout.dir, input.config.path))) {
      deps.renderCache.set(renderKey(ctx, resolved), rendered);
    }
    return rendered;
  } finally {
    checkout.release();
  }
}

/** spec.helm with the deployment's defaults: release name its name, namespace its target (Argo CD does the same). */
export function chartSettings(input: Pick<ReconcileInput, 'cd' | 'config'>): ChartSettings {
  const { cd, config } = input;
  // repoType helm: the source fetched the chart and the checkout is its directory, rendered as a chart from Git is.
  const spec = config.repoType === 'helm' && config.helm ? { ...config.helm, chart: undefined } : config.helm;
  return {
    spec,
    releaseName: config.helm?.releaseName ?? cd.metadata.name,
    namespace: config.helm?.namespace ?? config.targetNamespace ?? cd.metadata.namespace ?? 'default',
  };
}

/** `username` and `password` of spec.helm.chart.secretRef, read as the deployment's identity. */
async function readRepositoryAuth(ctx: StepContext, name: string): Promise<RepositoryAuth> {
  const field = 'spec.helm.chart.secretRef';
  const where = `Secret ${ctx.owner.namespace}/${name} (${field})`;
  if (!ctx.deps.namespaceObjects) throw terminal('InternalError', 'no reader for the Secrets the spec names');
  const data = await ctx.deps.namespaceObjects.secret(name);
  if (!data) throw terminal('SecretNotFound', `${where} not found`, `create the Secret or fix ${field}`);
  const { username, password } = data;
  if (!username || password === undefined) {
    throw terminal('InvalidSecret', `${where} has no username and password`, 'set the keys username and password');
  }
  return { username, password };
}

/** The repository and credentials are part of the key: a commit SHA from another tenant's repository finds nothing. */
function renderKey(ctx: StepContext, resolved: ResolvedRevision): RenderKey {
  return { url: ctx.input.config.url, credentials: ctx.input.auth, sha: resolved.sha, path: ctx.input.config.path };
}
