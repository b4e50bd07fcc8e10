import type { Dirent } from 'node:fs';
import { opendir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { terminal } from '../../shared/errors/index.ts';
import { isObject } from '../../shared/kube/object.ts';
import { KUSTOMIZATION_FILES } from './kustomization-refs.ts';
import type { RenderBudget } from './limits.ts';
import { readFileWithin } from './limits.ts';
import { parseManifests } from './manifests.ts';
import { isWithin, label, outside, realpathOrUndefined } from './paths.ts';
import type { RenderedObject } from './types.ts';
import { parseYaml } from './yaml.ts';

const MANIFEST = /\.(?:ya?ml|json)$/i;

interface ManifestFile {
  /** The real path: the key under which the file is read once. */
  path: string;
  /** Checkout-relative, `/`-separated: where the walk first met the file. */
  label: string;
  /** Read as manifests: the walk met it under a .yaml, .yml or .json name. */
  manifest: boolean;
  /** Met under a kustomization file name: the label there and the directory holding it. */
  kustomization?: { label: string; dirLabel: string };
}

interface Walk {
  root: string;
  budget: RenderBudget;
  /** Real paths of the directories walked, each once. */
  walked: Set<string>;
  /** The files to read, by real path, in the order the walk first met them. */
  files: Map<string, ManifestFile>;
}

/**
 * Every manifest under `dir` (a real path inside the real `root`), recursively.
 *
 * - Order: each directory's entries sorted by the bytes of their UTF-8 names, directories walked
 *   where they sort (Go's filepath.Walk order, as Argo CD walks), so the result never depends on
 *   the file system or the locale.
 * - Names starting with a dot are skipped, files and directories alike: `.git`, `.github`, and
 *   CI or linter configs such as `.gitlab-ci.yml` are not Kubernetes objects.
 * - Symlinks are followed when their real target stays inside the checkout; one that leaves it
 *   is PathOutsideCheckout, wherever it is (as Argo CD refuses out-of-bounds links).
 * - Each real directory is walked once and each real file read and rendered once, however many
 *   links lead to it: a link back to a directory being walked is not walked again, and neither
 *   is a directory (or a file) that a second link reaches. The file's objects appear where the
 *   walk first met it, under that name. (So a repository of links that fan out to the same
 *   directories costs what its real files cost, not one walk per path through the links; an
 *   object defined twice in *different* files is still DuplicateObject.)
 * - A kustomization below the top is refused rather than read as plain files: its output would
 *   differ from its files, and only `spec.path` itself is checked for one.
 * - Bounded by the budget: entries read, bytes read, objects, and the deadline (RenderTooLarge).
 */
export async function renderPlainDirectory(root: string, dir: string, budget: RenderBudget): Promise<RenderedObject[]> {
  const state: Walk = { root, budget, walked: new Set([dir]), files: new Map() };
  budget.directory();
  await walk(state, dir, label(root, dir));
  const out: RenderedObject[] = [];
  for (const file of state.files.values()) {
    budget.check();
    const text = await readFileWithin(file.path, budget, file.label);
    if (file.kustomization) refuseNestedKustomization(text, file.kustomization.label, file.kustomization.dirLabel);
    if (!file.manifest) continue;
    const objects = parseManifests(text, file.label);
    budget.objects(objects.length);
    out.push(...objects);
  }
  return out;
}

async function walk(state: Walk, dir: string, dirLabel: string): Promise<void> {
  const { root, budget } = state;
  const entries = (await listDirectory(dir, budget)).sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    const entryLabel = dirLabel === '.' ? entry.name : `${dirLabel}/${entry.name}`;
    let real = path;
    let isDirectory = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      const target = await realpathOrUndefined(path);
      if (target === undefined) {
        if (!MANIFEST.test(entry.name)) continue;
        throw terminal('PathNotFound', `${entryLabel} is a symlink to something that does not exist`, 'fix or remove the link in Git');
      }
      if (!isWithin(root, target)) throw outside(`symlink ${entryLabel}`);
      const info = await stat(target);
      real = target;
      isDirectory = info.isDirectory();
      isFile = info.isFile();
    }
    if (isDirectory) {
      if (state.walked.has(real)) continue;
      state.walked.add(real);
      budget.directory();
      await walk(state, real, entryLabel);
    } else if (isFile) {
      const manifest = MANIFEST.test(entry.name);
      const kustomization = KUSTOMIZATION_FILES.includes(entry.name) ? { label: entryLabel, dirLabel } : undefined;
      if (!manifest && !kustomization) continue;
      const seen = state.files.get(real);
      if (!seen) {
        state.files.set(real, { path: real, label: entryLabel, manifest, ...(kustomization ? { kustomization } : {}) });
        continue;
      }
      // Read once, under its first name; a later name still adds what that name means.
      if (manifest && !seen.manifest) {
        seen.manifest = true;
        seen.label = entryLabel;
      }
      if (kustomization && !seen.kustomization) seen.kustomization = kustomization;
    }
  }
}

/** The entries of one directory, each counted before it is kept: a huge directory stops at the limit. */
async function listDirectory(dir: string, budget: RenderBudget): Promise<Dirent[]> {
  const entries: Dirent[] = [];
  for await (const entry of await opendir(dir)) {
    budget.entry();
    entries.push(entry);
  }
  return entries;
}

/**
 * A Flux `Kustomization` object may well live in a file called kustomization.yaml; a kustomize
 * configuration (its apiVersion, or no kind at all) may not.
 */
function refuseNestedKustomization(text: string, fileLabel: string, dirLabel: string): void {
  const parsed = parseYaml(text);
  if (!parsed.ok) return; // reported as ManifestParseFailed when read as a manifest
  const first = parsed.documents.find((d) => d.value !== null && d.value !== undefined)?.value;
  if (parsed.documents.length > 1 || !isObject(first)) return;
  const apiVersion = typeof first.apiVersion === 'string' ? first.apiVersion : '';
  if (first.kind === undefined || apiVersion.startsWith('kustomize.config.k8s.io/')) {
    throw terminal(
      'ManifestInvalid',
      `${fileLabel} is a kustomization below the rendered path; it is not built (only the top of spec.path is checked for a kustomization)`,
      `set spec.path to ${dirLabel}, or add a kustomization.yaml at the top of spec.path that lists it`,
    );
  }
}
