import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { terminal } from '../../shared/errors/index.ts';
import { isObject } from '../../shared/kube/object.ts';
import { KUSTOMIZATION_FILES } from './kustomization-refs.ts';
import { parseManifests } from './manifests.ts';
import { isWithin, label, outside, realpathOrUndefined } from './paths.ts';
import { readManifestFile } from './size-limits.ts';
import type { RenderedObject } from './types.ts';
import { parseYaml } from './yaml.ts';

const MANIFEST = /\.(?:ya?ml|json)$/i;

interface ManifestFile {
  path: string;
  /** Checkout-relative, `/`-separated. */
  label: string;
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
 *   is PathOutsideCheckout, wherever it is (as Argo CD refuses out-of-bounds links). A link back
 *   to a directory being walked is not walked again.
 * - A kustomization below the top is refused rather than read as plain files: its output would
 *   differ from its files, and only `spec.path` itself is checked for one.
 */
export async function renderPlainDirectory(root: string, dir: string): Promise<RenderedObject[]> {
  const files: ManifestFile[] = [];
  await walk(root, dir, label(root, dir), new Set([dir]), files);
  const out: RenderedObject[] = [];
  for (const file of files) {
    out.push(...parseManifests(await readManifestFile(file.path, file.label), file.label));
  }
  return out;
}

async function walk(root: string, dir: string, dirLabel: string, ancestors: Set<string>, files: ManifestFile[]): Promise<void> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
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
      if (ancestors.has(real)) continue;
      await walk(root, real, entryLabel, new Set([...ancestors, real]), files);
    } else if (isFile) {
      if (KUSTOMIZATION_FILES.includes(entry.name)) await refuseNestedKustomization(real, entryLabel, dirLabel);
      if (MANIFEST.test(entry.name)) files.push({ path: real, label: entryLabel });
    }
  }
}

/**
 * A Flux `Kustomization` object may well live in a file called kustomization.yaml; a kustomize
 * configuration (its apiVersion, or no kind at all) may not.
 */
async function refuseNestedKustomization(path: string, fileLabel: string, dirLabel: string): Promise<void> {
  const parsed = parseYaml(await readManifestFile(path, fileLabel));
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
