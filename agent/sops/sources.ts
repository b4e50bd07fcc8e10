import { lstat, opendir, readFile, realpath } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { isObject } from '../../shared/kube/object.ts';
import { decryptDocument, isSopsEncrypted, type SopsKeys } from './decrypt.ts';
import { decryptFlatFile, parseSopsDotenv, parseSopsIni, sopsFormatOf } from './formats.ts';

/** Bounds of the scan: it reads files only to verify them, never more than this. */
const MAX_FILE_BYTES = 1024 * 1024;
const MAX_FILES = 20_000;
const EXTENSIONS = /\.(ya?ml|json|env|ini)$/i;

/**
 * The MACs of SOPS files in a checkout that verify with these keys. A kustomization may change
 * an encrypted object on its way (a namespace, a name prefix, labels), after which the object's
 * MAC no longer matches its values. Flux decrypts the files before the build for that reason,
 * which writes plaintext to disk; instead each file is verified here in memory (its plaintext
 * dropped at once), and a built object whose `sops.mac` is one of these is decrypted value by
 * value: each value still authenticates itself and its key path (AES-GCM), the MAC of the file
 * it came from was checked, and what the overlay changed is Git's content like any other.
 * Files that do not verify are skipped: they may belong to another deployment. Dotenv and INI
 * files are verified too, for the Secrets a secretGenerator builds from them (generated.ts).
 */
export async function verifiedSourceMacs(dir: string, keys: SopsKeys, signal?: AbortSignal): Promise<Set<string>> {
  const verified = new Set<string>();
  let files = 0;
  const walk = async (path: string): Promise<void> => {
    let entries: Awaited<ReturnType<typeof opendir>>;
    try {
      entries = await opendir(path);
    } catch {
      return; // unreadable: nothing verified there
    }
    for await (const entry of entries) {
      signal?.throwIfAborted();
      if (files >= MAX_FILES) return;
      if (entry.name === '.git') continue;
      const child = join(path, entry.name);
      if (entry.isDirectory()) await walk(child);
      else if (entry.isFile() && EXTENSIONS.test(entry.name)) {
        files++;
        await verifyFile(child, keys, verified);
      }
    }
  };
  await walk(dir);
  return verified;
}

async function verifyFile(path: string, keys: SopsKeys, verified: Set<string>): Promise<void> {
  const info = await lstat(path);
  if (info.size > MAX_FILE_BYTES) return;
  const text = await readFile(path, 'utf8');
  if (!text.includes('sops') || !text.includes('mac')) return;
  const format = sopsFormatOf(path);
  if (format === 'dotenv' || format === 'ini') {
    // A secretGenerator's envs file: the Secret built from it keeps no line order, so its MAC is checked here.
    try {
      const file = format === 'dotenv' ? parseSopsDotenv(text, path) : parseSopsIni(text, path);
      if (!file) return;
      await decryptFlatFile(file, keys, path);
      verified.add(file.meta.mac as string);
    } catch {
      // As below: the object built from it reports why.
    }
    return;
  }
  let docs: unknown[];
  try {
    docs = parseAllDocuments(text).map((d) => d.toJS() as unknown);
  } catch {
    return;
  }
  for (const doc of docs) {
    if (!isObject(doc) || !isSopsEncrypted(doc)) continue;
    try {
      await decryptDocument(doc, keys, path);
      verified.add((doc.sops as { mac: string }).mac);
    } catch {
      // Not ours to judge here: the object built from it, if any, reports why.
    }
  }
}

const KUSTOMIZATIONS = new Set(['kustomization.yaml', 'kustomization.yml', 'Kustomization']);

/**
 * The MACs of the SOPS files that kustomizations in the checkout feed to a secretGenerator or
 * configMapGenerator (`files`, `envs`). Only a generated value whose SOPS file is one of these is
 * decrypted (generated.ts): a Secret or ConfigMap written in Git that carries an encrypted file
 * for its application to open stays as written, as in Flux. Paths outside the checkout are not
 * followed (kustomize's own load restrictor refused them already).
 */
export async function generatorSourceMacs(dir: string, signal?: AbortSignal): Promise<Set<string>> {
  const macs = new Set<string>();
  let root: string;
  try {
    root = await realpath(dir);
  } catch {
    return macs; // unreadable: no generator there
  }
  let seen = 0;
  const walk = async (path: string): Promise<void> => {
    let entries: Awaited<ReturnType<typeof opendir>>;
    try {
      entries = await opendir(path);
    } catch {
      return;
    }
    for await (const entry of entries) {
      signal?.throwIfAborted();
      if (seen++ >= MAX_FILES) return;
      if (entry.name === '.git') continue;
      const child = join(path, entry.name);
      if (entry.isDirectory()) await walk(child);
      else if (entry.isFile() && KUSTOMIZATIONS.has(entry.name)) {
        for (const file of await generatorFiles(child)) {
          const mac = await sopsMacOf(root, file);
          if (mac !== undefined) macs.add(mac);
        }
      }
    }
  };
  await walk(root);
  return macs;
}

/** The files and envs a kustomization's generators read, as paths. */
async function generatorFiles(kustomization: string): Promise<string[]> {
  let config: unknown;
  try {
    if ((await lstat(kustomization)).size > MAX_FILE_BYTES) return [];
    config = parseYaml(await readFile(kustomization, 'utf8'));
  } catch {
    return [];
  }
  if (!isObject(config)) return [];
  const out: string[] = [];
  for (const field of ['secretGenerator', 'configMapGenerator']) {
    const generators = config[field];
    if (!Array.isArray(generators)) continue;
    for (const generator of generators) {
      if (!isObject(generator)) continue;
      const strings = (value: unknown) => (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
      // `files: [key=path]` names the data key before the path.
      for (const file of strings(generator.files)) out.push(file.includes('=') ? file.slice(file.indexOf('=') + 1) : file);
      out.push(...strings(generator.envs), ...strings(generator.env));
    }
  }
  return out.map((p) => join(dirname(kustomization), p));
}

/** The `sops.mac` of a file inside `root` in any format sops writes; undefined when it is none. */
async function sopsMacOf(root: string, path: string): Promise<string | undefined> {
  let text: string;
  try {
    const real = await realpath(path);
    if (!real.startsWith(`${root}${sep}`) || (await lstat(real)).size > MAX_FILE_BYTES) return undefined;
    text = await readFile(real, 'utf8');
  } catch {
    return undefined;
  }
  if (!text.includes('sops') || !text.includes('mac')) return undefined;
  try {
    const flat = parseSopsDotenv(text, path) ?? parseSopsIni(text, path);
    if (typeof flat?.meta.mac === 'string') return flat.meta.mac;
  } catch {
    // Not dotenv or INI: YAML or JSON below.
  }
  try {
    const doc = (text.trimStart().startsWith('{') ? JSON.parse(text) : parseYaml(text)) as unknown;
    if (isObject(doc) && isSopsEncrypted(doc)) return (doc.sops as { mac: string }).mac;
  } catch {
    // Not a SOPS file.
  }
  return undefined;
}
