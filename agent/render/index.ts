import { realpath, stat } from 'node:fs/promises';
import { terminal } from '../../shared/errors/index.ts';
import { objectKey, refOf } from '../../shared/kube/object.ts';
import type { Clock } from '../../shared/time/clock.ts';
import type { KustomizeOptions } from './kustomize.ts';
import { renderKustomization } from './kustomize.ts';
import { findKustomizationFile } from './kustomization-refs.ts';
import type { ChartSettings, HelmOptions, RenderNote } from './helm.ts';
import { isChartDirectory, renderChart, renderRepositoryChart } from './helm.ts';
import type { RenderLimitOptions, RenderStats } from './limits.ts';
import { RenderBudget } from './limits.ts';
import { describeSource } from './manifests.ts';
import { label, resolveInside } from './paths.ts';
import { renderPlainDirectory } from './plain.ts';
import { refuseSubmodules } from './submodules.ts';
import type { RenderedObject } from './types.ts';

export type { KustomizeOptions } from './kustomize.ts';
export type { ChartSettings, HelmOptions, RenderNote } from './helm.ts';
export { CHART_FILE, isChartDirectory } from './helm.ts';
export { KUSTOMIZATION_FILES } from './kustomization-refs.ts';
export { DEFAULT_RENDER_LIMITS, emptyStats } from './limits.ts';
export type { RenderLimitOptions, RenderLimits, RenderStats } from './limits.ts';
export { parseManifests } from './manifests.ts';
export type { ObjectSource, RenderedObject } from './types.ts';
export { parseYaml } from './yaml.ts';

export interface RenderOptions {
  kustomize?: KustomizeOptions | undefined;
  /** How helm is run for a chart (a path with Chart.yaml). */
  helm?: HelmOptions | undefined;
  /** spec.helm and the release's name and namespace; without it a chart renders as release "release" in "default". */
  chart?: ChartSettings | undefined;
  /** Told what the render left out on purpose (Helm hooks with no sync equivalent). */
  report?: ((note: RenderNote) => void) | undefined;
  /** Files, bytes, objects and time one render may take (limits.ts); defaults for any left out. */
  limits?: RenderLimitOptions | undefined;
  /** Stops the render (and kills a running kustomize) with the signal's reason. */
  signal?: AbortSignal | undefined;
  /** The clock of the deadline; default the system's. */
  clock?: Pick<Clock, 'now'> | undefined;
  /** Filled in as the render goes: what it read and made (for tests and logs). */
  stats?: RenderStats | undefined;
}

/**
 * The desired objects at `path` (default the checkout root) of a checkout: through `helm template`
 * when that directory holds a Chart.yaml, through kustomize when it holds a kustomization (only
 * there, as in Flux and Argo CD), otherwise every manifest below it, read natively. Either the
 * whole list or a terminal error — never a partial list. An empty list is not an error: whether rendering nothing is acceptable is the
 * reconciler's call.
 *
 * Objects come back as written: no namespace defaulting (that needs discovery, so the planner
 * does it). Duplicates are refused here when both copies carry the same namespace (or none);
 * defaulting may reveal more, which the planner checks.
 *
 * Every render is bounded (files, bytes, objects, a deadline: `options.limits`); past a bound it
 * fails with a terminal RenderTooLarge naming the limit. A directory holding a Git submodule is
 * GitSubmoduleUnsupported (submodules are never fetched).
 */
export async function renderPath(checkoutDir: string, path = './', options: RenderOptions = {}): Promise<RenderedObject[]> {
  const root = await realpath(checkoutDir);
  const dir = await resolveInside(root, path || './');
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(dir)).isDirectory();
  } catch {
    throw terminal('PathNotFound', `path ${JSON.stringify(path)} does not exist in the repository`, 'fix spec.path');
  }
  if (!isDirectory)
    throw terminal(
      'PathNotFound',
      `path ${JSON.stringify(path)} is not a directory`,
      'spec.path names a directory of manifests or a kustomization',
    );
  const budget = new RenderBudget(label(root, dir), {
    limits: options.limits,
    clock: options.clock,
    signal: options.signal ?? options.kustomize?.signal,
    stats: options.stats,
  });
  await refuseSubmodules(root, dir, budget);
  const chart = await isChartDirectory(dir);
  if (options.chart?.spec?.chart) {
    const rendered = await renderRepositoryChart(root, dir, budget, options.chart, options.helm, options.report);
    refuseDuplicates(rendered);
    return rendered;
  }
  if (!chart && options.chart?.spec) {
    throw terminal(
      'PathNotFound',
      `spec.helm is set, but ${JSON.stringify(path)} has no Chart.yaml`,
      'point spec.path at the chart directory',
    );
  }
  const rendered = chart
    ? await renderChart(root, dir, budget, options.chart ?? DEFAULT_CHART, options.helm, options.report)
    : (await findKustomizationFile(dir))
      ? await renderKustomization(root, dir, budget, options.kustomize)
      : await renderPlainDirectory(root, dir, budget);
  refuseDuplicates(rendered);
  return rendered;
}

const DEFAULT_CHART: ChartSettings = { spec: undefined, releaseName: 'release', namespace: 'default' };

function refuseDuplicates(rendered: RenderedObject[]): void {
  const seen = new Map<string, RenderedObject>();
  for (const item of rendered) {
    // A hook with only a generateName is named at sync time, uniquely.
    if (item.object.metadata.name === '') continue;
    const key = objectKey(refOf(item.object));
    const first = seen.get(key);
    if (first) {
      const o = item.object;
      const name = `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
      throw terminal(
        'DuplicateObject',
        `${name} is defined twice: ${describeSource(first.source)} and ${describeSource(item.source)}`,
        'remove one of the copies from Git',
      );
    }
    seen.set(key, item);
  }
}
