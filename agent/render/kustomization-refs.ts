import { lstat, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { terminal } from '../../shared/errors/index.ts';
import { isObject } from '../../shared/kube/object.ts';
import type { RenderBudget } from './limits.ts';
import { readFileWithin } from './limits.ts';
import { isWithin, label, outside, realpathOrUndefined } from './paths.ts';
import { isRemoteFile, isRemoteRepo } from './remote.ts';
import { parseYaml } from './yaml.ts';

export const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

/**
 * How kustomize reads a value (api/internal/target/kusttarget.go and the builtin plugins):
 *
 * - `build`: resources, bases — a file it loads, failing that a directory it builds.
 * - `directory`: components — a directory it builds.
 * - `plugin`: generators, transformers, validators — an inline plugin configuration when the
 *   value parses as one, otherwise as `build`; the configurations themselves may name files.
 * - `patch`: patchesStrategicMerge — an inline patch when the value parses as one, else a file.
 * - `file`: every other path (patches, patchesJson6902, replacements, crds, configurations,
 *   openapi, generator files and envs, helm) — a file it loads.
 */
type Reading = 'build' | 'directory' | 'plugin' | 'patch' | 'file';

interface Reference {
  /** The field as messages name it: `resource`, `configMapGenerator file`, ... */
  field: string;
  value: string;
  reading: Reading;
}

interface Check {
  root: string;
  budget: RenderBudget;
  /** Kustomizations a directory's build instantiates, itself included, by real directory. */
  counted: Map<string, number>;
  /** The kustomizations being checked, outermost first: a reference back to one is a cycle. */
  active: Set<string>;
}

/**
 * Checks, before kustomize runs, every value a kustomization (and each one it builds on) gives
 * kustomize to read, read the way kustomize will read it:
 *
 * - the kustomization is read as kustomize decodes it (YAML to JSON, then Go's encoding/json):
 *   keys match fields case-insensitively, with Go's folding (`Resources`, and `reſources` with a
 *   long s, are `resources`); duplicate keys and tags other than !!str, !!seq and !!map (such as
 *   `!!binary`, which go-yaml decodes into a path we would not see) are refused.
 * - remote references are refused exactly when kustomize would fetch them (remote.ts), before
 *   the disk is asked anything: a local file or directory of the same name changes nothing.
 *   Renders run without network access; the build's HTTP proxy goes nowhere but loopback
 *   addresses bypass any proxy, so this check is what keeps a build off the agent's own ports.
 * - a path containing a control character is refused (kustomize would take a newline as part
 *   of a name and `x\n/../..` climbs like any other path).
 * - every path, cleaned as kustomize cleans it (filepath.Join, lexically, then symlinks resolved),
 *   must stay inside the checkout, whether or not it exists yet: kustomize's load restrictor
 *   keeps only *files* inside their kustomization's directory, and a base *directory* may be
 *   anywhere on disk, which in an agent that checks out many repositories would be another
 *   tenant's checkout. A symlink on the way that does not resolve is refused too.
 * - generators, transformers and validators may name configuration files or be inline; their
 *   configurations' own paths must not be remote. A directory there is refused: the
 *   configurations it builds cannot be known before the build.
 * - a build may instantiate at most `maxFiles` kustomizations (a base counted each time it is
 *   included), so a lattice of bases cannot make kustomize's work exponential.
 *
 * With every directory kustomize builds inside the checkout, every file it loads is too: its
 * load restrictor (pinned to root-only) resolves each file's symlinks and keeps it in or below
 * the directory of the kustomization that names it.
 */
export async function checkKustomizationReferences(root: string, dir: string, budget: RenderBudget): Promise<void> {
  const check: Check = { root, budget, counted: new Map(), active: new Set() };
  await visit(check, dir);
}

async function visit(check: Check, dir: string): Promise<number> {
  const known = check.counted.get(dir);
  if (known !== undefined) return known;
  if (check.active.has(dir)) return 0; // a cycle: kustomize refuses it
  check.budget.check();
  const file = await findKustomizationFile(dir);
  if (!file) return 1; // kustomize says it is missing
  check.active.add(dir);
  const where = label(check.root, file);
  const realFile = await realpathOrUndefined(file);
  if (realFile === undefined || !isWithin(check.root, realFile)) throw outside(where);
  const config = readKustomizeYaml(await readFileWithin(realFile, check.budget, where), where)[0];
  let count = 1;
  if (isObject(config)) {
    for (const ref of references(config)) {
      const nested = await checkReference(check, dir, where, ref);
      if (nested === undefined) continue;
      count += await visit(check, nested);
      check.budget.kustomizations(count, label(check.root, dir));
    }
  }
  check.active.delete(dir);
  check.counted.set(dir, count);
  return count;
}

/** Checks one value; returns the real directory of a kustomization it builds on, if any. */
async function checkReference(check: Check, dir: string, where: string, ref: Reference): Promise<string | undefined> {
  const { value, reading, field } = ref;
  const what = `${where}: ${field} ${JSON.stringify(value)}`;
  if (remote(reading, value)) {
    throw terminal(
      'KustomizeBuildFailed',
      `${where}: remote ${field} ${JSON.stringify(value)} is not fetched: renders run without network access`,
      'vendor it into the repository and refer to it by a relative path',
    );
  }
  const parsed = reading === 'plugin' || reading === 'patch' ? inlineDocuments(value) : undefined;
  const inline = parsed && 'documents' in parsed ? parsed.documents : undefined;
  const control = /\p{Cc}/u.exec(value)?.[0].codePointAt(0);
  if (control !== undefined && (inline === undefined || value.includes('\0'))) {
    const code = `U+${control.toString(16).toUpperCase().padStart(4, '0')}`;
    const notInline = parsed && 'error' in parsed ? ` is not inline YAML we can read (${parsed.error}) and, as a path,` : '';
    throw terminal(
      'KustomizeBuildFailed',
      `${what}${notInline} contains the control character ${code}; kustomize would read it as part of a path`,
      notInline ? 'fix the inline YAML, or write the path on one line' : 'write each path on one line, without control characters',
    );
  }
  // Inline or not, the value is also vetted as the path kustomize takes it for when it does not
  // parse as inline YAML for kustomize (whose parser is not ours).
  const target = await confine(check.root, dir, value, what);
  if (reading === 'plugin') {
    for (const config of inline ?? []) checkPluginConfig(config, where, ref);
    if (target?.directory) {
      throw terminal(
        'KustomizeBuildFailed',
        `${what} is a directory: the plugin configurations a kustomization builds cannot be checked before the build`,
        'list the configuration files themselves, or write them inline',
      );
    }
    if (target) {
      const text = await readFileWithin(target.real, check.budget, label(check.root, target.real));
      for (const config of readKustomizeYaml(text, `${where}: ${field} ${label(check.root, target.real)}`)) {
        checkPluginConfig(config, where, ref);
      }
    }
    return undefined;
  }
  return (reading === 'build' || reading === 'directory') && target?.directory ? target.real : undefined;
}

function remote(reading: Reading, value: string): boolean {
  switch (reading) {
    case 'build':
    case 'plugin':
      return isRemoteFile(value) || isRemoteRepo(value);
    case 'directory':
      return isRemoteRepo(value);
    case 'patch':
    case 'file':
      return isRemoteFile(value);
  }
}

/**
 * Where `value`, taken by kustomize as a path relative to the kustomization directory `dir`
 * (filepath.Join: lexical cleaning first, symlinks resolved after), leads: refused when that is
 * outside the checkout, lexically or through a symlink, or through a symlink that does not
 * resolve (whose target could appear later). Undefined when nothing is there (kustomize then
 * reports it missing).
 */
async function confine(root: string, dir: string, value: string, what: string): Promise<{ real: string; directory: boolean } | undefined> {
  const lexical = resolve(dir, value);
  if (!isWithin(root, lexical)) throw outside(what);
  let existing = lexical;
  while (existing !== root && !(await exists(existing))) existing = dirname(existing);
  const real = await realpathOrUndefined(existing);
  if (real === undefined) {
    throw terminal(
      'PathOutsideCheckout',
      `${what} leads through a symlink that does not resolve`,
      'fix or remove the link in Git; links must point inside the repository',
    );
  }
  if (!isWithin(root, real)) throw outside(what);
  if (existing !== lexical) return undefined;
  return { real, directory: (await stat(real)).isDirectory() };
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The documents of an inline plugin configuration or patch, or why the value is none (then
 * kustomize reads it as a path): it must parse as one or more mappings.
 */
function inlineDocuments(value: string): { documents: Record<string, unknown>[] } | { error: string } {
  const parsed = parseYaml(value, { untagged: true });
  if (!parsed.ok) return { error: `${parsed.error.line}:${parsed.error.col}: ${parsed.error.message}` };
  const documents = parsed.documents.map((d) => d.value).filter((v) => v !== null && v !== undefined);
  return documents.length > 0 && documents.every(isObject) ? { documents } : { error: 'not a mapping' };
}

/** The plugin configuration paths kustomize loads (builtin plugins: nothing else can run). */
function checkPluginConfig(config: unknown, where: string, ref: Reference): void {
  if (!isObject(config)) return;
  for (const items of fields(config, 'items')) {
    if (Array.isArray(items)) for (const item of items) checkPluginConfig(item, where, ref);
  }
  const paths: string[] = [
    ...strings(fields(config, 'path')),
    ...strings(fields(config, 'targetFilePath')),
    ...strings(fields(config, 'env')),
    ...strings(fields(config, 'valuesFile')),
    ...['paths', 'envs', 'additionalValuesFiles'].flatMap((name) => strings(lists(config, name))),
    ...strings(lists(config, 'files')).flatMap(fileSources),
    ...objects(lists(config, 'replacements')).flatMap((r) => strings(fields(r, 'path'))),
  ];
  for (const path of paths) {
    if (!isRemoteFile(path)) continue;
    const kind = typeof config.kind === 'string' ? `${config.kind} ` : '';
    throw terminal(
      'KustomizeBuildFailed',
      `${where}: ${kind}configuration of ${ref.field} ${JSON.stringify(ref.value)} names the remote file ` +
        `${JSON.stringify(path)}, which is not fetched: renders run without network access`,
      'vendor it into the repository and refer to it by a relative path',
    );
  }
}

/** A kustomization or plugin configuration, read for what kustomize will see in it. */
function readKustomizeYaml(text: string, where: string): unknown[] {
  const parsed = parseYaml(text, { untagged: true });
  if (!parsed.ok) {
    const { line, col, message } = parsed.error;
    throw terminal('KustomizeBuildFailed', `${where}:${line}:${col}: ${message}`, 'fix the kustomization in Git');
  }
  return parsed.documents.map((d) => d.value);
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

/**
 * The values of every key Go's encoding/json would decode into the field `name`: it matches
 * keys case-insensitively with Unicode simple folding, under which the long s (U+017F) is an
 * s and the Kelvin sign (U+212A) a k. All are returned (kustomize keeps the last; checking
 * every one is the safe superset).
 */
function fields(object: Record<string, unknown>, name: string): unknown[] {
  const folded = name.toLowerCase();
  return Object.keys(object)
    .filter((key) => goFold(key) === folded)
    .map((key) => object[key]);
}

function goFold(key: string): string {
  return key.replace(/[A-Z\u017F\u212A]/g, (c) => (c === '\u017F' ? 's' : c === '\u212A' ? 'k' : c.toLowerCase()));
}

function lists(object: Record<string, unknown>, name: string): unknown[] {
  return fields(object, name).flatMap((v) => (Array.isArray(v) ? (v as unknown[]) : []));
}

function strings(values: unknown[]): string[] {
  return values.filter((v): v is string => typeof v === 'string' && v !== '');
}

function objects(values: unknown[]): Array<Record<string, unknown>> {
  return values.filter(isObject);
}

/** A generator's `files` entry, `path` or `key=path` (generators.ParseFileSource); both readings. */
function fileSources(source: string): string[] {
  const at = source.indexOf('=');
  return at < 0 ? [source] : [source, source.slice(at + 1)].filter((s) => s !== '');
}

function references(config: Record<string, unknown>): Reference[] {
  const out: Reference[] = [];
  const add = (field: string, reading: Reading, values: string[]) => {
    for (const value of values) out.push({ field, value, reading });
  };
  const paths = (list: unknown[]) => objects(list).flatMap((o) => strings(fields(o, 'path')));

  add('resource', 'build', strings(lists(config, 'resources')));
  add('base', 'build', strings(lists(config, 'bases')));
  add('component', 'directory', strings(lists(config, 'components')));
  add('generator', 'plugin', strings(lists(config, 'generators')));
  add('transformer', 'plugin', strings(lists(config, 'transformers')));
  add('validator', 'plugin', strings(lists(config, 'validators')));
  add('patch', 'patch', strings(lists(config, 'patchesStrategicMerge')));
  add('patch', 'file', paths(lists(config, 'patches')));
  add('patch', 'file', paths(lists(config, 'patchesJson6902')));
  add('replacement', 'file', paths(lists(config, 'replacements')));
  add('crd', 'file', strings(lists(config, 'crds')));
  add('configuration', 'file', strings(lists(config, 'configurations')));
  add('openapi', 'file', paths(fields(config, 'openapi')));
  for (const field of ['configMapGenerator', 'secretGenerator']) {
    for (const generator of objects(lists(config, field))) {
      add(`${field} file`, 'file', strings(lists(generator, 'files')).flatMap(fileSources));
      add(`${field} env`, 'file', [...strings(lists(generator, 'envs')), ...strings(fields(generator, 'env'))]);
    }
  }
  for (const globals of objects(fields(config, 'helmGlobals'))) {
    add('helm chart home', 'file', [...strings(fields(globals, 'chartHome')), ...strings(fields(globals, 'configHome'))]);
  }
  for (const chart of objects(lists(config, 'helmCharts'))) {
    add('helm values', 'file', [...strings(fields(chart, 'valuesFile')), ...strings(lists(chart, 'additionalValuesFiles'))]);
  }
  for (const chart of objects(lists(config, 'helmChartInflationGenerator'))) {
    add('helm chart home', 'file', [...strings(fields(chart, 'chartHome')), ...strings(fields(chart, 'values'))]);
  }
  return out;
}
