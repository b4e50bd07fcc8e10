import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { terminal } from '../../shared/errors/index.ts';
import { isObject } from '../../shared/kube/object.ts';
import type { RenderBudget } from './limits.ts';
import { readFileWithin } from './limits.ts';
import { isWithin, label, outside, realpathOrUndefined } from './paths.ts';
import { parseYaml } from './yaml.ts';

export const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

interface Reference {
  field: string;
  value: string;
  /** A directory here is another kustomization, whose own references are checked in turn. */
  nested: boolean;
}

/**
 * Checks, before kustomize runs, every path a kustomization (and each one it builds on) names:
 *
 * - each must stay inside the checkout once symlinks are resolved. kustomize's load restrictor
 *   only keeps *files* inside their own kustomization's directory; a base *directory* may be
 *   anywhere on disk (`resources: [../../../other-checkout]`), which in an agent that checks out
 *   many repositories would read another tenant's files.
 * - remote references (URLs, `github.com/...`, `git@...`) are refused: renders run offline.
 *   (The build also runs without git on its PATH and with an unusable HTTP proxy, so a form
 *   this check does not recognise still cannot reach the network.)
 *
 * References that do not exist locally and do not look remote are left for kustomize to report.
 *
 * A build may instantiate at most `maxFiles` kustomizations (a base counted each time it is
 * included), so a lattice of bases cannot make kustomize's work exponential; each kustomization
 * file is read once.
 */
export async function checkKustomizationReferences(root: string, dir: string, budget: RenderBudget): Promise<void> {
  /** Kustomizations a directory's build instantiates, itself included, by real directory. */
  const counted = new Map<string, number>();
  /** The kustomizations being checked: a reference back to one is a cycle (kustomize refuses it). */
  const active = new Set<string>();
  const visit = async (kustomizationDir: string): Promise<number> => {
    const known = counted.get(kustomizationDir);
    if (known !== undefined) return known;
    if (active.has(kustomizationDir)) return 0;
    budget.check();
    const file = await findKustomizationFile(kustomizationDir);
    if (!file) return 1;
    active.add(kustomizationDir);
    const where = label(root, file);
    const realFile = await realpathOrUndefined(file);
    if (realFile === undefined || !isWithin(root, realFile)) throw outside(where);
    const parsed = parseYaml(await readFileWithin(realFile, budget, where));
    if (!parsed.ok) {
      const { line, col, message } = parsed.error;
      throw terminal('KustomizeBuildFailed', `${where}:${line}:${col}: ${message}`, 'fix the kustomization in Git');
    }
    const config = parsed.documents[0]?.value;
    let count = 1;
    for (const ref of isObject(config) ? references(config) : []) {
      if (ref.value.includes('\n')) continue; // an inline patch or plugin config, not a path
      const real = await realpathOrUndefined(resolve(kustomizationDir, ref.value));
      if (real === undefined) {
        if (looksRemote(ref.value)) {
          throw terminal(
            'KustomizeBuildFailed',
            `${where}: remote ${ref.field} ${JSON.stringify(ref.value)} is not fetched: renders run without network access`,
            'vendor it into the repository and refer to it by a relative path',
          );
        }
        continue;
      }
      if (!isWithin(root, real)) throw outside(`${where}: ${ref.field} ${JSON.stringify(ref.value)}`);
      if (ref.nested && (await stat(real)).isDirectory()) {
        count += await visit(real);
        budget.kustomizations(count, label(root, kustomizationDir));
      }
    }
    active.delete(kustomizationDir);
    counted.set(kustomizationDir, count);
    return count;
  };
  await visit(dir);
}

export async function findKustomizationFile(dir: string): Promise<string | undefined> {
  for (const name of KUSTOMIZATION_FILES) {
    const path = join(dir, name);
    try {
      if ((await stat(path)).isFile()) return path;
    } catch {
      // not this name
    }
  }
  return undefined;
}

/** Schemes (https:, ssh:, git::, gh:, file:), scp-like `git@host:`, and `host.tld/...` repo specs. */
function looksRemote(value: string): boolean {
  return (
    /^[a-z][a-z0-9+.-]*:/i.test(value) ||
    /^[^/@\s]+@[^/:\s]+:/.test(value) ||
    /^[a-z0-9-]+(?:\.[a-z0-9-]+)+\//i.test(value) ||
    /[?&](?:ref|version|submodules|timeout)=/.test(value)
  );
}

function references(config: Record<string, unknown>): Reference[] {
  const out: Reference[] = [];
  const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
  const objects = (value: unknown): Array<Record<string, unknown>> => (Array.isArray(value) ? value.filter(isObject) : []);
  const add = (field: string, values: string[], nested = false) => {
    for (const value of values) if (value !== '') out.push({ field, value, nested });
  };
  const one = (value: unknown): string[] => (typeof value === 'string' ? [value] : []);

  add('resource', strings(config.resources), true);
  add('base', strings(config.bases), true);
  add('component', strings(config.components), true);
  add('generator', strings(config.generators), true);
  add('transformer', strings(config.transformers), true);
  add('validator', strings(config.validators), true);
  add('crd', strings(config.crds));
  add('configuration', strings(config.configurations));
  add('patch', strings(config.patchesStrategicMerge));
  add(
    'patch',
    objects(config.patches).flatMap((p) => one(p.path)),
  );
  add(
    'patch',
    objects(config.patchesJson6902).flatMap((p) => one(p.path)),
  );
  add(
    'replacement',
    objects(config.replacements).flatMap((r) => one(r.path)),
  );
  if (isObject(config.openapi)) add('openapi', one(config.openapi.path));
  for (const field of ['configMapGenerator', 'secretGenerator']) {
    for (const generator of objects(config[field])) {
      add(
        `${field} file`,
        strings(generator.files).map((f) => f.slice(f.indexOf('=') + 1)),
      );
      add(`${field} env`, [...strings(generator.envs), ...one(generator.env)]);
    }
  }
  if (isObject(config.helmGlobals)) add('helm chart home', one(config.helmGlobals.chartHome));
  for (const chart of objects(config.helmCharts)) add('helm values', [...one(chart.valuesFile), ...strings(chart.additionalValuesFiles)]);
  return out;
}
