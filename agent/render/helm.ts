import { constants } from 'node:fs';
import { copyFile, mkdir, mkdtemp, opendir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { terminal, transient } from '../../shared/errors/index.ts';
import { isObject } from '../../shared/kube/object.ts';
import type { HelmSpec } from '../../shared/spec/helm.ts';
import { findExecutable, runBounded } from './kustomize.ts';
import type { RenderBudget } from './limits.ts';
import { readFileWithin } from './limits.ts';
import { parseManifests } from './manifests.ts';
import { isWithin, label, outside, resolveInside } from './paths.ts';
import { manifestTooLarge, MAX_KUSTOMIZE_OUTPUT_BYTES } from './size-limits.ts';
import type { RenderedObject } from './types.ts';
import { parseYaml } from './yaml.ts';
import { describeSkippedHooks, mapHelmHook, type SkippedHook } from './helm-hooks.ts';
import { fetchChart, type RepositoryAuth } from './chart-repository.ts';
import { fetchOciChart, type ChartRegistry } from './chart-oci.ts';

/** What the agent knows besides spec.helm: the binary, and the defaults that come from the deployment. */
export interface HelmOptions {
  /** The helm executable (`--helm-binary`); default `helm` looked up on `searchPath`. */
  binary?: string | undefined;
  searchPath?: string | undefined;
  /** A bound of `helm template` alone; the render's deadline applies anyway. */
  timeoutMs?: number | undefined;
  /** The shared registry client, for oci:// charts. */
  registry?: ChartRegistry | undefined;
}

/** One chart render: spec.helm with the deployment's defaults resolved. */
export interface ChartSettings {
  spec: HelmSpec | undefined;
  /** spec.helm.releaseName, else the ContinuousDeployment's name. */
  releaseName: string;
  /** spec.helm.namespace, else spec.targetNamespace, else the deployment's namespace. */
  namespace: string;
  /** From spec.helm.chart.secretRef, for a chart from a Helm repository. */
  auth?: RepositoryAuth | undefined;
}

export interface RenderNote {
  reason: 'HelmHookSkipped';
  message: string;
}

export const CHART_FILE = 'Chart.yaml';
const MAX_STDERR_SHOWN = 1024;

export async function isChartDirectory(dir: string): Promise<boolean> {
  try {
    return (await stat(join(dir, CHART_FILE))).isFile();
  } catch {
    return false;
  }
}

/**
 * Renders the chart at `dir` with the real `helm template` (see docs/adr/0013-helm-rendering.md).
 * Hardening, as for kustomize: helm sees a private copy of the chart (regular files only, links
 * followed only inside the repository, counted against the render's budget), its values as files
 * in a private directory, and an environment of its own (HOME, cache, config and data homes in
 * that directory; no plugins; no KUBECONFIG; an HTTP proxy that goes nowhere). Values never become
 * arguments, and every flag is written `--flag=value` with values checked by the spec reader.
 * Dependencies must already be in charts/ (helm template never downloads them; we say which is
 * missing before helm does). Hooks become Argo CD hooks (helm-hooks.ts).
 */
export async function renderChart(
  root: string,
  dir: string,
  budget: RenderBudget,
  settings: ChartSettings,
  options: HelmOptions = {},
  report?: (note: RenderNote) => void,
  /** A chart from elsewhere (a Helm repository, extracted); `root`/`dir` then only anchor valuesFiles. */
  chartFrom?: { root: string; dir: string; label: string },
): Promise<RenderedObject[]> {
  const valuesBase = label(root, dir);
  const where = chartFrom?.label ?? valuesBase;
  const spec = settings.spec;
  const binary = options.binary ?? 'helm';
  const executable = await findExecutable(binary, options.searchPath ?? process.env.PATH ?? '', () =>
    transient('HelmUnavailable', `cannot find the helm binary ${JSON.stringify(binary)} (the agent's --helm-binary)`),
  );
  const home = await mkdtemp(join(tmpdir(), 'tidemark-helm-'));
  try {
    const chartCopy = join(home, 'chart');
    await copyChart(chartFrom?.root ?? root, chartFrom?.dir ?? dir, chartCopy, budget, where);
    await refuseMissingDependencies(chartCopy, where);
    const args = ['template', `--namespace=${settings.namespace}`];
    if (spec?.includeCRDs ?? true) args.push('--include-crds');
    if (spec?.kubeVersion) args.push(`--kube-version=${spec.kubeVersion}`);
    for (const v of spec?.apiVersions ?? []) args.push(`--api-versions=${v}`);
    let n = 0;
    for (const file of spec?.valuesFiles ?? []) {
      const copy = join(home, `values-${++n}.yaml`);
      await writeFile(copy, await readValuesFile(root, valuesBase, file, budget), { mode: 0o600 });
      args.push(`--values=${copy}`);
    }
    if (spec?.values !== undefined) {
      const inline = join(home, 'values-inline.json');
      await writeFile(inline, JSON.stringify(spec.values), { mode: 0o600 });
      args.push(`--values=${inline}`);
    }
    args.push('--', settings.releaseName, chartCopy);

    const remainingMs = budget.remainingMs();
    const ownTimeout = options.timeoutMs !== undefined && options.timeoutMs <= remainingMs;
    const timeoutMs = ownTimeout ? options.timeoutMs! : remainingMs;
    const bytesLeft = budget.bytesLeft();
    const ownMaxBytes = MAX_KUSTOMIZE_OUTPUT_BYTES <= bytesLeft;
    const maxBytes = ownMaxBytes ? MAX_KUSTOMIZE_OUTPUT_BYTES : bytesLeft;
    const signal = budget.signal;
    const run = await runBounded(executable, args, {
      cwd: home,
      env: {
        PATH: '',
        HOME: home,
        HELM_CACHE_HOME: join(home, 'cache'),
        HELM_CONFIG_HOME: join(home, 'config'),
        HELM_DATA_HOME: join(home, 'data'),
        HELM_PLUGINS: join(home, 'plugins'),
        HELM_REGISTRY_CONFIG: join(home, 'config', 'registry.json'),
        HELM_REPOSITORY_CONFIG: join(home, 'config', 'repositories.yaml'),
        HELM_REPOSITORY_CACHE: join(home, 'cache', 'repository'),
        KUBECONFIG: '/dev/null',
        HTTP_PROXY: 'http://127.0.0.1:9',
        HTTPS_PROXY: 'http://127.0.0.1:9',
        NO_PROXY: '',
      },
      timeoutMs,
      maxBytes,
      signal,
      unavailable: 'HelmUnavailable',
    });
    if (run.aborted) throw signal?.reason ?? new Error('aborted');
    if (run.timedOut) {
      if (!ownTimeout) throw budget.timeExceeded();
      throw terminal('HelmTemplateFailed', `helm template of ${where} took longer than ${timeoutMs / 1000}s`, 'simplify the chart');
    }
    if (run.overflow) {
      if (!ownMaxBytes) throw budget.bytesExceeded();
      throw manifestTooLarge(`the output of helm template of ${where}`, maxBytes, 'render fewer objects per deployment');
    }
    if (run.code !== 0) {
      // Our private paths mean nothing to the user: the chart copy reads as the chart's own path.
      const said = shorten(run.stderr.split(chartCopy).join(where).split(home).join('.').split(root).join('.'));
      throw terminal(
        'HelmTemplateFailed',
        `helm template of ${where} failed: ${said || `exit code ${run.code ?? run.signal}`}`,
        'fix the chart or its values in Git (or spec.helm)',
      );
    }
    budget.bytes(Buffer.byteLength(run.stdout));
    const rendered = parseManifests(run.stdout, `${where} (helm template)`);
    budget.objects(rendered.length);
    const out: RenderedObject[] = [];
    const skipped: SkippedHook[] = [];
    for (const r of rendered) {
      const mapped = mapHelmHook(r.object);
      if ('skipped' in mapped) skipped.push({ object: r.object, hooks: mapped.skipped });
      else out.push({ object: mapped.object, source: r.source });
    }
    if (skipped.length > 0) report?.({ reason: 'HelmHookSkipped', message: describeSkippedHooks(skipped) });
    return out;
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/**
 * A chart from a Helm repository (spec.helm.chart): fetched and extracted within the render's
 * deadline and bounds (chart-repository.ts), then rendered as a chart from Git is, with valuesFiles
 * still read from the checkout relative to spec.path. A fetch that fails is transient and the run
 * stops before anything is applied or pruned.
 */
export async function renderRepositoryChart(
  root: string,
  dir: string,
  budget: RenderBudget,
  settings: ChartSettings,
  options: HelmOptions = {},
  report?: (note: RenderNote) => void,
): Promise<RenderedObject[]> {
  const source = settings.spec?.chart;
  if (!source) throw terminal('InternalError', 'renderRepositoryChart without spec.helm.chart');
  const scratch = await mkdtemp(join(tmpdir(), 'tidemark-chart-'));
  try {
    const fetchOptions = {
      auth: settings.auth,
      signal: budget.signal,
      limits: {
        timeoutMs: budget.remainingMs(),
        tar: { maxFiles: budget.limits.maxFiles, maxBytes: Math.max(1, budget.bytesLeft()) },
      },
    };
    let fetched: { version: string; dir: string };
    if (source.repository.startsWith('oci://')) {
      if (!options.registry) throw terminal('InternalError', 'no registry client for an oci:// chart');
      fetched = await fetchOciChart(source, join(scratch, 'chart'), { ...fetchOptions, registry: options.registry });
    } else fetched = await fetchChart(source, join(scratch, 'chart'), fetchOptions);
    const chartLabel = `${source.name} ${fetched.version} from ${source.repository}`;
    return await renderChart(root, dir, budget, settings, options, report, { root: scratch, dir: fetched.dir, label: chartLabel });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Copies the chart into helm's private directory. Every entry counts against the budget's files,
 * every byte against its bytes; links are followed only when they stay inside the repository, so
 * `.Files.Get` can never read outside it. Dot-files are copied (.helmignore matters to helm).
 */
async function copyChart(root: string, dir: string, target: string, budget: RenderBudget, where: string): Promise<void> {
  const walked = new Set<string>();
  const copyDir = async (from: string, to: string, fromLabel: string): Promise<void> => {
    const real = await realpath(from);
    if (walked.has(real)) return;
    walked.add(real);
    budget.directory();
    await mkdir(to, { recursive: true, mode: 0o700 });
    for await (const entry of await opendir(from)) {
      budget.entry();
      const path = join(from, entry.name);
      const entryLabel = `${fromLabel}/${entry.name}`;
      let isDirectory = entry.isDirectory();
      let isFile = entry.isFile();
      let source = path;
      if (entry.isSymbolicLink()) {
        let linked: string;
        try {
          linked = await realpath(path);
        } catch {
          throw terminal('PathNotFound', `${entryLabel} is a symlink to something that does not exist`, 'fix or remove the link in Git');
        }
        if (!isWithin(root, linked)) throw outside(`symlink ${entryLabel}`);
        const info = await stat(linked);
        source = linked;
        isDirectory = info.isDirectory();
        isFile = info.isFile();
      }
      if (isDirectory) await copyDir(source, join(to, entry.name), entryLabel);
      else if (isFile) {
        // Templates, data and vendored .tgz dependencies alike: bytes, counted before they are copied.
        const size = (await stat(source)).size;
        if (size > budget.bytesLeft()) throw budget.bytesExceeded();
        budget.file(size);
        await copyFile(source, join(to, entry.name), constants.COPYFILE_EXCL);
      }
    }
  };
  await copyDir(dir, target, where);
}

/**
 * helm template renders only what charts/ holds; a dependency it would have to download fails
 * inside helm with a message about `helm dependency build`. We name it first, and say why
 * nothing is downloaded.
 */
async function refuseMissingDependencies(chartDir: string, where: string): Promise<void> {
  const deps = await declaredDependencies(chartDir, where);
  if (deps.length === 0) return;
  const vendored = new Set<string>();
  try {
    for await (const entry of await opendir(join(chartDir, 'charts'))) vendored.add(entry.name);
  } catch {
    // no charts/ directory: every dependency is missing
  }
  const missing = deps.filter(
    (d) =>
      !vendored.has(d.name) &&
      ![...vendored].some((f) => f.startsWith(`${d.name}-`) && f.endsWith('.tgz') && /^[0-9v]/.test(f.slice(d.name.length + 1))),
  );
  if (missing.length === 0) return;
  const names = missing.map((d) => `${d.name}${d.version ? ` ${d.version}` : ''}${d.repository ? ` from ${d.repository}` : ''}`);
  throw terminal(
    'HelmDependencyMissing',
    `the chart ${where} depends on ${names.join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} not in its charts/ ` +
      'directory; the agent never downloads chart dependencies',
    'vendor them: run `helm dependency build` and commit charts/*.tgz',
  );
}

async function declaredDependencies(
  chartDir: string,
  where: string,
): Promise<Array<{ name: string; version?: string; repository?: string }>> {
  const out: Array<{ name: string; version?: string; repository?: string }> = [];
  for (const file of [CHART_FILE, 'requirements.yaml']) {
    let text: string;
    try {
      text = await readFile(join(chartDir, file), 'utf8');
    } catch {
      continue;
    }
    const parsed = parseYaml(text);
    if (!parsed.ok) {
      throw terminal(
        'HelmTemplateFailed',
        `${where}/${file}: ${parsed.error.line}:${parsed.error.col}: ${parsed.error.message}`,
        'fix the YAML in Git',
      );
    }
    const doc = parsed.documents[0]?.value;
    const deps = isObject(doc) && Array.isArray(doc.dependencies) ? doc.dependencies : [];
    for (const d of deps) {
      if (!isObject(d) || typeof d.name !== 'string') continue;
      out.push({
        name: d.name,
        ...(typeof d.version === 'string' ? { version: d.version } : {}),
        ...(typeof d.repository === 'string' && d.repository !== '' ? { repository: d.repository } : {}),
      });
    }
  }
  return out;
}

/** A spec.helm.valuesFiles entry: relative to spec.path, inside the repository, read within the budget. */
async function readValuesFile(root: string, where: string, file: string, budget: RenderBudget): Promise<string> {
  const relative = posix.join(where === '.' ? '' : where, file);
  const path = await resolveInside(root, relative);
  let info;
  try {
    info = await stat(path);
  } catch {
    throw terminal('PathNotFound', `spec.helm.valuesFiles: ${relative} does not exist in the repository`, 'fix spec.helm.valuesFiles');
  }
  if (!info.isFile()) throw terminal('PathNotFound', `spec.helm.valuesFiles: ${relative} is not a file`, 'fix spec.helm.valuesFiles');
  return readFileWithin(path, budget, relative);
}

function shorten(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const text = lines.slice(-3).join('; ');
  return text.length > MAX_STDERR_SHOWN ? `${text.slice(0, MAX_STDERR_SHOWN - 3)}...` : text;
}
